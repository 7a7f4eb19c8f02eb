#pragma once
// The results store: every run of every station in one database that a lab can query (SQLite file
// by default, PostgreSQL for many stations). Runs, the DUTs they tested, stations, checks,
// measurements (value, unit, limits, verdict), events and artifacts (paths and SHA-256).
//
// Opening a store brings its schema up to date and marks ABORTED every run left RUNNING by a
// process that is gone (kill -9, power loss): on SQLite by its host and pid, on PostgreSQL by the
// advisory lock a running run's connection holds (so it works across stations).
//
// Each write method is one statement or a few; callers group them in transactions (the sink does,
// per batch). Queries return rows for `zhil results`.
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "harness/recording/test_record.hpp"
#include "lab/results/sql_connection.hpp"

namespace zhil::lab {

// Where results go when nothing is said: $ZHIL_DB, else zhil-results/results.db here.
std::string default_results_location();

// A DUT a run tests, at a position of the station (its pack device), and what the gate knows of it.
struct DutRef {
  std::string serial;
  std::string position;  // the station's device (pack1); empty: the whole bench
  std::string product;
  // Other devices whose signals speak of this DUT alone (the inverter that serves only this pack).
  std::vector<std::string> devices = {};
};

// What a run is, beyond its record: how it was started and what it is part of.
struct RunContext {
  std::string kind = "run";  // run, suite, accept, python
  std::string batch;         // the suite's or the gate attempt's id; empty: none
  std::vector<DutRef> duts;
  std::string product, limit_set, limit_set_version, limit_set_sha256;
};

struct ResultsFilter {
  std::string serial, product, station, since, verdict, kind, scenario;
  std::size_t limit = 50;  // 0: all
};

struct RunSummaryRow {
  std::string run_id, started_utc, kind, scenario, station, verdict, serials, product;
};

class ResultsStore {
 public:
  // Opens (creating) and migrates; marks runs of dead processes ABORTED. Throws SqlError.
  static std::unique_ptr<ResultsStore> open(const std::string& where, int schema_target = -1);
  explicit ResultsStore(std::unique_ptr<SqlConnection> c) : c_(std::move(c)) {}

  SqlConnection& sql() { return *c_; }
  std::string describe() const { return c_->describe(); }
  const std::vector<std::string>& marked_aborted() const { return marked_aborted_; }

  // Writing. Each is safe to repeat (upserts), so a batch retried after an error adds nothing twice.
  void start_run(const TestRecord& r, const std::string& out_dir, const RunContext& ctx);
  void add_event(const std::string& run_id, std::uint64_t seq, double t_s, const std::string& what);
  void put_check(const std::string& run_id, const CheckResult& c);
  void put_measurement(const std::string& run_id, const MeasurementResult& m, const std::string& dut_serial);
  // The run's end: verdict, every check and measurement, each DUT's verdict, the record's text.
  void finish_run(const TestRecord& r, const RunContext& ctx, const std::vector<std::string>& dut_verdicts);
  void add_artifact(const std::string& run_id, const std::string& kind, const std::string& path,
                    const std::string& sha256, std::uint64_t bytes);
  // Checkpoints of resumable runs (harness/checkpoint/run_checkpoint.hpp, encoded): the two newest
  // of each run are kept (the newest may be ahead of the time series a kill left on disk).
  void put_checkpoint(const std::string& run_id, std::uint64_t seq, double t_s, std::uint64_t cycles,
                      const std::string& encoded);
  // The run goes on from checkpoint `seq` in this process: RUNNING again, and what it recorded
  // after the checkpoint (events, checks, its end) is dropped: the resumed run records it again.
  void resume_run(const std::string& run_id, std::uint64_t seq, std::uint64_t events_before, double t_s);
  // While a run goes (PostgreSQL): this connection holds the run's lock, which says it is alive.
  void hold_run_lock(const std::string& run_id);
  void release_run_lock(const std::string& run_id);
  // After a failure: a broken connection is made again, and the run locks it held taken again.
  void recover();

  // Runs left RUNNING by a process that is gone are marked ABORTED; returns their ids.
  std::vector<std::string> mark_dead_runs_aborted();

  // Queries.
  std::vector<RunSummaryRow> list_runs(const ResultsFilter& f);
  // A run by id, or by a unique prefix of it; nullopt if none. Throws SqlError if ambiguous.
  std::optional<std::string> find_run(const std::string& id_or_prefix);
  void show_run(const std::string& run_id, std::ostream& out);
  // Measurements of the runs the filter selects, one CSV row each (with run, DUT and station).
  std::size_t export_csv(const ResultsFilter& f, std::ostream& out);
  // Runs per verdict per product and station since the filter's date.
  void summary(const ResultsFilter& f, std::ostream& out);

  struct StoredCheckpoint {
    std::uint64_t seq = 0;
    double t_s = 0;
    std::string created_utc;
    std::string encoded;
  };
  // A run's checkpoints, newest first, each checked against its SHA-256 (SqlError if damaged).
  std::vector<StoredCheckpoint> checkpoints(const std::string& run_id);
  struct StoredRun {
    std::string verdict, kind, out_dir;
    RunContext context;  // kind, batch, product, limit set and DUTs as the run started
  };
  std::optional<StoredRun> stored_run(const std::string& run_id);

 private:
  std::unique_ptr<SqlConnection> c_;
  std::vector<std::string> marked_aborted_;
  std::vector<std::string> held_locks_;
};

// Which DUT a measurement or check belongs to: the DUT whose position (device), or one of its
// own devices, its signal or expression names; the only DUT of a single-DUT run; else none
// (bench-level: its failure fails every DUT).
std::string dut_of_signal(const std::string& signal_or_expression, const std::vector<DutRef>& duts);
// Each DUT's verdict from the run's: a bench-level ERROR or ABORTED is every DUT's; a failing
// check or measurement of one DUT fails that DUT only; a failing bench-level check fails all.
std::vector<std::string> dut_verdicts(const TestRecord& r, const std::vector<DutRef>& duts);

}  // namespace zhil::lab
