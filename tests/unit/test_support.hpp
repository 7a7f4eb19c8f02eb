#pragma once
// Helpers shared by the tests: paths into the checkout and scratch folders.
#include <string>

#include "harness/config/config_node.hpp"

namespace zhil::test {

std::string source_path(const std::string& relative);  // <checkout>/relative
std::string scratch_dir(const std::string& name);       // a fresh empty folder under the build tree
std::string write_file(const std::string& dir, const std::string& name, const std::string& text);
// A station entry's params naming a fixture of the checkout, e.g. "fixtures/packs/zh-160kwh-16s.yaml".
ConfigNode fixture_entry(const std::string& fixture);

}  // namespace zhil::test
