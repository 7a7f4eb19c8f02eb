// libFuzzer target: a register map file (fixtures/modbus/*.yaml), through to the checked map and,
// for a SunSpec map, its resolution on a layout of the models it names and the read plan. Any input
// must load or be refused with a ConfigError that names the file; anything else is a finding.
#include <cstdint>
#include <string>

#include "devices/modbus/read_plan.hpp"
#include "devices/modbus/register_map.hpp"
#include "devices/modbus/sunspec_layout.hpp"
#include "harness/config/config_error.hpp"
#include "tests/fuzz/fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string& path = zhil::fuzz::write_input(data, size);
  try {
    const zhil::modbus::RegisterMap map = zhil::modbus::load_register_map(path);
    if (map.sunspec) {
      std::vector<int> ids = map.required_models;
      for (const auto& e : map.entries) ids.push_back(e.model);
      const auto layout = zhil::modbus::lay_out_models(*map.models, ids);
      zhil::modbus::RegisterMap resolved;
      if (zhil::modbus::resolve_map(map, layout, &resolved))
        (void)zhil::modbus::plan_reads(resolved, {{layout.base, layout.end + 1}}, zhil::modbus::ReadSet::full);
    } else {
      (void)zhil::modbus::plan_reads(map, map.blocks, zhil::modbus::ReadSet::full);
    }
  } catch (const zhil::ConfigError& e) {
    if (std::string(e.what()).find(".yaml:") == std::string::npos) __builtin_trap();  // names no file:line
  }
  return 0;
}
