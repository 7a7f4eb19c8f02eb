// libFuzzer target: a station file, YAML through to the checked StationConfig and the bench built
// from it (devices constructed, fixtures loaded, nothing connected). Any input must build or be
// refused with a ConfigError that names a file; anything else is a finding.
#include <cstdint>
#include <string>

#include "devices/station_builder.hpp"
#include "harness/config/config_error.hpp"
#include "harness/config/station_config.hpp"
#include "tests/fuzz/fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = zhil::fuzz::write_input(data, size);
  try {
    zhil::StationConfig st = zhil::load_station(path);
    zhil::Bench bench = zhil::build_bench(st, 1);
    (void)bench;
  } catch (const zhil::ConfigError& e) {
    if (std::string(e.what()).find(".yaml:") == std::string::npos) __builtin_trap();  // names no file:line
  }
  return 0;
}
