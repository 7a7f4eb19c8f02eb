#include "lab/project_paths.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace zhil::lab {
namespace fs = std::filesystem;

namespace {
std::string search_up(fs::path dir) {
  for (int i = 0; i < 12 && !dir.empty(); ++i) {
    if (fs::exists(dir / "fixtures" / "stations")) return dir.string();
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  return "";
}
}  // namespace

std::string find_project_root() {
  if (const char* env = std::getenv("ZHIL_ROOT"); env && *env) return env;
  if (auto r = search_up(fs::current_path()); !r.empty()) return r;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    if (auto r = search_up(exe.parent_path()); !r.empty()) return r;
  return ".";
}

std::string resolve_station(const std::string& station, const std::string& scenario_dir, const std::string& root) {
  const bool is_path = station.find('/') != std::string::npos ||
                       (station.size() > 5 && station.compare(station.size() - 5, 5, ".yaml") == 0);
  if (is_path) return (fs::path(scenario_dir) / station).lexically_normal().string();
  return (fs::path(root) / "fixtures" / "stations" / (station + ".yaml")).string();
}

}  // namespace zhil::lab
