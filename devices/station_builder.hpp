#pragma once
// Builds a bench from a station file: for each device, its model and link. Simulators are reached
// in-process today; the Modbus and CAN issues add links (modbus-tcp, socketcan, ...) that put these
// same simulators behind real protocols, and drivers for real products, as a configuration change.
#include <cstdint>

#include "harness/config/station_config.hpp"
#include "harness/run.hpp"

namespace zhil {

// Throws ConfigError (file:line:column) for unknown models, links or bad parameters.
Bench build_bench(const StationConfig& station, std::uint64_t seed);

}  // namespace zhil
