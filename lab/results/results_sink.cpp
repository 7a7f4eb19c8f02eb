#include "lab/results/results_sink.hpp"

#include <chrono>
#include <filesystem>

#include "harness/checkpoint/run_checkpoint.hpp"
#include "harness/recording/sha256.hpp"

namespace zhil::lab {
namespace fs = std::filesystem;

ResultsSink::ResultsSink(const std::string& where, RunContext context)
    : where_(where), ctx_(std::move(context)), store_(ResultsStore::open(where)) {
  shown_ = store_->describe();
  marked_aborted_ = store_->marked_aborted();
  worker_ = std::thread([this] { work(); });
}

ResultsSink::~ResultsSink() {
  {
    std::lock_guard<std::mutex> l(m_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void ResultsSink::post(Task t) {
  {
    std::lock_guard<std::mutex> l(m_);
    queue_.push_back(std::move(t));
  }
  cv_.notify_one();
}

void ResultsSink::work() {
  for (;;) {
    std::deque<Task> batch;
    {
      std::unique_lock<std::mutex> l(m_);
      cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      batch.swap(queue_);
      busy_ = true;
    }
    // Retried on failure (a locked SQLite file past its busy timeout, a PostgreSQL server that
    // restarted: the connection is made again and the run's lock taken again): every task is an
    // upsert, so a batch applied twice adds nothing twice. No attempt starts after kRetryFor, so
    // that retries end well within kDrainLimit (an attempt takes at most a statement timeout).
    std::string err;
    const auto give_up = std::chrono::steady_clock::now() + kRetryFor;
    for (int attempt = 0; attempt < 4; ++attempt) {
      err.clear();
      try {
        if (attempt > 0) store_->recover();
        SqlTransaction tx(store_->sql());
        for (Task& t : batch) t(*store_);
        tx.commit();
        break;
      } catch (const std::exception& e) {
        err = e.what();
      }
      if (attempt == 3 || std::chrono::steady_clock::now() > give_up) break;
      std::unique_lock<std::mutex> l(m_);
      if (stop_) break;
      cv_.wait_for(l, std::chrono::milliseconds(500) * (1 << attempt * 2), [&] { return stop_; });
    }
    {
      std::lock_guard<std::mutex> l(m_);
      if (!err.empty() && error_.empty()) error_ = err;
      busy_ = false;
    }
    idle_cv_.notify_all();
  }
}

Status ResultsSink::drain() {
  std::unique_lock<std::mutex> l(m_);
  // Bounded: a server that stopped answering (a dead network, no RST) must not hang the run's end.
  if (!idle_cv_.wait_for(l, kDrainLimit, [&] { return queue_.empty() && !busy_; })) {
    timed_out_ = true;
    return Status::error("results store " + shown_ + ": not answering for " + std::to_string(kDrainLimit.count()) +
                         " s; the run's results are in its folder");
  }
  if (!error_.empty()) return Status::error(error_);
  return Status::ok();
}

Status ResultsSink::on_started(const RunInfo& info, const SignalTable&) {
  if (!info.record) return Status::error("results store: the run gave no record to start from");
  run_id_ = info.run_id;
  out_dir_ = info.out_dir;
  TestRecord start = *info.record;
  if (const RunCheckpoint* cp = info.resumed) {
    // The same run goes on: its row RUNNING again under this process, its events numbered on
    // from the checkpoint's.
    events_ = cp->events;
    post([id = run_id_, seq = cp->sequence, events = cp->events, t = to_seconds(cp->at)](ResultsStore& s) {
      s.hold_run_lock(id);
      s.resume_run(id, seq, events, t);
    });
    Status s = drain();
    // Not resumed (another zhil has it): this run's end must not touch that row.
    if (!s) run_id_.clear();
    return s;
  }
  post([start, out = out_dir_, ctx = ctx_](ResultsStore& s) {
    s.start_run(start, out, ctx);
    s.hold_run_lock(start.run_id);
  });
  // The run is in the store before its first cycle: a run killed from here on is found.
  return drain();
}

void ResultsSink::on_event(Time t, const std::string& what) {
  post([id = run_id_, seq = events_++, ts = to_seconds(t), what](ResultsStore& s) { s.add_event(id, seq, ts, what); });
}

void ResultsSink::on_check(Time, const CheckResult& c) {
  post([id = run_id_, c](ResultsStore& s) { s.put_check(id, c); });
}

Status ResultsSink::on_checkpoint(const RunCheckpoint& cp) {
  if (run_id_.empty()) return Status::ok();
  post([id = run_id_, seq = cp.sequence, t = to_seconds(cp.at), cycles = cp.cycles,
        bytes = encode_checkpoint(cp)](ResultsStore& s) { s.put_checkpoint(id, seq, t, cycles, bytes); });
  return flush();
}

Status ResultsSink::flush() {
  std::lock_guard<std::mutex> l(m_);
  if (!error_.empty()) return Status::error(error_);
  return Status::ok();
}

Status ResultsSink::on_finished(TestRecord& record) {
  if (run_id_.empty()) return Status::ok();  // the run never started: nothing of it is in the store
  TestRecord r = record;
  // Everything queued before the end first: a batch lost on the way makes the run ERROR, and the
  // row says so, with the very words the run's record will have (the run appends this sink's
  // message to its error as below), so that the stored record and its hashes match the files.
  std::string failure;
  if (Status s = drain(); !s) failure = s.message();
  if (!failure.empty()) {
    const std::string prefix = "results store " + shown_ + ": ";
    if (failure.rfind(prefix, 0) != 0) failure = prefix + failure;
    r.verdict = Verdict::error;
    r.error = (r.error.empty() ? "" : r.error + "; ") + failure;
  }
  const auto verdicts = dut_verdicts(r, ctx_.duts);
  // Every file the run left, hashed now that the sinks before this one have closed theirs; the
  // record and junit.xml are written after this sink, from the same record, so their text is known.
  std::vector<std::tuple<std::string, std::string, std::string, std::uint64_t>> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(out_dir_, ec)) {
    if (!e.is_regular_file(ec)) continue;
    const std::string name = e.path().filename().string();
    if (name == "record.json" || name == "junit.xml" || name.rfind(".", 0) == 0) continue;
    const std::string kind = name == "timeseries.csv" ? "timeseries" : e.path().extension() == ".log" ? "log" : "file";
    files.emplace_back(kind, e.path().string(), sha256_file_hex(e.path().string()), e.file_size(ec));
  }
  const std::string rec_text = record_json_text(r), junit_text = junit_xml_text(r);
  files.emplace_back("record", (fs::path(out_dir_) / "record.json").string(), sha256_hex(rec_text), rec_text.size());
  files.emplace_back("junit", (fs::path(out_dir_) / "junit.xml").string(), sha256_hex(junit_text), junit_text.size());
  post([r, ctx = ctx_, verdicts, files](ResultsStore& s) {
    s.finish_run(r, ctx, verdicts);
    for (const auto& [kind, path, sha, bytes] : files) s.add_artifact(r.run_id, kind, path, sha, bytes);
  });
  const Status st = drain();
  // The lock that says the run is alive goes only once its end is committed (a batch of its own):
  // released earlier, another station could find the run "dead" before its verdict lands. If the
  // store stopped answering, closing the connection (the sink's end) lets it go.
  if (!timed_out_) {
    post([id = r.run_id](ResultsStore& s) { s.release_run_lock(id); });
    (void)drain();
  }
  if (!failure.empty()) return Status::error(failure);
  if (!st) return Status::error(st.message().rfind("results store ", 0) == 0 ? st.message()
                                                                            : "results store " + shown_ + ": " + st.message());
  return Status::ok();
}

}  // namespace zhil::lab
