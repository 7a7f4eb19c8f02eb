#include "lab/project_paths.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace zhil::lab {
namespace fs = std::filesystem;

namespace {
// A checkout holds fixtures/stations; an installation (cmake --install, the Debian package) holds
// them under <prefix>/share/zhil, found from <prefix>/bin/zhil or from the Python module in
// <prefix>/lib/python3/dist-packages/zhil.
std::string search_up(fs::path dir) {
  for (int i = 0; i < 12 && !dir.empty(); ++i) {
    if (fs::exists(dir / "fixtures" / "stations")) return dir.string();
    if (fs::exists(dir / "share" / "zhil" / "fixtures" / "stations")) return (dir / "share" / "zhil").string();
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
  // The file this code is in: the zhil program, or the Python module that links it (the program of
  // a Python process is python3 itself).
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&find_project_root), &info) != 0 && info.dli_fname) {
    const fs::path self = fs::weakly_canonical(fs::absolute(info.dli_fname), ec);
    if (!ec)
      if (auto r = search_up(self.parent_path()); !r.empty()) return r;
  }
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
