#include "lab/resume_run.hpp"

#include <sys/stat.h>

#include "harness/checkpoint/state_archive.hpp"

namespace zhil::lab {

Status prepare_resume(const std::string& db, const std::string& id_or_prefix, ScenarioRunRequest& rq) {
  std::string run_id;
  ResultsStore::StoredRun run;
  std::vector<ResultsStore::StoredCheckpoint> stored;
  try {
    // Opening the store marks a run whose process is gone (killed) ABORTED, as any opening does.
    auto store = ResultsStore::open(db);
    const auto found = store->find_run(id_or_prefix);
    if (!found) return Status::error("results store " + store->describe() + ": no run " + id_or_prefix);
    run_id = *found;
    run = *store->stored_run(run_id);
    if (run.verdict == "RUNNING")
      return Status::error("run " + run_id + " is still running (its process is alive): stop it first");
    if (run.verdict == "PASS" || run.verdict == "FAIL")
      return Status::error("run " + run_id + " completed (" + run.verdict + "): there is nothing to resume");
    if (run.kind == "accept")
      return Status::error("run " + run_id +
                           " is an acceptance gate's: a ship decision is taken in one uninterrupted attempt; run "
                           "zhil accept again (the interrupted attempt's evidence is kept)");
    stored = store->checkpoints(run_id);
  } catch (const std::exception& e) {
    return Status::error(e.what());
  }
  if (stored.empty())
    return Status::error("run " + run_id + " has no checkpoint to resume from (run with --checkpoint-every to take them)");
  std::string why;
  for (const auto& s : stored) {
    RunCheckpoint cp;
    try {
      cp = decode_checkpoint(s.encoded);
    } catch (const std::exception& e) {
      return Status::error("run " + run_id + ", checkpoint " + std::to_string(s.seq) + ": " + e.what());
    }
    if (cp.run_id != run_id)
      return Status::error("run " + run_id + ", checkpoint " + std::to_string(s.seq) + " is of run " + cp.run_id);
    // The time series on disk must reach this checkpoint's last row.
    struct stat st{};
    const std::string series = cp.out_dir + "/timeseries.csv";
    if (stat(series.c_str(), &st) != 0) {
      why = series + ": missing";
      continue;
    }
    if (static_cast<std::uint64_t>(st.st_size) < cp.timeseries_bytes) {
      why = series + " ends before checkpoint " + std::to_string(cp.sequence) + "'s last row";
      continue;
    }
    rq.scenario_file = cp.scenario_file;
    rq.station_file = cp.station_file;
    rq.seed = cp.seed;
    rq.real_time = cp.real_time;
    rq.checkpoint_every = cp.every;
    rq.dut_serial = cp.dut_serial;
    rq.results_db = db;
    rq.results_context = run.context;
    rq.resume = std::make_shared<const RunCheckpoint>(std::move(cp));
    return Status::ok();
  }
  return Status::error("run " + run_id + ": no checkpoint it can resume from (" + why + ")");
}

}  // namespace zhil::lab
