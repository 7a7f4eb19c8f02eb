#pragma once
// A bench: the devices of a station, built (devices/station_builder) from the station file, and,
// for simulated devices, the plant whose physics couples them.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/device.hpp"
#include "harness/plant.hpp"

namespace zhil {

struct Bench {
  // Declared first so it is destroyed last: simulated devices refer into the plant's models.
  std::shared_ptr<Plant> plant;  // null on hardware benches
  // Objects that devices of one bench share, by a key their models choose (the simulated site).
  std::map<std::string, std::shared_ptr<void>> parts;
  std::vector<std::unique_ptr<Device>> devices;  // in station order
  std::vector<std::string> input_files;          // fixtures and limit sets its devices were built from
  std::uint64_t memory_bytes = 0;                // what its models hold, as they estimate it

  template <class T, class Make>
  std::shared_ptr<T> part(const std::string& key, Make make) {
    auto it = parts.find(key);
    if (it != parts.end()) return std::static_pointer_cast<T>(it->second);
    std::shared_ptr<T> p = make();
    parts.emplace(key, p);
    return p;
  }
};

}  // namespace zhil
