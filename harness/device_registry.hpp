#pragma once
// Device models by name, beside the control-core registry: a station's `model:` maps to a factory.
// Adding a driver is a new file with a registration (a DeviceRegistration object at namespace
// scope); there is no central switch to edit. A host program, a test or a plugin (`zhil run
// --plugin lib.so`) adds and removes models at run time.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/bench.hpp"
#include "harness/config/station_config.hpp"
#include "harness/device.hpp"
#include "harness/registration.hpp"

namespace zhil {

struct DeviceBuildContext {
  const StationConfig& station;
  const DeviceConfig& device;
  std::uint64_t seed;  // this device's own stream, from the run's seed and its place in the station
  Bench& bench;        // what is built so far: shared parts, the plant, input files
};

struct DeviceModel {
  std::string role;         // the role a device of this model plays (pack, inverter, grid, load)
  std::string description;  // for `zhil list`
  // Lower first: models that others refer to when built (the packs on an inverter's DC bus).
  int build_order = 0;
  // Throws ConfigError (file:line:column) for bad parameters or an unsupported link.
  std::function<std::unique_ptr<Device>(DeviceBuildContext&)> build;
};

class DeviceRegistry {
 public:
  static DeviceRegistry& instance();
  void add(const std::string& model, DeviceModel factory);
  bool remove(const std::string& model);
  const DeviceModel* find(const std::string& model) const;
  std::vector<std::string> models() const;

 private:
  std::map<std::string, DeviceModel> models_;
};

// Registers a model for as long as it lives (a static object in the driver's own file).
using DeviceRegistration = Registration<DeviceRegistry, DeviceModel>;

}  // namespace zhil
