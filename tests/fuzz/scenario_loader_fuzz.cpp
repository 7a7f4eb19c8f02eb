// libFuzzer target: a scenario file, YAML through to the checked Scenario. Any input must either
// load or be refused with a ConfigError naming file:line:column; anything else (a crash, a hang, a
// sanitizer report, another exception type) is a finding.
#include <cstdint>
#include <cstring>
#include <string>

#include "harness/config/config_error.hpp"
#include "harness/scenario/scenario.hpp"
#include "tests/fuzz/fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = zhil::fuzz::write_input(data, size);
  try {
    zhil::Scenario s = zhil::load_scenario(path);
    (void)s;
  } catch (const zhil::ConfigError& e) {
    if (std::strncmp(e.what(), path.c_str(), path.size()) != 0) __builtin_trap();  // an error that names no file
  }
  return 0;
}
