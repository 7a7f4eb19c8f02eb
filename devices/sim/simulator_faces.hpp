#pragma once
// How a simulated device is reached, by the link type of its station entry. The model lives in
// the simulated site, whose physics couples it to the others whatever the link; the face is the
// Device the run talks to. `in-process` (built in) calls the model directly, with the link's
// latency. A later link type registers its own face here (a Modbus server for the model plus the
// driver that talks to it over loopback, say), with no change to the simulators.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>

#include "devices/sim/grid_model.hpp"
#include "devices/sim/inverter_model.hpp"
#include "devices/sim/load_model.hpp"
#include "devices/sim/pack_model.hpp"
#include "devices/sim/site_simulator.hpp"
#include "harness/device_registry.hpp"

namespace zhil::sim {

using SimulatedModel = std::variant<PackModel*, InverterModel*, GridModel*, LoadModel*>;

class SimulatorFaces {
 public:
  using Face = std::function<std::unique_ptr<Device>(DeviceBuildContext&, SimulatedModel)>;
  static SimulatorFaces& instance();
  void add(const std::string& link_type, Face face);
  bool remove(const std::string& link_type);
  // Throws ConfigError at the device's link when no face serves its link type.
  std::unique_ptr<Device> reach(DeviceBuildContext& context, SimulatedModel model) const;

 private:
  std::map<std::string, Face> faces_;
};

// The simulated site every simulator of a bench shares (created by the first one built).
SiteSimulator& site_of(DeviceBuildContext& context);
// The serial a simulated device reports: params.serial, or SIM-<name>.
std::string simulated_serial(const DeviceConfig& device);

}  // namespace zhil::sim
