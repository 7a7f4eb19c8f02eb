#pragma once
// Builds a bench from a station file: each device's model is looked up in the device registry and
// its factory builds it for its link (models register themselves in their own files; nothing here
// names one). Models that others refer to are built first (build_order), and the bench lists the
// devices in station order.
#include <cstdint>

#include "harness/bench.hpp"
#include "harness/config/station_config.hpp"

namespace zhil {

// Throws ConfigError (file:line:column) for unknown models, links or bad parameters.
Bench build_bench(const StationConfig& station, std::uint64_t seed);

}  // namespace zhil
