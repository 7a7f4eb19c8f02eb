#pragma once
// What a run tells the outside, as OpenHTF's output callbacks and OpenTAP's result listeners do:
// it started (with the frozen signal table), a row of the time series is due, an event happened,
// it finished (with the test record). The time series, the test record, and later the results
// store, bus logs and a live view are sinks registered on a run. Sinks are called on the loop
// thread: one that may be slow (a network client) queues and drops rather than wait.
#include <string>

#include "harness/signal_table.hpp"
#include "harness/status.hpp"
#include "harness/time.hpp"

namespace zhil {

struct TestRecord;
struct CheckResult;
struct RunCheckpoint;

struct RunInfo {
  std::string run_id;
  std::string out_dir;
  bool real_time = false;
  // The record as it stands when the run starts: station, scenario, their hashes, seed, core, DUT.
  const TestRecord* record = nullptr;
  // Set when the run continues an earlier one from this checkpoint (zhil resume): same run id,
  // same folder; what the earlier one recorded up to the checkpoint stands.
  const RunCheckpoint* resumed = nullptr;
};

class RunSink {
 public:
  virtual ~RunSink() = default;
  virtual Status on_started(const RunInfo&, const SignalTable&) { return Status::ok(); }
  // At the scenario's record interval, after the cycle's checks.
  virtual Status on_row(Time, const SignalTable&) { return Status::ok(); }
  virtual void on_event(Time, const std::string&) {}
  // A check failed during the run (its first violation, with evidence): a results store commits it
  // now, not only at the end.
  virtual void on_check(Time, const CheckResult&) {}
  // The run's state after a cycle, at its checkpoint interval (RunOptions::checkpoint_every): a
  // results store keeps it, so that the run can be resumed. The time series is flushed first.
  virtual Status on_checkpoint(const RunCheckpoint&) { return Status::ok(); }
  // Push what is buffered to storage (a real-time run does, every few seconds).
  virtual Status flush() { return Status::ok(); }
  // Called in registration order once the bench is safe: a sink may add to the record (the time
  // series says its rows) for the sinks after it; the record writer is the last.
  virtual Status on_finished(TestRecord&) { return Status::ok(); }
};

}  // namespace zhil
