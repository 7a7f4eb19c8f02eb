#include "harness/run.hpp"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <optional>
#include <random>
#include <sstream>

#include "harness/cycle_loop.hpp"
#include "harness/real_time_clock.hpp"
#include "harness/real_time_priority.hpp"
#include "harness/recording/sha256.hpp"
#include "harness/recording/timeseries_writer.hpp"
#include "harness/safety_envelope.hpp"
#include "harness/scenario/check.hpp"
#include "harness/scenario/derived_signal.hpp"
#include "harness/scenario/measurement.hpp"
#include "harness/scenario/timeline.hpp"
#include "harness/simulated_clock.hpp"

#ifndef ZHIL_VERSION
#define ZHIL_VERSION "dev"
#endif

namespace zhil {
namespace {

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string make_run_id() {
  std::random_device rd;
  std::ostringstream o;
  o << std::hex << std::chrono::system_clock::now().time_since_epoch().count() << "-" << rd();
  return o.str();
}

constexpr std::size_t kMaxEvents = 1000;

class RunSession {
 public:
  RunSession(const StationConfig& st, const Scenario& sc, Bench& bench, std::unique_ptr<ControlCore> core,
             const RunOptions& opt)
      : st_(st), sc_(sc), bench_(bench), core_(std::move(core)), opt_(opt), io_core_(signals_) {}

  RunResult execute();

 private:
  void setup();
  bool cycle(Time now);
  void event(Time t, const std::string& what) {
    if (record_.events.size() < kMaxEvents) record_.events.push_back({to_seconds(t), what});
    else ++record_.events_dropped;
  }
  void stop(Verdict v, const std::string& why) {
    if (!stopping_) {
      stopping_ = true;
      stop_verdict_ = v;
      stop_reason_ = why;
    }
    if (loop_) loop_->request_stop();
  }
  void safe_state();
  void progress(Time now);

  const StationConfig& st_;
  const Scenario& sc_;
  Bench& bench_;
  std::unique_ptr<ControlCore> core_;
  RunOptions opt_;

