#include "devices/station_builder.hpp"

#include <map>

#include "devices/sim/simulated_grid_device.hpp"
#include "devices/sim/simulated_inverter_device.hpp"
#include "devices/sim/simulated_load_device.hpp"
#include "devices/sim/simulated_pack_device.hpp"
#include "devices/sim/simulator_params.hpp"
#include "devices/sim/site_simulator.hpp"

namespace zhil {
namespace {

// Splitmix64, so each pack's manufacturing spread has its own stream from the run's seed.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void require_in_process(const DeviceConfig& d) {
  if (d.link_type != "in-process")
    d.link["type"].fail("device " + d.name + ": link type '" + d.link_type + "' is not available for model '" +
                        d.model + "' in this build (simulators are reached in-process)");
}

const std::map<std::string, std::string> kModelRole = {
    {"pack-simulator", "pack"}, {"inverter-simulator", "inverter"}, {"grid-simulator", "grid"}, {"load-simulator", "load"}};

}  // namespace

Bench build_bench(const StationConfig& st, std::uint64_t seed) {
  Bench bench;
  auto site = std::make_shared<sim::SiteSimulator>(st.nominal_frequency_hz);
  std::map<std::string, sim::PackModel*> packs;
  std::uint64_t index = 0;
  for (const DeviceConfig& d : st.devices) {
    auto it = kModelRole.find(d.model);
    if (it == kModelRole.end())
      d.entry["model"].fail("unknown model '" + d.model + "' (pack-simulator, inverter-simulator, grid-simulator, load-simulator)");
    if (it->second != d.role)
      d.entry["model"].fail("model '" + d.model + "' is a " + it->second + ", but the device's role is " + d.role);
    require_in_process(d);
    ++index;
    if (d.role == "pack") {
      sim::PackModel& m = site->add_pack(sim::load_pack_params(d.params, &bench.input_files), mix(seed ^ mix(index)));
      packs[d.name] = &m;
      bench.devices.push_back(std::make_unique<sim::SimulatedPackDevice>(d.name, m, d.params.get_string("serial", "SIM-" + d.name)));
    }
  }
  for (const DeviceConfig& d : st.devices) {
    if (d.role == "inverter") {
      std::vector<sim::PackModel*> on_bus;
      for (const std::string& p : d.packs) on_bus.push_back(packs.at(p));
      sim::InverterModel& m =
          site->add_inverter(sim::load_inverter_params(d.params, st.nominal_frequency_hz, st.nominal_voltage_v, &bench.input_files), on_bus);
      bench.devices.push_back(
          std::make_unique<sim::SimulatedInverterDevice>(d.name, m, d.params.get_string("serial", "SIM-" + d.name)));
    } else if (d.role == "grid") {
      bench.devices.push_back(std::make_unique<sim::SimulatedGridDevice>(d.name, site->grid()));
    } else if (d.role == "load") {
      sim::LoadModel& m = site->add_load(sim::load_load_params(d.params, &bench.input_files));
      bench.devices.push_back(std::make_unique<sim::SimulatedLoadDevice>(d.name, m));
    }
  }
  bench.plant = site;
  return bench;
}

}  // namespace zhil
