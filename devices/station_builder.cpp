#include "devices/station_builder.hpp"

#include <algorithm>

#include "harness/config/config_error.hpp"
#include "harness/device_registry.hpp"

namespace zhil {
namespace {

// Splitmix64, so each device's randomness (a pack's manufacturing spread) has its own stream from
// the run's seed.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

Bench build_bench(const StationConfig& st, std::uint64_t seed) {
  Bench bench;
  const DeviceRegistry& registry = DeviceRegistry::instance();
  struct Item {
    std::size_t index;
    const DeviceModel* model;
  };
  std::vector<Item> items;
  for (std::size_t i = 0; i < st.devices.size(); ++i) {
    const DeviceConfig& d = st.devices[i];
    const DeviceModel* m = registry.find(d.model);
    if (!m) {
      std::string known;
      for (const auto& n : registry.models()) known += (known.empty() ? "" : ", ") + n;
      d.entry["model"].fail("unknown model '" + d.model + "' (this build knows: " + known + ")");
    }
    if (m->role != d.role)
      d.entry["model"].fail("model '" + d.model + "' is a " + m->role + ", but the device's role is " + d.role);
    items.push_back({i, m});
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.model->build_order < b.model->build_order; });
  std::vector<std::unique_ptr<Device>> built(st.devices.size());
  for (const Item& it : items) {
    const DeviceConfig& d = st.devices[it.index];
    DeviceBuildContext ctx{st, d, mix(seed ^ mix(it.index + 1)), bench};
    try {
      built[it.index] = it.model->build(ctx);
    } catch (const ConfigError& e) {
      // An error in a fixture the device names (a pack's params.file) is also the station's: say
      // which device and entry led there, so the user knows which file to edit.
      const std::string what = e.what();
      if (what.rfind(st.file + ":", 0) == 0) throw;
      throw ConfigError(d.entry.where() + ": device " + d.name + " (" + d.model + "): " + what);
    }
    if (!built[it.index]) d.entry["model"].fail("model '" + d.model + "' built no device for " + d.name);
    if (built[it.index]->name() != d.name || built[it.index]->role() != d.role)
      d.entry["model"].fail("model '" + d.model + "' built a device named " + built[it.index]->name() + " (" +
                            built[it.index]->role() + ") for " + d.name + " (" + d.role + ")");
  }
  bench.devices = std::move(built);
  return bench;
}

}  // namespace zhil