  boost::asio::io_context io_;
  std::unique_ptr<Clock> clock_;
  SignalTable signals_;
  CoreIo io_core_;
  std::vector<DerivedSignal> derived_;
  std::optional<Timeline> timeline_;
  std::optional<SafetyEnvelope> envelope_;
  std::vector<Check> checks_;
  std::vector<Measurement> measurements_;
  TimeseriesWriter series_;
  std::optional<CycleLoop> loop_;
  Duration cycle_{0};
  Duration record_interval_{0};
  Time next_record_{0};
  bool stopping_ = false;
  Verdict stop_verdict_ = Verdict::pass;
  std::string stop_reason_;
  TestRecord record_;
  bool configured_ = false;
  std::chrono::steady_clock::time_point wall_start_;
  std::chrono::steady_clock::time_point last_progress_;
  std::chrono::steady_clock::time_point last_flush_;
};

void RunSession::setup() {
  for (auto& d : bench_.devices) {
    d->set_fault_after(std::max(1, static_cast<int>(std::chrono::seconds(2) / cycle_)));
    if (auto s = d->configure(signals_); !s) throw std::runtime_error(s.message());
  }
  for (const DerivedSpec& spec : sc_.derived) derived_.emplace_back(spec, signals_, cycle_);
  CoreContext ctx{st_, LayeredConfig(st_.core_params, sc_.core_params), cycle_, sc_.start_time_of_day_s};
  core_->configure(ctx, io_core_);
  signals_.freeze();
  timeline_.emplace(sc_, st_, signals_);
  envelope_.emplace(st_, signals_);
  for (const CheckSpec& c : sc_.checks) checks_.emplace_back(c, signals_);
  for (const MeasurementSpec& m : sc_.measurements) measurements_.emplace_back(m, signals_);
  configured_ = true;
}

bool RunSession::cycle(Time now) {
  try {
    if (opt_.stop_after >= Time{0} && now >= opt_.stop_after) {
      stop(Verdict::aborted, "stop requested at t=" + std::to_string(to_seconds(now)) + " s");
      return false;
    }
    if (bench_.plant)
      if (auto s = bench_.plant->advance_to(now); !s) {
        stop(Verdict::error, "simulation: " + s.message());
        return false;
      }
    for (auto& d : bench_.devices) {
      if (auto s = d->read(now, signals_); !s) {
        if (d->state() == DeviceState::error) {
          stop(Verdict::error, s.message());
          return false;
        }
        if (d->consecutive_read_failures() == 1) event(now, s.message());
      }
    }
    for (DerivedSignal& ds : derived_) ds.update(now, signals_);
    timeline_->apply(now, signals_);
    io_core_.set_time(now);
    core_->step(now, io_core_);
    envelope_->apply(signals_);
    for (auto& d : bench_.devices)
      if (auto s = d->write(now, signals_); !s) {
        stop(Verdict::error, s.message());
        return false;
      }
    for (Check& c : checks_) c.evaluate(now);
    for (Measurement& m : measurements_) m.sample(now);
    if (now >= next_record_) {
      series_.write_row(now, signals_);
      next_record_ += record_interval_;
    }
    if (opt_.after_cycle) opt_.after_cycle(now, signals_);
    if (opt_.show_progress && (loop_->stats().cycles & 1023) == 0) progress(now);
    if (opt_.real_time && (loop_->stats().cycles & 63) == 0) {
      // Real-time runs last hours: keep what was recorded on disk as it goes.
      const auto w = std::chrono::steady_clock::now();
      if (w - last_flush_ > std::chrono::seconds(2)) (void)series_.flush(), last_flush_ = w;
    }
    return true;
  } catch (const std::exception& e) {
    stop(Verdict::error, std::string("exception at t=") + std::to_string(to_seconds(now)) + " s: " + e.what());
    return false;
  }
}

void RunSession::progress(Time now) {
  const auto w = std::chrono::steady_clock::now();
  if (w - last_progress_ < std::chrono::milliseconds(500)) return;
  last_progress_ = w;
  const double wall = std::chrono::duration<double>(w - wall_start_).count();
  const double sim = to_seconds(now), total = to_seconds(sc_.duration);
  const double speed = wall > 0 ? sim / wall : 0;
  const double eta = speed > 0 ? (total - sim) / speed : 0;
  std::fprintf(stderr, "\r  %s: t=%.0f/%.0f s  %.0fx real time  ETA %.0f s   ", sc_.name.c_str(), sim, total, speed, eta);
}

void RunSession::safe_state() {
  // Power first, contactors last: inverters to zero before any pack opens its contactor under
  // load, then loads, then packs, then the rest (grid emulators).
  static const char* kOrder[] = {"inverter", "load", "pack"};
  std::vector<Device*> order;
  for (const char* role : kOrder)
    for (auto& d : bench_.devices)
      if (d->role() == role) order.push_back(d.get());
  for (auto& d : bench_.devices)
    if (std::find(order.begin(), order.end(), d.get()) == order.end()) order.push_back(d.get());
  for (Device* d : order) {
    SafeStateRecord r;
    r.device = d->name();
    try {
      Status s = d->state() == DeviceState::active ? d->deactivate() : d->command_safe_state();
      if (!s && d->state() != DeviceState::unconfigured) s = d->command_safe_state();  // one retry, as a plain command
      r.commanded = s.is_ok();
      SafeStateReport v = d->verify_safe_state();
      r.verified = v.verified;
      r.detail = s ? v.detail : s.message() + "; " + v.detail;
    } catch (const std::exception& e) {
      r.detail = std::string("exception: ") + e.what();  // not commanded, not verified: the record says so
    }
    record_.safe_state.push_back(r);
  }
}

RunResult RunSession::execute() {
  RunResult result;
  wall_start_ = last_progress_ = last_flush_ = std::chrono::steady_clock::now();
  record_.run_id = make_run_id();
  record_.started_utc = utc_now();
  record_.real_time = opt_.real_time;
  record_.software_version = ZHIL_VERSION;
  record_.station_name = st_.name;
  record_.station_file = st_.file;
  record_.scenario_name = sc_.name;
  record_.scenario_file = sc_.file;
  record_.scenario_sha256 = sc_.sha256;
  record_.seed = opt_.seed;
  record_.core = st_.core;
  record_.duration_s = to_seconds(sc_.duration);
  cycle_ = sc_.cycle.value_or(st_.cycle);
  record_interval_ = sc_.record_interval.value_or(cycle_);
  record_.cycle_s = to_seconds(cycle_);
  std::filesystem::create_directories(opt_.out_dir);
  const std::string record_path = opt_.out_dir + "/record.json";
  result.record_path = record_path;

  Verdict verdict = Verdict::pass;
  std::string error;
  // SIGINT/SIGTERM are caught for the whole run, from setup to the written record: one that comes
  // during setup aborts at the first cycle; one during the safe state or the record waits, so
  // neither is cut short.
  if (opt_.real_time) clock_ = std::make_unique<RealTimeClock>(io_);
  else clock_ = std::make_unique<SimulatedClock>(io_);
  std::optional<boost::asio::signal_set> signals_set;
  if (opt_.handle_signals) {
    signals_set.emplace(io_, SIGINT, SIGTERM);
    signals_set->async_wait([this](const boost::system::error_code& ec, int sig) {
      if (!ec) stop(Verdict::aborted, sig == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
    });
  }
  try {
    record_.station_sha256 = sha256_file_hex(st_.file);
    // Every file behind the run, so that a changed fixture or trace shows in the record.
    std::vector<std::string> files{sc_.file, st_.file};
    files.insert(files.end(), sc_.input_files.begin(), sc_.input_files.end());
    files.insert(files.end(), bench_.input_files.begin(), bench_.input_files.end());
    std::sort(files.begin(), files.end());
    files.erase(std::unique(files.begin(), files.end()), files.end());
    for (const std::string& f : files) record_.inputs.emplace_back(f, sha256_file_hex(f));
    setup();
    record_.timeseries_file = "timeseries.csv";
    if (auto s = series_.open(opt_.out_dir + "/timeseries.csv", signals_); !s) throw std::runtime_error(s.message());
    for (auto& d : bench_.devices)
      if (auto s = d->activate(Time{0}); !s) throw std::runtime_error(s.message());

    loop_.emplace(*clock_, cycle_, sc_.duration);
    std::optional<RealTimeTuning> tuning;
    if (auto* rt = dynamic_cast<RealTimeClock*>(clock_.get())) {
      tuning.emplace();
      record_.rt_tuning = tuning->description();
      rt->set_spin(std::min<Duration>(std::chrono::microseconds(200), cycle_ / 10));
      rt->restart();
    }
    loop_->start([this](Time now) { return cycle(now); });
    if (opt_.on_started) opt_.on_started(record_.run_id);
    // Run cycles until the loop stops; then drop the signal wait so run() can return.
    while (!loop_->finished() && !stopping_ && io_.run_one() > 0) {
    }
    if (opt_.show_progress) std::fprintf(stderr, "\n");
    record_.cycles = loop_->stats().cycles;
    record_.end_s = to_seconds(loop_->last_cycle_time());
    if (stopping_) {
      verdict = stop_verdict_;
      error = stop_reason_;
    }
  } catch (const std::exception& e) {
    verdict = Verdict::error;
    error = e.what();
  }
  safe_state();
  bool safe_ok = true;
  for (const auto& s : record_.safe_state) safe_ok = safe_ok && s.commanded && s.verified;
  if (!safe_ok && verdict == Verdict::pass) {
    verdict = Verdict::error;
    error = "safe state not verified on every device";
  }
  (void)series_.close();
  record_.timeseries_rows = series_.rows();

  const bool completed = verdict == Verdict::pass;
  const Time end = loop_ ? loop_->last_cycle_time() : Time{0};
  bool any_fail = false;
  for (const Check& c : checks_) {
    record_.checks.push_back(c.result(end, completed));
    any_fail = any_fail || record_.checks.back().outcome == CheckOutcome::fail;
  }
  for (const Measurement& m : measurements_) {
    record_.measurements.push_back(m.result(end, completed));
    any_fail = any_fail || record_.measurements.back().outcome == "FAIL";
  }
  if (verdict == Verdict::pass && any_fail) verdict = Verdict::fail;
  if (envelope_) record_.envelope_interventions = envelope_->interventions();
  for (const auto& d : bench_.devices) {
    const DeviceConfig* dc = st_.find(d->name());
    record_.devices.push_back({d->name(), d->role(), dc ? dc->model : "", dc ? dc->link_type : "", d->identity(),
                               to_string(d->state())});
  }
  if (loop_ && opt_.real_time) {
    const LoopStats& ls = loop_->stats();
    record_.rt_overruns = ls.overruns;
    record_.rt_skipped = ls.skipped_cycles;
    record_.rt_p50_us = ls.latency.percentile_us(50);
    record_.rt_p99_us = ls.latency.percentile_us(99);
    record_.rt_max_us = ls.latency.max_us();
    record_.rt_max_work_us = static_cast<double>(ls.max_work.count()) / 1000.0;
  }
  record_.verdict = verdict;
  record_.error = error;
  record_.ended_utc = utc_now();
  record_.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count();
  record_.speed_x = record_.wall_seconds > 0 ? record_.end_s / record_.wall_seconds : 0;
  try {
    write_record_json(record_, record_path);
    write_junit_xml(record_, opt_.out_dir + "/junit.xml");
  } catch (const std::exception& e) {
    verdict = Verdict::error;
    error = (error.empty() ? "" : error + "; ") + "record not written: " + e.what();
  }
  if (signals_set) signals_set->cancel();
  result.verdict = verdict;
  result.error = error;
  result.record = record_;
  return result;
}

}  // namespace

RunResult execute_run(const StationConfig& station, const Scenario& scenario, Bench& bench,
                      std::unique_ptr<ControlCore> core, const RunOptions& options) {
  RunSession session(station, scenario, bench, std::move(core), options);
  return session.execute();
}

}  // namespace zhil
