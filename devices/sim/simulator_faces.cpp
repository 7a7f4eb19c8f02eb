#include "devices/sim/simulator_faces.hpp"

#include "devices/sim/simulated_grid_device.hpp"
#include "devices/sim/simulated_inverter_device.hpp"
#include "devices/sim/simulated_load_device.hpp"
#include "devices/sim/simulated_pack_device.hpp"

namespace zhil::sim {

namespace {

std::unique_ptr<Device> in_process(DeviceBuildContext& c, SimulatedModel model) {
  const auto& link = static_cast<const InProcessLink&>(*c.device.link);
  const std::string& name = c.device.name;
  const Duration latency = link.latency;
  struct Make {
    const std::string& name;
    Duration latency;
    const DeviceConfig& d;
    std::unique_ptr<Device> operator()(PackModel* m) const {
      return std::make_unique<SimulatedPackDevice>(name, *m, latency, simulated_serial(d));
    }
    std::unique_ptr<Device> operator()(InverterModel* m) const {
      return std::make_unique<SimulatedInverterDevice>(name, *m, latency, simulated_serial(d));
    }
    std::unique_ptr<Device> operator()(GridModel* m) const {
      return std::make_unique<SimulatedGridDevice>(name, *m, latency);
    }
    std::unique_ptr<Device> operator()(LoadModel* m) const {
      return std::make_unique<SimulatedLoadDevice>(name, *m, latency);
    }
  };
  return std::visit(Make{name, latency, c.device}, model);
}

}  // namespace

SimulatorFaces& SimulatorFaces::instance() {
  static SimulatorFaces faces = [] {
    SimulatorFaces f;
    f.add("in-process", in_process);
    return f;
  }();
  return faces;
}

void SimulatorFaces::add(const std::string& link_type, Face face) { faces_[link_type] = std::move(face); }

bool SimulatorFaces::remove(const std::string& link_type) { return faces_.erase(link_type) > 0; }

std::unique_ptr<Device> SimulatorFaces::reach(DeviceBuildContext& c, SimulatedModel model) const {
  auto it = faces_.find(c.device.link_type);
  if (it == faces_.end()) {
    std::string known;
    for (const auto& [t, f] : faces_) known += (known.empty() ? "" : ", ") + t;
    c.device.entry["link"].fail("device " + c.device.name + ": a " + c.device.model + " cannot be reached over a '" +
                                c.device.link_type + "' link in this build (it can over: " + known + ")");
  }
  return it->second(c, model);
}

SiteSimulator& site_of(DeviceBuildContext& c) {
  auto site = c.bench.part<SiteSimulator>("sim.site", [&] {
    return std::make_shared<SiteSimulator>(c.station.nominal_frequency_hz);
  });
  if (!c.bench.plant) c.bench.plant = site;
  return *site;
}

std::string simulated_serial(const DeviceConfig& d) { return d.params.get_string("serial", "SIM-" + d.name); }

}  // namespace zhil::sim
