#pragma once
// Everything `zhil run` does before it creates a file or touches a device, in one place, so that
// `zhil validate` refuses exactly what `run` would: load the scenario and the station it names (or
// the one given), their fixtures, the control core and its parameters; build the bench (devices
// constructed, nothing connected); bind the scenario to the station (every device and signal name
// in the timeline, checks, derived signals and measurements, every unit and window); and estimate
// the run's memory and output against the limits.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "harness/bench.hpp"
#include "harness/config/station_config.hpp"
#include "harness/run.hpp"
#include "harness/scenario/scenario.hpp"

namespace zhil::lab {

// What a run may use, and the knobs that change it (zhil run --max-output / --max-memory).
struct ResourceLimits {
  std::uint64_t max_output_bytes = 4ull << 30;  // 4 GiB of results
  std::uint64_t max_memory_bytes = 4ull << 30;  // 4 GiB for the bench, signals and buffers
};

struct ResourceEstimate {
  std::uint64_t output_bytes = 0;  // time series at its worst-case row width, and the record
  std::uint64_t memory_bytes = 0;
  std::uint64_t rows = 0;
  std::size_t columns = 0;
};

struct PreparedRun {
  Scenario scenario;
  StationConfig station;
  Bench bench;
  ResourceEstimate estimate;
  std::unique_ptr<Run> run;  // prepared (bound), not set up
};

struct PrepareRequest {
  std::string scenario_file;
  std::string station_file;  // empty: the one the scenario names
  std::optional<std::uint64_t> seed;
  ResourceLimits limits;
  RunOptions options;  // out_dir, real_time... (nothing is created here)
  // A core of the host's own (a Python core) instead of the station's `core:`; its name goes in
  // the record (options.core_name).
  std::function<std::unique_ptr<ControlCore>()> core;
  // Called with the station once loaded, before its bench is built (the gate gives simulated packs
  // the serials under test).
  std::function<void(StationConfig&)> adjust_station;
};

// Throws ConfigError (file:line:column) or std::runtime_error with the reason.
std::unique_ptr<PreparedRun> prepare_run(const PrepareRequest& request);

// The same for a scenario already loaded (Python's zhil.Scenario).
std::unique_ptr<PreparedRun> prepare_scenario(Scenario scenario, const PrepareRequest& request);

// A station file alone (request.station_file), bound with a scenario that asks nothing of it.
std::unique_ptr<PreparedRun> prepare_station(const PrepareRequest& request);

// A size for people: "11.2 GB", "640 kB".
std::string human_bytes(std::uint64_t bytes);

}  // namespace zhil::lab
