#pragma once
// Helpers shared by the tests: paths into the checkout and scratch folders.
#include <string>

namespace zhil::test {

std::string source_path(const std::string& relative);  // <checkout>/relative
std::string scratch_dir(const std::string& name);       // a fresh empty folder under the build tree
std::string write_file(const std::string& dir, const std::string& name, const std::string& text);

}  // namespace zhil::test
