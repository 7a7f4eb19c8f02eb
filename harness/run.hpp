#pragma once
// One run of a scenario on a station, from configuring the devices to the written record:
//   configure -> bind scenario, core, envelope, checks -> activate -> cycles -> safe state -> record.
// Each cycle: plant advances (simulated benches) -> acquire -> stimuli -> core -> envelope -> write
// -> checks and measurements -> record. Ctrl-C or SIGTERM, an exception or a failing device ends the
// run early; the bench is always put in its safe state (and it is verified) and the record says
// ABORTED or ERROR, with the time series flushed.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/config/station_config.hpp"
#include "harness/control_core.hpp"
#include "harness/device.hpp"
#include "harness/plant.hpp"
#include "harness/recording/test_record.hpp"
#include "harness/scenario/scenario.hpp"

namespace zhil {

struct RunOptions {
  bool real_time = false;
  std::uint64_t seed = 1;
  std::string out_dir;
  bool handle_signals = true;   // SIGINT/SIGTERM abort the run (off in tests that run in-process)
  bool show_progress = false;   // simulated time, speed and ETA on stderr
  std::function<void(const std::string&)> on_started;  // called once the first cycle is scheduled
  // Test hook: called after every cycle with the table, e.g. to check what devices received.
  std::function<void(Time, const SignalTable&)> after_cycle;
  Time stop_after{-1};  // test hook: request a stop (as Ctrl-C would) at this simulated time
};

struct Bench {
  // Declared first so it is destroyed last: simulated devices refer into the plant's models.
  std::shared_ptr<Plant> plant;  // null on hardware benches
  std::vector<std::unique_ptr<Device>> devices;
  std::vector<std::string> input_files;  // fixtures and limit sets its devices were built from
};

struct RunResult {
  Verdict verdict = Verdict::error;
  std::string error;
  std::string record_path;
  TestRecord record;
};

RunResult execute_run(const StationConfig& station, const Scenario& scenario, Bench& bench,
                      std::unique_ptr<ControlCore> core, const RunOptions& options);

}  // namespace zhil
