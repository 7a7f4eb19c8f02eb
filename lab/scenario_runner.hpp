#pragma once
// Wires one run together: loads the scenario and its station, builds the bench (devices/), picks
// the control core, executes the run (harness/), and reports. Used by `zhil run` and `zhil suite`.
#include <cstdint>
#include <optional>
#include <string>

#include "harness/bench.hpp"
#include "harness/recording/output_folder.hpp"
#include "harness/run.hpp"
#include "lab/run_preparation.hpp"
#include "lab/results/results_store.hpp"

namespace zhil::lab {

struct ScenarioRunRequest {
  std::string scenario_file;
  std::string station_file;  // empty: the one the scenario names
  std::optional<std::uint64_t> seed;
  bool real_time = false;
  std::string out_dir;  // empty: results/<scenario>-<time>
  bool overwrite = false;  // replace an earlier run's results in out_dir
  std::shared_ptr<OutputFolder> output;  // already claimed (a suite's scenario folder); else out_dir is
  ResourceLimits limits;
  bool show_progress = false;
  bool announce_start = false;  // print "started <run id>" on stdout when the first cycle is due
  // The results store the run goes into (--db, ZHIL_DB; see default_results_location()); empty: none.
  std::string results_db;
  RunContext results_context;  // kind, batch, DUTs
  std::string dut_serial;      // the serial the operator gave (zhil run --dut-serial), for the record
  Duration checkpoint_every{0};  // zhil run --checkpoint-every: the run's state into the store this often
  // zhil resume: continue the run of this checkpoint (its files, seed, folder and store row).
  std::shared_ptr<const RunCheckpoint> resume;
  // zhil run --serve ADDRESS:PORT: the live view (lab/reports/live_view); empty: none.
  std::string serve, serve_token;
  std::vector<std::string> serve_signals;
};

struct ScenarioRunOutcome {
  Verdict verdict = Verdict::error;
  std::string scenario_name;
  std::string out_dir;   // empty when nothing was created
  std::string message;  // the error, for ERROR before a record could be written
  RunResult result;     // result.record_written says whether record.json is on disk
  std::string run_id;   // as the record and the results store name it (empty if it never started)
  std::string results_store;  // the store the run went into, as it can be shown (no password); empty: none
};

ScenarioRunOutcome run_scenario(const ScenarioRunRequest& request);

std::string utc_stamp();  // 20261125T021500Z, for result folder names
// A new results folder named `base`, or base-2, base-3... if taken (default folders are never reused).
std::shared_ptr<OutputFolder> claim_new_folder(const std::string& base);

}  // namespace zhil::lab
