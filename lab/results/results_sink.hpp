#pragma once
// A run's sink into the results store. It commits as the run goes: the run (RUNNING) when it
// starts, each event and each check's failure as they happen, the verdict, checks, measurements,
// DUT verdicts and artifacts (every file of the results folder, with its SHA-256) at the end.
//
// The database is written by one worker thread with the sink's own connection, so a slow disk or
// a PostgreSQL server across the lab never holds the run's loop: the loop queues, the worker
// commits what is queued in one transaction, typically within milliseconds. A batch that fails is
// retried (every write is an upsert, safe to repeat) a few times over about 10 s; one that still
// fails makes the run ERROR (its results are not all where they were promised), naming the store
// and the statement, and the run's row says ERROR too if the store takes it at the end.
// on_started and on_finished wait until everything queued is committed, at most kDrainLimit.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "harness/run_sink.hpp"
#include "lab/results/results_store.hpp"

namespace zhil::lab {

class ResultsSink final : public RunSink {
 public:
  // Opens the store now (a bad location fails here, before the run starts). Throws SqlError.
  ResultsSink(const std::string& where, RunContext context);
  ~ResultsSink() override;

  Status on_started(const RunInfo& info, const SignalTable&) override;
  void on_event(Time t, const std::string& what) override;
  void on_check(Time t, const CheckResult& c) override;
  // Kept in the store (the two newest of the run), after what was queued before it.
  Status on_checkpoint(const RunCheckpoint& cp) override;
  Status flush() override;
  Status on_finished(TestRecord& record) override;

  std::string run_id() const { return run_id_; }
  std::string location() const { return where_; }
  std::string shown_location() const { return shown_; }  // for messages: no password
  RunContext& context() { return ctx_; }  // before the run starts: the gate fills in DUTs and limits
  // Runs the store marked ABORTED when it was opened (their processes were gone).
  std::vector<std::string> marked_aborted() const { return marked_aborted_; }

 private:
  using Task = std::function<void(ResultsStore&)>;
  void post(Task t);
  Status drain();  // waits until everything queued is committed; the first error, if any
  void work();

  static constexpr std::chrono::seconds kDrainLimit{120};
  static constexpr std::chrono::seconds kRetryFor{45};
  std::string where_, shown_;
  RunContext ctx_;
  std::string run_id_, out_dir_;
  std::uint64_t events_ = 0;
  std::vector<std::string> marked_aborted_;

  std::unique_ptr<ResultsStore> store_;  // the worker's alone once it runs
  std::mutex m_;
  std::condition_variable cv_, idle_cv_;
  std::deque<Task> queue_;
  bool busy_ = false, stop_ = false;
  bool timed_out_ = false;  // a drain gave up waiting: the store is not answering
  std::string error_;
  std::thread worker_;
};

}  // namespace zhil::lab
