#include "lab/scenario_runner.hpp"

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <iostream>

#include "lab/process_signals.hpp"
#include "lab/project_paths.hpp"
#include "lab/reports/live_view.hpp"
#include "lab/results/results_sink.hpp"

namespace zhil::lab {

std::string utc_stamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::shared_ptr<OutputFolder> claim_new_folder(const std::string& base) {
  // Two runs started in the same second get base, base-2, base-3...: a default folder is always
  // a new one, never an earlier run's.
  namespace fs = std::filesystem;
  for (int k = 1;; ++k) {
    const std::string candidate = k == 1 ? base : base + "-" + std::to_string(k);
    std::error_code ec;
    if (fs::exists(candidate, ec)) continue;
    try {
      return OutputFolder::claim(candidate, false);
    } catch (const OutputFolderError&) {
      if (k >= 1000 || !fs::exists(candidate, ec)) throw;  // not a race with another run: a real error
    }
  }
}

ScenarioRunOutcome run_scenario(const ScenarioRunRequest& rq) {
  ScenarioRunOutcome out;
  PrepareRequest pr;
  pr.scenario_file = rq.scenario_file;
  pr.station_file = rq.station_file;
  pr.seed = rq.seed;
  pr.limits = rq.limits;
  pr.options.real_time = rq.real_time;
  pr.options.path_base = find_project_root();
  pr.options.show_progress = rq.show_progress;
  pr.options.pending_signal = pending_process_signal;
  pr.options.dut_serial = rq.dut_serial;
  pr.options.checkpoint_every = rq.checkpoint_every;
  pr.options.resume = rq.resume;
  if (rq.resume) pr.options.metadata = rq.resume->metadata;
  if (rq.announce_start)
    pr.options.on_started = [](const std::string& id) { std::cout << "started run " << id << std::endl; };
  std::unique_ptr<PreparedRun> prepared;
  // Everything that can be wrong with the files is found here, before anything is created or any
  // device is touched: the same checks as zhil validate.
  try {
    prepared = prepare_run(pr);
  } catch (const std::bad_alloc&) {
    out.message = "out of memory while loading the scenario and building the station";
    return out;
  } catch (const std::exception& e) {
    out.message = e.what();
    return out;
  }
  out.scenario_name = prepared->scenario.name;
  // The store is opened before the results folder is claimed: a store that cannot be opened (a
  // bad path, a PostgreSQL server that is down) stops the run before anything is created.
  std::shared_ptr<ResultsSink> results;
  if (!rq.results_db.empty()) {
    RunContext ctx = rq.results_context;
    if (ctx.duts.empty() && !rq.dut_serial.empty()) ctx.duts.push_back({rq.dut_serial, "", ""});
    try {
      results = std::make_shared<ResultsSink>(rq.results_db, ctx);
    } catch (const std::exception& e) {
      out.message = e.what();
      return out;
    }
    for (const auto& id : results->marked_aborted())
      std::cerr << "zhil: results store: run " << id << " was left RUNNING by a process that is gone: marked ABORTED\n";
    prepared->run->add_sink(results);
    out.results_store = results->shown_location();
  }
  if (!rq.serve.empty()) {
    try {
      auto server = serve_live_view(rq.serve, rq.serve_token);
      prepared->run->add_sink(std::make_shared<LiveViewSink>(server, &prepared->scenario, rq.serve_signals));
      std::cout << "live view: " << server->url() << std::endl;
    } catch (const std::exception& e) {
      out.message = e.what();
      return out;
    }
  }
  std::shared_ptr<OutputFolder> folder = rq.output;
  try {
    if (!folder && rq.resume) folder = OutputFolder::reopen(rq.resume->out_dir);
    if (!folder)
      folder = rq.out_dir.empty() ? claim_new_folder("results/" + prepared->scenario.name + "-" + utc_stamp())
                                  : OutputFolder::claim(rq.out_dir, rq.overwrite);
  } catch (const std::exception& e) {
    out.message = e.what();
    return out;
  }
  const std::string dir = folder->path();
  out.out_dir = dir;
  // The folder is handed to the run through its options: Run keeps a copy of them at construction,
  // so set it on the prepared run's own options before setup.
  prepared->run->set_output(folder);
  try {
    out.result = prepared->run->run_to_end();
    out.run_id = out.result.record.run_id;
    if (!out.result.record_written && out.run_id.empty()) out.results_store.clear();
    out.verdict = out.result.verdict;
    out.message = out.result.error;
  } catch (const std::exception& e) {
    out.verdict = Verdict::error;
    out.message = e.what();
  }
  return out;
}

}  // namespace zhil::lab
