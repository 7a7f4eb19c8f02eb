#include "test_support.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace zhil::test {

std::string source_path(const std::string& relative) { return std::string(ZHIL_SOURCE_DIR) + "/" + relative; }

std::string scratch_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("zhil-test-" + std::to_string(getpid())) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string write_file(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

ConfigNode fixture_entry(const std::string& fixture) {
  static int n = 0;
  const std::string dir = scratch_dir("fixture-entry-" + std::to_string(++n));
  return ConfigNode::load_file(write_file(dir, "entry.yaml", "file: " + source_path(fixture) + "\n"));
}

}  // namespace zhil::test

#include "harness/device_registry.hpp"

namespace zhil::test {

namespace {
DeviceModel decorated(const std::string& base, const ScopedDecoratedModel::Wrap& wrap) {
  const DeviceModel* b = DeviceRegistry::instance().find(base);
  DeviceModel m = *b;
  m.description = "test: " + base + ", decorated";
  m.build = [build = b->build, wrap](DeviceBuildContext& c) { return wrap(build(c)); };
  return m;
}
}  // namespace

ScopedDecoratedModel::ScopedDecoratedModel(const std::string& model, const std::string& base, Wrap wrap)
    : DeviceRegistration(model, decorated(base, wrap)) {}

}  // namespace zhil::test
