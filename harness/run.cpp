#include "harness/run.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <filesystem>
#include <optional>
#include <random>
#include <sstream>
#include <type_traits>

#include "harness/checkpoint/state_archive.hpp"
#include "harness/cycle_timing.hpp"
#include "harness/config/config_error.hpp"
#include "harness/host_signals.hpp"
#include "harness/io_phase.hpp"
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

std::string make_run_id() {
  std::random_device rd;
  std::ostringstream o;
  o << std::hex << std::chrono::system_clock::now().time_since_epoch().count() << "-" << rd();
  return o.str();
}

std::string seconds_text(Duration d) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, to_seconds(d));  // shortest exact: 36000.05, not 36000
  return std::string(buf, r.ptr);
}

// A file as the record names it: relative to `base` when inside it, else as given.
std::string record_path(const std::string& path, const std::string& base) {
  if (base.empty() || path.empty()) return path;
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(path, ec);
  if (ec) return path;
  const fs::path b = fs::weakly_canonical(base, ec);
  if (ec) return path;
  const fs::path rel = p.lexically_relative(b);
  if (rel.empty() || *rel.begin() == "..") return path;
  return rel.string();
}

constexpr std::size_t kMaxEvents = 1000;

}  // namespace

// Memory held from setup to the record and given back on the first std::bad_alloc, so that the safe
// state and the record can still be written. Mapped on its own (not from malloc's heap): it is
// excluded from the time series' writer process (a fork, MADV_DONTFORK), and that advice must go
// with the mapping. On pages of malloc's heap it would outlive the reserve, and memory malloc later
// hands out there (the next run's writer buffer, in a process that runs several: a suite, Python)
// would be missing in the next writer process, which then crashed.
class MemoryReserve {
 public:
  MemoryReserve() = default;
  MemoryReserve(const MemoryReserve&) = delete;
  MemoryReserve& operator=(const MemoryReserve&) = delete;
  ~MemoryReserve() { release(); }
  // Throws std::bad_alloc when the memory is not there.
  void hold(std::size_t bytes) {
    release();
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    (void)madvise(p, bytes, MADV_DONTFORK);
    std::memset(p, 0, bytes);  // touched, so the pages are really there
    p_ = p;
    bytes_ = bytes;
  }
  void release() {
    if (p_) munmap(p_, bytes_);
    p_ = nullptr;
    bytes_ = 0;
  }

 private:
  void* p_ = nullptr;
  std::size_t bytes_ = 0;
};

struct Run::Impl : DeviceObserver {
  Impl(const StationConfig& st, const Scenario& sc, Bench& bench, std::unique_ptr<ControlCore> core, RunOptions opt)
      : st_(st), sc_(sc), bench_(bench), core_(std::move(core)), opt_(std::move(opt)), io_core_(signals_) {}

  // --- setup
  void begin_record();
  Status prepare();
  void setup();
  void configure();
  void activate();
  void schedule_timeline();
  void drive_until(const std::shared_ptr<bool>& flag);
  void drive_until_safe(const std::shared_ptr<bool>& flag);
  void mark(std::size_t device, Quality q);

  // --- the cycle, as a state machine of asynchronous phases
  void schedule_cycle(Time at);
  void start_cycle(Time due);
  void after_acquire();
  void after_write();
  void deliver_stimuli();
  void note_io(std::size_t i, IoOutcome outcome, const std::string& error, bool read);
  void device_done(Device& device, DeviceOp op, const Status& status) override;
  void fire_event(std::size_t k);
  void advance_plant(Time now);

  // --- checkpoints
  void check_checkpointable();
  void take_checkpoint();
  template <class Archive>
  void run_state(Archive& a);
  void save_state(StateWriter& a);
  void load_state(StateReader& a);
  void resume_state();
  void load_checkpoint(const RunCheckpoint& cp);

  // --- ending
  void stop(Verdict v, const std::string& why, StopCause cause = StopCause::error);
  void on_signal(int sig);
  // An exception's message; for an out-of-memory, the memory reserve is given back first, so that
  // the safe state and the record can still be written.
  std::string failure_text(const std::exception& e);
  void cancel_schedule();
  void safe_state();
  RunResult finish();
  void event(Time t, const std::string& what);
  void progress(Time now);
  bool ended() const { return failed_setup_ || finished_ || completed_ || (stopping_ && !in_cycle_); }

  const StationConfig& st_;
  const Scenario& sc_;
  Bench& bench_;
  std::unique_ptr<ControlCore> core_;
  RunOptions opt_;

  boost::asio::io_context io_;
  std::unique_ptr<Clock> clock_;
  SignalTable signals_;
  CoreIo io_core_;
  std::vector<Device*> devices_;
  std::vector<Duration> deadlines_, fault_after_, settle_;
  std::vector<int> owner_;  // signal id -> index of the device that owns it, or -1
  // By device: every measurement in the table under its name, including those of a device it wraps
  // (a driver built on another registers its inner device's signals under the same name).
  std::vector<std::vector<SignalId>> measurements_of_;
  std::vector<char> stimuli_dirty_;
  bool activation_sent_ = false;  // from then on every configured device gets the safe state
  std::vector<SignalId> changed_;
  std::optional<IoPhase> phase_;
  std::vector<DerivedSignal> derived_;
  std::optional<Timeline> timeline_;
  std::optional<SafetyEnvelope> envelope_;
  std::vector<Check> checks_;
  std::vector<bool> check_reported_;  // its failure went to the sinks
  std::vector<Measurement> measurements_;
  std::vector<std::shared_ptr<RunSink>> sinks_;
  std::shared_ptr<TimeseriesWriter> series_;
  std::shared_ptr<RecordWriter> record_writer_;
  std::optional<HostSignalCapture> signal_capture_;
  std::optional<RealTimeTuning> tuning_;
  SignalId run_overruns_ = kNoSignal, run_late_ = kNoSignal;
  std::vector<SignalId> comm_ok_, comm_failures_;  // by device

  Duration cycle_{0};
  Duration record_interval_{0};
  Time next_record_{0};
  Time due_{0};         // nominal time of the cycle in flight
  Time last_cycle_{0};  // nominal time of the last completed cycle
  Time next_due_{0};    // nominal time of the next cycle scheduled
  TimerId cycle_timer_ = kNoTimer;
  std::vector<TimerId> event_timers_;
  std::uint64_t cycles_done_ = 0;
  std::size_t late_this_cycle_ = 0;
  LoopStats stats_;
  bool prepared_ = false;
  Status prepare_status_;
  std::shared_ptr<OutputFolder> folder_;
  bool set_up_ = false, failed_setup_ = false, in_cycle_ = false, completed_ = false, finished_ = false;
  bool stopping_ = false;
  Verdict stop_verdict_ = Verdict::pass;
  std::string stop_reason_;
  StopCause stop_cause_ = StopCause::none;
  int caught_signal_ = 0;
  std::string lost_;  // the first device lost in this cycle: the run ends as ERROR after it
  TestRecord record_;
  RunResult result_;
  // Held from setup to the record: given back on the first std::bad_alloc (see failure_text).
  MemoryReserve memory_reserve_;
  std::chrono::steady_clock::time_point wall_start_, last_progress_, last_flush_;
  // Checkpoints: the next is taken after the first cycle at or past next_checkpoint_.
  Time next_checkpoint_{0};
  std::uint64_t checkpoint_seq_ = 0;
  std::uint32_t resumptions_ = 0;  // how often this run has been resumed, this time included
  bool checkpoint_failed_ = false;  // noted once
  Time clock_at_checkpoint_{0};
};

// ---------------------------------------------------------------------------------------------
// setup

void Run::Impl::begin_record() {
  wall_start_ = last_progress_ = last_flush_ = std::chrono::steady_clock::now();
  record_.run_id = make_run_id();
  record_.started_utc = utc_timestamp();
  record_.real_time = opt_.real_time;
  record_.software_version = ZHIL_VERSION;
  record_.station_name = st_.name;
  record_.station_file = record_path(st_.file, opt_.path_base);
  record_.scenario_name = sc_.name;
  record_.scenario_file = record_path(sc_.file, opt_.path_base);
  record_.scenario_sha256 = sc_.sha256;
  record_.seed = opt_.seed;
  record_.core = opt_.core_name.empty() ? st_.core : opt_.core_name;
  record_.dut_serial = opt_.dut_serial;
  record_.metadata = opt_.metadata;
  record_.duration_s = to_seconds(sc_.duration);
  cycle_ = sc_.cycle.value_or(st_.cycle);
  record_interval_ = sc_.record_interval.value_or(cycle_);
  record_.cycle_s = to_seconds(cycle_);
}

void Run::Impl::configure() {
  DeviceContext ctx{signals_, *clock_};
  for (std::size_t i = 0; i < bench_.devices.size(); ++i) {
    Device& d = *bench_.devices[i];
    devices_.push_back(&d);
    const DeviceConfig* dc = st_.find(d.name());
    const DeviceTiming& t = dc ? dc->timing : st_.timing;
    // Both I/O phases must fit in one cycle: by default each may take 40 % of it.
    const Duration deadline = t.deadline.value_or(cycle_ * 2 / 5);
    if (deadline * 2 > cycle_)
      throw ConfigError((!t.where.empty() ? t.where : dc ? dc->entry.where() : st_.file + ":1:1") + ": device " +
                        d.name() + ": deadline " +
                        seconds_text(deadline) + " s leaves no room for both I/O phases in a cycle of " +
                        seconds_text(cycle_) + " s (at most half the cycle)");
    // A simulated link slower than the deadline would lose the device on its first read.
    if (const auto* ip = dc ? dynamic_cast<const InProcessLink*>(dc->link.get()) : nullptr; ip && ip->latency >= deadline)
      throw ConfigError(dc->entry["link"].where() + ": device " + d.name() + ": link latency " +
                        seconds_text(ip->latency) + " s is not below its I/O deadline of " + seconds_text(deadline) +
                        " s: every read would be late");
    if (t.safe_state_settle < d.safe_state_time())
      throw ConfigError((!t.settle_where.empty() ? t.settle_where : dc ? dc->entry.where() : st_.file + ":1:1") +
                        ": device " + d.name() +
                        ": safe_state_settle " + seconds_text(t.safe_state_settle) +
                        " s is shorter than the device takes to reach its safe state (" +
                        seconds_text(d.safe_state_time()) + " s): it could never be verified");
    deadlines_.push_back(deadline);
    fault_after_.push_back(t.fault_after);
    settle_.push_back(t.safe_state_settle);
    d.set_observer(this, i);
    ctx.watchdog = t.watchdog;
    if (auto s = d.configure(ctx); !s) throw std::runtime_error(s.message());
  }
  if (sc_.duration < cycle_)
    throw ConfigError((sc_.duration_where.empty() ? sc_.file + ":1:1" : sc_.duration_where) + ": the scenario's duration (" + seconds_text(sc_.duration) +
                      " s) is shorter than one cycle (" + seconds_text(cycle_) + " s)");
  // Derived-signal windows: each at least a cycle, and bounded in total (each sample is 8 bytes).
  std::uint64_t derived_samples = 0;
  constexpr std::uint64_t kMaxDerivedSamples = 4'000'000;
  for (const DerivedSpec& spec : sc_.derived) {
    if (spec.window < cycle_)
      throw ConfigError(spec.where + ": derived signal '" + spec.name + "': window " + seconds_text(spec.window) +
                        " s is shorter than a cycle (" + seconds_text(cycle_) + " s)");
    derived_samples += static_cast<std::uint64_t>(spec.window / cycle_) + 1;
    if (derived_samples > kMaxDerivedSamples)
      throw ConfigError(spec.where + ": derived signals' windows hold more than " +
                        std::to_string(kMaxDerivedSamples) + " samples in all at a cycle of " + seconds_text(cycle_) +
                        " s: use shorter windows or a longer cycle");
    derived_.emplace_back(spec, signals_, cycle_);
  }
  if (auto s = signals_.add("run.overruns", "1", SignalKind::measurement, "harness", &run_overruns_); !s)
    throw std::runtime_error(s.message());
  if (auto s = signals_.add("run.late_devices", "1", SignalKind::measurement, "harness", &run_late_); !s)
    throw std::runtime_error(s.message());
  // Per device, what the harness sees of its link: 1 while its reads are answered, and how many of
  // its reads and writes have failed or come late (checks on detection and recovery read these).
  comm_ok_.assign(devices_.size(), kNoSignal);
  comm_failures_.assign(devices_.size(), kNoSignal);
  for (std::size_t i = 0; i < devices_.size(); ++i) {
    const std::string p = "run." + devices_[i]->name() + ".";
    if (auto s = signals_.add(p + "comm_ok", "1", SignalKind::measurement, "harness", &comm_ok_[i]); !s)
      throw std::runtime_error(s.message());
    if (auto s = signals_.add(p + "comm_failures", "1", SignalKind::measurement, "harness", &comm_failures_[i]); !s)
      throw std::runtime_error(s.message());
  }
  CoreContext cctx{st_, LayeredConfig(st_.core_params, sc_.core_params), cycle_, sc_.start_time_of_day_s, opt_.real_time,
                   clock_.get()};
  core_->configure(cctx, io_core_);
  signals_.freeze();
  signals_.set(run_overruns_, 0, Time{0});
  signals_.set(run_late_, 0, Time{0});
  for (std::size_t i = 0; i < devices_.size(); ++i) {
    signals_.set(comm_ok_[i], 1, Time{0});
    signals_.set(comm_failures_[i], 0, Time{0});
  }
  std::map<std::string, int> index;
  for (std::size_t i = 0; i < devices_.size(); ++i) index.emplace(devices_[i]->name(), static_cast<int>(i));
  owner_.assign(signals_.size(), -1);
  measurements_of_.assign(devices_.size(), {});
  for (SignalId id = 0; id < signals_.size(); ++id)
    if (auto it = index.find(signals_.info(id).owner); it != index.end()) {
      owner_[id] = it->second;
      if (signals_.info(id).kind == SignalKind::measurement)
        measurements_of_[static_cast<std::size_t>(it->second)].push_back(id);
    }
  stimuli_dirty_.assign(devices_.size(), 0);
  timeline_.emplace(sc_, st_, signals_);
  envelope_.emplace(st_, signals_, [this, &index](const std::string& name) -> const DeviceHealth* {
    auto it = index.find(name);
    return it == index.end() ? nullptr : &devices_[static_cast<std::size_t>(it->second)]->health();
  });
  // A window must hold at least one cycle, or its check or measurement could never be decided
  // (from 10.01 s until 10.09 s with a 100 ms cycle). Cycles run at k * cycle.
  auto holds_a_cycle = [this](Time from, Time until) {
    const auto k = (from.count() + cycle_.count() - 1) / cycle_.count();
    return Time{Duration{k * cycle_.count()}} <= until;
  };
  for (const CheckSpec& c : sc_.checks) {
    Time until = c.until.value_or(sc_.duration);
    if (c.kind == CheckKind::eventually || c.kind == CheckKind::settles) until = std::min(until, c.from + c.within);
    if (!holds_a_cycle(c.from, until))
      throw ConfigError(c.where + ": check '" + c.name + "': its window (" + seconds_text(c.from) + " s to " +
                        seconds_text(until) + " s) holds no cycle of " + seconds_text(cycle_) + " s");
    checks_.emplace_back(c, signals_);
    check_reported_.push_back(false);
  }
  for (const MeasurementSpec& m : sc_.measurements) {
    const Time until = m.until.value_or(sc_.duration);
    if (!holds_a_cycle(m.from, until))
      throw ConfigError(m.where + ": measurement '" + m.name + "': its window (" + seconds_text(m.from) + " s to " +
                        seconds_text(until) + " s) holds no cycle of " + seconds_text(cycle_) + " s");
    measurements_.emplace_back(m, signals_);
  }
  phase_.emplace(*clock_, signals_, devices_, deadlines_);
  (void)select_signals(signals_, sc_.record);  // every record: pattern must match a signal
  if (opt_.checkpoint_every > Duration{0} || opt_.resume) check_checkpointable();
}

// A run with checkpoints must be able to take all of its state back: its core's always; in
// simulated time also every device's and the plant's (in real time the devices' state is on the
// bench, and they are brought up again from their safe state).
void Run::Impl::check_checkpointable() {
  const std::string what = opt_.resume ? "resume: " : "checkpoints: ";
  if (opt_.checkpoint_every > Duration{0} && opt_.checkpoint_every < cycle_)
    throw ConfigError(what + "the checkpoint interval (" + seconds_text(opt_.checkpoint_every) +
                      " s) is shorter than a cycle (" + seconds_text(cycle_) + " s)");
  if (!core_->checkpointable())
    throw ConfigError(what + "the control core " + (opt_.core_name.empty() ? st_.core : opt_.core_name) +
                      " cannot save its state, so the run could not be resumed (the reference and acceptance "
                      "cores can)");
  if (opt_.real_time) return;
  if (bench_.plant && !bench_.plant->checkpointable())
    throw ConfigError(what + "the simulation of station " + st_.name + " cannot save its state");
  for (Device* d : devices_)
    if (!d->checkpointable()) {
      const DeviceConfig* dc = st_.find(d->name());
      throw ConfigError((dc ? dc->entry.where() + ": " : "") + what + "device " + d->name() +
                        (dc ? " (" + dc->model + " over " + dc->link_type + ")" : "") +
                        " cannot save its state between cycles, so a simulated run on this station cannot be "
                        "resumed exactly: checkpoints need in-process simulators in simulated time (or a real-time run)");
    }
}

// Runs the clock until `*flag` is set (a phase ended, a wait is over). Every phase has deadline
// timers, so this ends; a simulated clock whose held I/O stalls throws ClockStalled. The flag is
// shared with the handler that sets it, which may still be pending if this throws.
void Run::Impl::drive_until(const std::shared_ptr<bool>& flag) {
  while (!*flag && clock_->run_one()) {
  }
}

// The same for the safe state: a peer that stalls simulated time is given up (its holds abandoned,
// the stall recorded) and the clock driven on, so its deadline passes and the rest are reached.
void Run::Impl::drive_until_safe(const std::shared_ptr<bool>& flag) {
  for (;;) {
    try {
      drive_until(flag);
      return;
    } catch (const ClockStalled& e) {
      clock_->abandon_holds();
      event(clock_->now(), failure_text(e));
    }
  }
}

void Run::Impl::mark(std::size_t device, Quality q) {
  for (SignalId id : measurements_of_[device]) signals_.set_quality(id, q);
}

void Run::Impl::activate() {
  auto done = std::make_shared<bool>(false);
  activation_sent_ = true;
  phase_->start(DeviceOp::activate, clock_->now(), {}, false, [done] { *done = true; });
  drive_until(done);
  for (std::size_t i = 0; i < devices_.size(); ++i)
    if (phase_->outcome(i) != IoOutcome::ok)
      throw std::runtime_error(phase_->error(i).empty() ? "device " + devices_[i]->name() + ": not activated"
                                                        : phase_->error(i));
}

Status Run::Impl::prepare() {
  if (prepared_) return prepare_status_;
  prepared_ = true;
  if (opt_.real_time) clock_ = std::make_unique<RealTimeClock>(io_);
  else clock_ = std::make_unique<SimulatedClock>(io_);
  clock_->set_stall_limit(opt_.stall_limit);
  begin_record();
  try {
    configure();
  } catch (const std::bad_alloc&) {
    prepare_status_ = Status::error("out of memory while binding the scenario to the station");
  } catch (const std::exception& e) {
    prepare_status_ = Status::error(failure_text(e));
  }
  return prepare_status_;
}

void Run::Impl::setup() {
  set_up_ = true;
  try {
    constexpr std::size_t kReserve = 16u << 20;
    memory_reserve_.hold(kReserve);
  } catch (const std::bad_alloc&) {
    failed_setup_ = stopping_ = true;
    stop_verdict_ = Verdict::error;
    stop_reason_ = "out of memory before the run started";
    folder_ = opt_.output;  // a folder the host claimed gets its record
    if (folder_) record_writer_ = std::make_shared<RecordWriter>(folder_);
    return;
  }
  // Terminating signals are caught from here until the record is written: one that comes during
  // setup aborts before the first cycle; one during the safe state or the record waits. One the
  // host caught before the run took over (while the files were loaded) counts as well.
  if (opt_.handle_signals) {
    signal_capture_.emplace(io_, [this](int sig) { on_signal(sig); });
    if (opt_.pending_signal)
      if (const int sig = opt_.pending_signal(); sig != 0) {
        caught_signal_ = sig;
        stop(Verdict::aborted, (sig == SIGINT ? "interrupted (" : "terminated (") + signal_name(sig) +
                                   ") before the run started", StopCause::signal);
      }
  }
  try {
    if (auto p = prepare(); !p) throw std::runtime_error(p.message());
    record_.station_sha256 = sha256_file_hex(st_.file);
    // Every file behind the run, so that a changed fixture or trace shows in the record.
    std::vector<std::string> files{sc_.file, st_.file};
    files.insert(files.end(), sc_.input_files.begin(), sc_.input_files.end());
    files.insert(files.end(), bench_.input_files.begin(), bench_.input_files.end());
    for (auto& f : files) f = std::filesystem::path(f).lexically_normal().string();
    std::sort(files.begin(), files.end());
    files.erase(std::unique(files.begin(), files.end()), files.end());
    for (const std::string& f : files) record_.inputs.emplace_back(record_path(f, opt_.path_base), sha256_file_hex(f));
    if (const auto& cp = opt_.resume) {
      // The same run goes on: its id, its start, its folder; and only from the very files it ran.
      if (cp->software_version != ZHIL_VERSION)
        throw CheckpointError("resume: run " + cp->run_id + " was taken by zhil " + cp->software_version +
                              "; this is zhil " + ZHIL_VERSION + ", whose state may not be laid out the same");
      for (const auto& input : cp->inputs) {
        const std::string& file = input.first;
        const std::string& sha = input.second;
        auto it = std::find_if(record_.inputs.begin(), record_.inputs.end(), [&](const auto& x) { return x.first == file; });
        if (it == record_.inputs.end() || it->second != sha)
          throw CheckpointError("resume: input file " + file + " has changed since run " + cp->run_id + " started" +
                                (it == record_.inputs.end() ? " (the run no longer reads it)"
                                                            : " (SHA-256 " + it->second + ", was " + sha + ")"));
      }
      if (record_.inputs.size() != cp->inputs.size())
        throw CheckpointError("resume: the run reads other files than run " + cp->run_id + " read");
      record_.run_id = cp->run_id;
      record_.started_utc = cp->started_utc;
      const std::string station_sha = sha256_file_hex(st_.file);
      if (station_sha != cp->station_sha256)
        throw CheckpointError("resume: station file " + st_.file + " has changed since run " + cp->run_id +
                              " started (SHA-256 " + station_sha + ", was " + cp->station_sha256 + ")");
      if (sc_.sha256 != cp->scenario_sha256)
        throw CheckpointError("resume: scenario file " + sc_.file + " has changed since run " + cp->run_id +
                              " started (SHA-256 " + sc_.sha256 + ", was " + cp->scenario_sha256 + ")");
      if (opt_.real_time != cp->real_time)
        throw CheckpointError(std::string("resume: run ") + cp->run_id + " ran in " +
                              (cp->real_time ? "real" : "simulated") + " time; it resumes in the same");
      // Before anything is touched (its time series, its record, its row in the store): the
      // checkpoint must load into this run. It is loaded again once the devices are up.
      load_checkpoint(*cp);
    }
    // Only now that everything binds is anything created on disk.
    folder_ = opt_.output               ? opt_.output
              : opt_.resume ? OutputFolder::reopen(opt_.resume->out_dir)
                            : OutputFolder::claim(opt_.out_dir, opt_.overwrite);
    record_writer_ = std::make_shared<RecordWriter>(folder_);
    series_ = std::make_shared<TimeseriesWriter>(folder_, sc_.record);
    if (opt_.resume) series_->resume_at(opt_.resume->timeseries_bytes, opt_.resume->timeseries_rows);
    sinks_.insert(sinks_.begin(), series_);
    sinks_.push_back(record_writer_);
    RunInfo info{record_.run_id, folder_->path(), opt_.real_time, &record_, opt_.resume.get()};
    next_checkpoint_ = Time{opt_.checkpoint_every};
    for (auto& s : sinks_)
      if (auto st = s->on_started(info, signals_); !st) throw std::runtime_error(st.message());
    // A run killed from here on (SIGKILL, power loss) leaves a record that says it did not end.
    if (auto st = record_writer_->write_running(record_); !st) throw std::runtime_error(st.message());
    // Stopped already (a signal the host caught while the files loaded): no device is activated.
    if (stopping_) return;
    activate();
    if (stopping_) return;  // a signal during activation: the safe state follows in finish()
    if (opt_.resume) {
      resume_state();
      if (opt_.on_started) opt_.on_started(record_.run_id);
      return;
    }
    // Time starts at 0 now that the devices are up; the plant advances before every timer.
    clock_->restart();
    for (Device* d : devices_) d->health().commands_valid_since = Time{0};
    if (bench_.plant) clock_->set_before_timer([this](Time now) { advance_plant(now); });
    for (Device* d : devices_) d->apply_stimuli(Time{0}, signals_);  // the stimuli's initial values
    if (opt_.real_time) {
      tuning_.emplace();
      record_.rt_tuning = tuning_->description();
      if (auto* rt = dynamic_cast<RealTimeClock*>(clock_.get()))
        rt->set_spin(std::min<Duration>(std::chrono::microseconds(200), cycle_ / 10));
      clock_->restart();
    }
    for (Device* d : devices_) d->health().commands_valid_since = Time{0};
    schedule_timeline();
    schedule_cycle(Time{0});
    if (opt_.on_started) opt_.on_started(record_.run_id);
  } catch (const std::exception& e) {
    failed_setup_ = true;
    if (!stopping_ || stop_verdict_ != Verdict::aborted) {
      stopping_ = true;
      stop_verdict_ = Verdict::error;
      stop_reason_ = failure_text(e);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// checkpoints

// Everything of the run itself that changes as it goes, both ways (the record's fixed fields are
// set again by setup()).
template <class Archive>
void Run::Impl::run_state(Archive& a) {
  state_section(a, "run");
  std::uint64_t devices = devices_.size(), checks = checks_.size(), measurements = measurements_.size(),
                derived = derived_.size();
  a(devices, checks, measurements, derived);
  if (devices != devices_.size() || checks != checks_.size() || measurements != measurements_.size() ||
      derived != derived_.size())
    throw CheckpointError("checkpoint: it has " + std::to_string(devices) + " devices, " + std::to_string(checks) +
                          " checks, " + std::to_string(measurements) + " measurements and " + std::to_string(derived) +
                          " derived signals; this run has " + std::to_string(devices_.size()) + ", " +
                          std::to_string(checks_.size()) + ", " + std::to_string(measurements_.size()) + " and " +
                          std::to_string(derived_.size()));
  a(cycles_done_, last_cycle_, due_, next_due_, next_record_, next_checkpoint_, checkpoint_seq_, clock_at_checkpoint_);
  a(stats_.cycles, stats_.overruns, stats_.skipped_cycles, record_.late_device_io, record_.events_dropped);
  std::uint64_t events = record_.events.size();
  a(events);
  if constexpr (std::is_same_v<Archive, StateReader>) record_.events.resize(events);
  for (RunEvent& e : record_.events) a(e.t_s, e.what);
  std::vector<char> reported(check_reported_.begin(), check_reported_.end());
  a(reported);
  if constexpr (std::is_same_v<Archive, StateReader>) check_reported_.assign(reported.begin(), reported.end());
  for (Device* d : devices_) {
    DeviceHealth& h = d->health();
    a(h.read_failing_since, h.write_failing_since, h.commands_valid_since, h.failures, h.abandoned);
  }
  for (DerivedSignal& x : derived_) x.state(a);
  envelope_->state(a);
  for (Check& c : checks_) c.state(a);
  for (Measurement& m : measurements_) m.state(a);
}

void Run::Impl::save_state(StateWriter& a) {
  run_state(a);
  signals_.save_state(a);
  timeline_->save_state(a);
  core_->save_state(a);
  // Devices and plant: each says whether it saved itself (in real time a device on the bench
  // does not: it is brought up again from its safe state).
  for (Device* d : devices_) {
    const bool saved = d->checkpointable();
    a(saved);
    if (saved) d->save_state(a);
  }
  const bool plant = bench_.plant && bench_.plant->checkpointable();
  a(plant);
  if (plant) bench_.plant->save_state(a);
  state_section(a, "end");
}

void Run::Impl::load_state(StateReader& a) {
  run_state(a);
  signals_.load_state(a);
  timeline_->load_state(a);
  core_->load_state(a);
  for (Device* d : devices_) {
    bool saved = false;
    a(saved);
    if (saved && !d->checkpointable())
      throw CheckpointError("checkpoint: it holds the state of device " + d->name() + ", which cannot take one");
    if (saved) d->load_state(a);
    else if (!opt_.real_time)
      throw CheckpointError("checkpoint: it has no state for device " + d->name());
  }
  bool plant = false;
  a(plant);
  if (plant != (bench_.plant && bench_.plant->checkpointable()))
    throw CheckpointError("checkpoint: its simulation does not fit this station's");
  if (plant) bench_.plant->load_state(a);
  state_section(a, "end");  // every part read exactly what it wrote
}

void Run::Impl::take_checkpoint() {
  // The rows up to here go to the time series' writer process first: they are then on disk even if
  // this process is killed, and the checkpoint can name the byte where they end.
  if (auto s = series_->flush(); !s) throw std::runtime_error(s.message());
  clock_at_checkpoint_ = clock_->now();
  while (next_checkpoint_ <= due_) next_checkpoint_ += opt_.checkpoint_every;
  ++checkpoint_seq_;
  RunCheckpoint cp;
  cp.software_version = ZHIL_VERSION;
  cp.run_id = record_.run_id;
  cp.started_utc = record_.started_utc;
  namespace fs = std::filesystem;
  std::error_code ec;
  cp.scenario_file = fs::absolute(sc_.file, ec).lexically_normal().string();
  cp.scenario_sha256 = sc_.sha256;
  cp.station_file = fs::absolute(st_.file, ec).lexically_normal().string();
  cp.station_sha256 = record_.station_sha256;
  cp.seed = opt_.seed;
  cp.real_time = opt_.real_time;
  cp.out_dir = fs::absolute(folder_->path(), ec).lexically_normal().string();
  cp.core_name = opt_.core_name;
  cp.dut_serial = opt_.dut_serial;
  cp.metadata = opt_.metadata;
  cp.every = opt_.checkpoint_every;
  cp.sequence = checkpoint_seq_;
  cp.at = due_;
  cp.cycles = cycles_done_;
  cp.timeseries_bytes = series_->bytes_emitted();
  cp.timeseries_rows = series_->rows_emitted();
  cp.events = record_.events.size() + record_.events_dropped;
  cp.resumptions = resumptions_;
  cp.inputs = record_.inputs;
  // The run goes on whatever happens to its checkpoint (the run is what is being tested); only
  // its resumption is at stake, and the record says so once.
  auto note = [&](const std::string& why) {
    if (checkpoint_failed_) return;
    checkpoint_failed_ = true;
    event(due_, "checkpoint " + std::to_string(cp.sequence) + " not kept: " + why);
  };
  try {
    std::ostringstream bytes;
    {
      StateWriter a(bytes);
      save_state(a);
    }
    cp.state = bytes.str();
    for (auto& s : sinks_)
      if (auto st = s->on_checkpoint(cp); !st) note(st.message());
  } catch (const std::exception& e) {
    note(e.what());
  }
}

void Run::Impl::load_checkpoint(const RunCheckpoint& cp) {
  try {
    std::istringstream in(cp.state);
    StateReader a(in);
    load_state(a);
  } catch (const CheckpointError&) {
    throw;
  } catch (const std::exception& e) {
    throw CheckpointError(std::string("checkpoint ") + std::to_string(cp.sequence) + " of run " + cp.run_id +
                          " does not load: cut short, damaged, or of another layout (" + e.what() + ")");
  }
  if (checkpoint_seq_ != cp.sequence || due_ != cp.at)
    throw CheckpointError("checkpoint " + std::to_string(cp.sequence) + " of run " + cp.run_id +
                          ": its state is of another checkpoint");
}

// After the devices were activated: every part takes its state back, and the clock, the timeline's
// remaining events and the next cycle continue from the checkpoint.
void Run::Impl::resume_state() {
  const RunCheckpoint& cp = *opt_.resume;
  resumptions_ = cp.resumptions + 1;
  record_.resumptions = resumptions_;
  load_checkpoint(cp);
  clock_->restart_at(clock_at_checkpoint_);
  if (bench_.plant) clock_->set_before_timer([this](Time now) { advance_plant(now); });
  if (opt_.real_time) {
    tuning_.emplace();
    record_.rt_tuning = tuning_->description();
    if (auto* rt = dynamic_cast<RealTimeClock*>(clock_.get()))
      rt->set_spin(std::min<Duration>(std::chrono::microseconds(200), cycle_ / 10));
    clock_->restart_at(clock_at_checkpoint_);
    // The bench came up again from its safe state: what the core asked before the interruption
    // is stale, and nothing is applied until it asks again (as after a device's recovery); the
    // core starts from what the site does now; simulators go through their safe state as the
    // bench did, and take the stimuli that stand again.
    for (Device* d : devices_) d->health().commands_valid_since = next_due_;
    core_->resumed_from_safe_state();
    for (Device* d : devices_) {
      d->resumed_from_safe_state();
      d->apply_stimuli(clock_->now(), signals_);  // the stimuli that stand (a load, an outage, a fault)
    }
  }
  event(clock_->now(), "resumed from checkpoint " + std::to_string(cp.sequence) + " at t=" + seconds_text(cp.at) +
                           " s (resumption " + std::to_string(resumptions_) + ")");
  // The events still to come, then the next cycle: the order the uninterrupted run set them in.
  for (std::size_t k = 0; k < timeline_->size(); ++k)
    if (!timeline_->event_fired(k))
      event_timers_.push_back(clock_->call_at(timeline_->event_time(k), [this, k] { fire_event(k); }));
  schedule_cycle(next_due_);
}

void Run::Impl::schedule_timeline() {
  // Set before the first cycle, so that an event due at a cycle's instant acts before that cycle.
  for (std::size_t k = 0; k < timeline_->size(); ++k)
    event_timers_.push_back(clock_->call_at(timeline_->event_time(k), [this, k] { fire_event(k); }));
}

void Run::Impl::advance_plant(Time now) {
  if (auto s = bench_.plant->advance_to(now); !s) stop(Verdict::error, "simulation: " + s.message());
}

// ---------------------------------------------------------------------------------------------
// the cycle

void Run::Impl::schedule_cycle(Time at) {
  next_due_ = at;
  cycle_timer_ = clock_->call_at(at, [this, at] { start_cycle(at); }, /*precise=*/true);
}

void Run::Impl::fire_event(std::size_t k) {
  if (stopping_) return;
  const Time now = clock_->now();
  changed_.clear();
  timeline_->apply_event(k, now, signals_, changed_);
  // Noted as it happens (a results store commits it then): which stimuli it set, to what.
  std::string what;
  for (SignalId id : changed_) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10g", signals_.value(id));  // 900000, not 9e+05
    what += (what.empty() ? "" : ", ") + signals_.info(id).name + " = " + buf;
  }
  if (!what.empty()) event(now, "timeline: " + what);
  deliver_stimuli();
}

void Run::Impl::deliver_stimuli() {
  const Time now = clock_->now();
  for (SignalId id : changed_)
    if (owner_[id] >= 0) stimuli_dirty_[static_cast<std::size_t>(owner_[id])] = 1;
  for (std::size_t i = 0; i < devices_.size(); ++i)
    if (stimuli_dirty_[i]) {
      stimuli_dirty_[i] = 0;
      devices_[i]->apply_stimuli(now, signals_);
    }
}

void Run::Impl::start_cycle(Time due) {
  cycle_timer_ = kNoTimer;
  if (stopping_) return;
  in_cycle_ = true;
  due_ = due;
  late_this_cycle_ = 0;
  if (opt_.real_time) stats_.start_latency.add(clock_->now() - due);
  try {
    phase_->start(DeviceOp::read, clock_->now(), {}, false, [this] { after_acquire(); });
  } catch (const std::exception& e) {
    in_cycle_ = false;
    stop(Verdict::error, "exception at t=" + seconds_text(due) + " s: " + failure_text(e));
  }
}

void Run::Impl::note_io(std::size_t i, IoOutcome outcome, const std::string& error, bool read) {
  Device& d = *devices_[i];
  if (outcome == IoOutcome::idle) return;
  DeviceHealth& h = d.health();
  Time& since = read ? h.read_failing_since : h.write_failing_since;
  if (read) signals_.set(comm_ok_[i], outcome == IoOutcome::ok ? 1.0 : 0.0, due_);
  if (outcome == IoOutcome::ok) {
    if (since >= Time{0}) {
      if (read) h.commands_valid_since = due_;  // requests from before the loss are stale (cores stamp with due)
      event(due_, "device " + d.name() + ": " + (read ? "reads" : "writes") + " answered again after " +
                      seconds_text(due_ - since) + " s");
      since = Time{-1};
    }
    return;
  }
  if (d.state() == DeviceState::error) return;  // already lost
  ++h.failures;
  signals_.set(comm_failures_[i], static_cast<double>(h.failures), due_);
  if (outcome == IoOutcome::late || outcome == IoOutcome::busy) ++late_this_cycle_;
  const std::string why = outcome == IoOutcome::busy
                              ? "device " + d.name() + ": " + (read ? "read" : "write") +
                                    " not started: its previous request is still unanswered"
                              : error;
  if (since < Time{0}) {
    since = due_;
    event(due_, why);
  }
  if (read) mark(i, Quality::stale);
  const Duration fault_after = fault_after_[i];
  if (due_ - since >= fault_after) {
    const std::string lost = why + " (failing for " + seconds_text(due_ - since) + " s; fault_after " +
                             seconds_text(fault_after) + " s)";
    d.mark_lost(lost);
    mark(i, Quality::fault);
    event(due_, "device lost: " + lost);
    if (lost_.empty()) lost_ = lost;
  }
}

void Run::Impl::after_acquire() {
  try {
    for (std::size_t i = 0; i < devices_.size(); ++i) note_io(i, phase_->outcome(i), phase_->error(i), true);
    const Time due = due_;
    for (DerivedSignal& ds : derived_) ds.update(due, signals_);
    changed_.clear();
    timeline_->update_profiles(due, signals_, changed_);
    deliver_stimuli();
    io_core_.set_time(due);
    try {
      core_->step(due, io_core_);
    } catch (const std::exception& e) {
      in_cycle_ = false;
      stop(Verdict::error, "control core: exception at t=" + seconds_text(due_) + " s: " + failure_text(e),
           StopCause::core);
      return;
    }
    // A device lost in this cycle has fault quality now: the envelope opens its contactor and
    // stops the power on its bus before the run ends.
    envelope_->apply(signals_, clock_->now());
    phase_->start(DeviceOp::write, clock_->now(), {}, false, [this] { after_write(); });
  } catch (const std::exception& e) {
    in_cycle_ = false;
    stop(Verdict::error, "exception at t=" + seconds_text(due_) + " s: " + failure_text(e));
  }
}

void Run::Impl::after_write() {
  try {
    for (std::size_t i = 0; i < devices_.size(); ++i) note_io(i, phase_->outcome(i), phase_->error(i), false);
    const Time due = due_, ended = clock_->now();
    const Time next = next_cycle_start(due, ended, cycle_, stats_);
    signals_.set(run_overruns_, static_cast<double>(stats_.overruns), due);
    signals_.set(run_late_, static_cast<double>(late_this_cycle_), due);
    record_.late_device_io += late_this_cycle_;
    for (std::size_t k = 0; k < checks_.size(); ++k) {
      Check& c = checks_[k];
      c.evaluate(due);
      if (c.violated() && !check_reported_[k]) {
        check_reported_[k] = true;
        const CheckResult r = c.result(due, false);
        for (auto& s : sinks_) s->on_check(due, r);
      }
    }
    for (Measurement& m : measurements_) m.sample(due);
    if (due >= next_record_) {
      for (auto& s : sinks_)
        if (auto st = s->on_row(due, signals_); !st) throw std::runtime_error(st.message());
      next_record_ += record_interval_;
    }
    if (opt_.after_cycle) opt_.after_cycle(due, signals_);
    ++cycles_done_;
    last_cycle_ = due;
    in_cycle_ = false;
    if (opt_.real_time) {
      stats_.completion.add(ended - due);
      if ((cycles_done_ & 63) == 0) {
        // Real-time runs last hours: keep what was recorded on disk as it goes.
        const auto w = std::chrono::steady_clock::now();
        if (w - last_flush_ > std::chrono::seconds(2)) {
          for (auto& s : sinks_) (void)s->flush();
          last_flush_ = w;
        }
      }
    }
    if (opt_.show_progress && (cycles_done_ & 1023) == 0) progress(due);
    if (!lost_.empty()) {
      stop(Verdict::error, lost_, StopCause::device);
      return;
    }
    if (stopping_) return;
    if (next > sc_.duration) {
      completed_ = true;
      return;
    }
    schedule_cycle(next);
    if (opt_.checkpoint_every > Duration{0} && due >= next_checkpoint_) take_checkpoint();
  } catch (const std::exception& e) {
    in_cycle_ = false;
    stop(Verdict::error, "exception at t=" + seconds_text(due_) + " s: " + failure_text(e));
  }
}

void Run::Impl::device_done(Device& device, DeviceOp op, const Status& status) {
  // A reply to an operation the run no longer waits for (its phase is over) is dropped.
  if (phase_) phase_->device_done(device.index(), op, status);
}

// ---------------------------------------------------------------------------------------------
// ending

void Run::Impl::event(Time t, const std::string& what) {
  if (record_.events.size() < kMaxEvents) record_.events.push_back({to_seconds(t), what});
  else ++record_.events_dropped;
  for (auto& s : sinks_) s->on_event(t, what);
}

std::string Run::Impl::failure_text(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e)) {
    memory_reserve_.release();
    return "out of memory (std::bad_alloc)";
  }
  return e.what();
}

void Run::Impl::stop(Verdict v, const std::string& why, StopCause cause) {
  if (!stopping_) {
    stopping_ = true;
    stop_verdict_ = v;
    stop_reason_ = why;
    stop_cause_ = cause;
  }
  cancel_schedule();
}

void Run::Impl::on_signal(int sig) {
  if (caught_signal_ == 0) caught_signal_ = sig;
  stop(Verdict::aborted, (sig == SIGINT ? "interrupted (" : "terminated (") + signal_name(sig) + ")", StopCause::signal);
}

void Run::Impl::cancel_schedule() {
  if (!clock_) return;
  if (cycle_timer_ != kNoTimer) clock_->cancel(cycle_timer_);
  cycle_timer_ = kNoTimer;
  for (TimerId id : event_timers_) clock_->cancel(id);
  event_timers_.clear();
}

void Run::Impl::progress(Time now) {
  const auto w = std::chrono::steady_clock::now();
  if (w - last_progress_ < std::chrono::milliseconds(500)) return;
  last_progress_ = w;
  const double wall = std::chrono::duration<double>(w - wall_start_).count();
  const double sim = to_seconds(now), total = to_seconds(sc_.duration);
  const double speed = wall > 0 ? sim / wall : 0;
  const double eta = speed > 0 ? (total - sim) / speed : 0;
  std::fprintf(stderr, "\r  %s: t=%.0f/%.0f s  %.0fx real time  ETA %.0f s   ", sc_.name.c_str(), sim, total, speed, eta);
}

void Run::Impl::safe_state() {
  if (!clock_ || !phase_) {
    // Nothing was activated: no device was sent anything.
    for (auto& d : bench_.devices) record_.safe_state.push_back({d->name(), true, true, "never activated: nothing sent"});
    return;
  }
  // The loop stays alive: devices are commanded and read back through their own asynchronous I/O.
  // Power first, contactors last: inverters to zero, then loads, then packs, then the rest (grid
  // emulators); each group is commanded and read back, within its settle time (a real inverter
  // ramps), before the next.
  static const char* kOrder[] = {"inverter", "load", "pack", nullptr};
  std::vector<std::vector<std::size_t>> groups;
  std::vector<bool> placed(devices_.size(), false);
  for (const char* const* role = kOrder;; ++role) {
    std::vector<std::size_t> g;
    for (std::size_t i = 0; i < devices_.size(); ++i)
      if (!placed[i] && (!*role || devices_[i]->role() == *role)) g.push_back(i), placed[i] = true;
    if (!g.empty()) groups.push_back(g);
    if (!*role) break;
  }
  std::vector<SafeStateRecord> records(devices_.size());
  for (const auto& g : groups) {
    std::vector<std::size_t> members;
    for (std::size_t i : g) {
      records[i].device = devices_[i]->name();
      // Once activation went out, any device may have acted on it: all of them are commanded.
      if (!activation_sent_ || devices_[i]->state() == DeviceState::unconfigured)
        records[i] = {devices_[i]->name(), true, true, "never activated: nothing sent"};
      else
        members.push_back(i);
    }
    if (members.empty()) continue;
    try {
      auto done = std::make_shared<bool>(false);
      phase_->start(DeviceOp::safe_state, clock_->now(), members, /*preempt=*/true, [done] { *done = true; });
      drive_until_safe(done);
      std::vector<std::string> command_error(devices_.size());
      Duration settle{0};
      for (std::size_t i : members) {
        records[i].commanded = phase_->outcome(i) == IoOutcome::ok;
        command_error[i] = phase_->error(i);
        settle = std::max(settle, settle_[i]);
      }
      // Read back at once, and again every 20 ms, each member until it is verified or its settle
      // time is over: a real inverter ramping to zero is waited for, a device that is safe at once
      // costs nothing. A member that does not answer is not asked again (its read took its whole
      // deadline); one whose last read was before the end of its settle time is read once more,
      // whatever a slow member did to the clock meanwhile.
      const Time commanded_at = clock_->now();
      std::vector<std::size_t> unsettled = members;
      std::vector<Time> read_at(devices_.size(), commanded_at);
      std::vector<IoOutcome> answer(devices_.size(), IoOutcome::idle);
      std::vector<std::string> answer_error(devices_.size());
      auto read_back = [&](const std::vector<std::size_t>& who) {
        auto verified = std::make_shared<bool>(false);
        const Time asked = clock_->now();
        phase_->start(DeviceOp::verify, asked, who, true, [verified] { *verified = true; });
        drive_until_safe(verified);
        std::vector<std::size_t> still;
        for (std::size_t i : who) {
          answer[i] = phase_->outcome(i);
          answer_error[i] = phase_->error(i);
          read_at[i] = asked;
          if (answer[i] == IoOutcome::ok && !devices_[i]->safe_state_report().verified) still.push_back(i);
        }
        return still;
      };
      unsettled = read_back(unsettled);
      while (!unsettled.empty() && clock_->now() - commanded_at < settle) {
        auto waited = std::make_shared<bool>(false);
        const Duration wait = std::min<Duration>(std::chrono::milliseconds(20), settle - (clock_->now() - commanded_at));
        clock_->call_after(wait, [waited] { *waited = true; });
        drive_until_safe(waited);
        unsettled = read_back(unsettled);
      }
      std::vector<std::size_t> last_chance;
      for (std::size_t i : unsettled)
        if (read_at[i] < commanded_at + settle_[i]) last_chance.push_back(i);
      if (!last_chance.empty()) read_back(last_chance);
      for (std::size_t i : members) {
        const SafeStateReport& r = devices_[i]->safe_state_report();
        const bool answered = answer[i] == IoOutcome::ok;
        records[i].verified = answered && r.verified;
        std::string detail = answered ? r.detail : "not read back: " + answer_error[i];
        if (!records[i].commanded) detail = "not commanded: " + command_error[i] + "; " + detail;
        records[i].detail = detail;
      }
    } catch (const std::exception& e) {
      for (std::size_t i : members)
        if (records[i].detail.empty()) records[i].detail = std::string("exception: ") + failure_text(e);
      // A stall (held I/O that never came): let time pass again, so the next groups can be reached.
      clock_->abandon_holds();
    }
  }
  for (std::size_t i = 0; i < devices_.size(); ++i) record_.safe_state.push_back(records[i]);
  for (Device* d : devices_) d->deactivate();
}

RunResult Run::Impl::finish() {
  if (finished_) return result_;
  // The run is ending: the memory kept for this moment is given back, so that the safe state and
  // the record can be written even after an out-of-memory that was caught somewhere else.
  memory_reserve_.release();
  if (!set_up_) {
    set_up_ = failed_setup_ = true;
    begin_record();
    stop(Verdict::error, "the run was finished before it was set up: nothing ran");
  }
  if (opt_.show_progress && cycles_done_ > 0) std::fprintf(stderr, "\n");
  cancel_schedule();
  // A cycle in flight (a stop requested from outside the loop) is let end first: its phases are
  // bounded by their deadlines.
  try {
    while (in_cycle_ && clock_ && clock_->run_one()) {
    }
  } catch (const std::exception& e) {
    in_cycle_ = false;
    stop(Verdict::error, failure_text(e));
  }
  // No cycle waits any more: held I/O (a stalled peer) must not keep the safe state's time still.
  if (clock_) clock_->abandon_holds();
  Verdict verdict = Verdict::pass;
  std::string error;
  if (stopping_) {
    verdict = stop_verdict_;
    error = stop_reason_;
  } else if (!completed_) {
    verdict = Verdict::aborted;
    error = "run finished by its host at t=" + seconds_text(last_cycle_) + " s, before the scenario's end";
    stop_cause_ = StopCause::host;
  }
  finished_ = true;
  record_.cycles = cycles_done_;
  // The time the run reached: a cycle cut short by an error still counts.
  record_.end_s = to_seconds(std::max(last_cycle_, due_));
  try {
    safe_state();
  } catch (const std::exception& e) {
    // Whatever went wrong, the record says which devices were not verified safe.
    const std::string why = failure_text(e);
    for (Device* d : devices_) d->deactivate();
    for (const auto& d : bench_.devices) {
      bool listed = false;
      for (const auto& r : record_.safe_state) listed = listed || r.device == d->name();
      if (!listed) record_.safe_state.push_back({d->name(), false, false, "safe state interrupted: " + why});
    }
    verdict = Verdict::error;
    error = (error.empty() ? "" : error + "; ") + "safe state interrupted: " + why;
  }
  bool safe_ok = true;
  for (const auto& s : record_.safe_state) safe_ok = safe_ok && s.commanded && s.verified;
  if (!safe_ok && verdict == Verdict::pass) {
    verdict = Verdict::error;
    error = "safe state not verified on every device";
  }
  const bool completed = verdict == Verdict::pass;
  bool any_fail = false;
  for (const Check& c : checks_) {
    record_.checks.push_back(c.result(last_cycle_, completed));
    any_fail = any_fail || record_.checks.back().outcome == CheckOutcome::fail;
  }
  for (const Measurement& m : measurements_) record_.measurements.push_back(m.result(last_cycle_, completed));
  for (std::size_t k = 0; k < measurements_.size(); ++k)
    if (measurements_[k].is_ratio())
      record_.measurements[k] = measurements_[k].ratio_result(record_.measurements, last_cycle_, completed);
  for (const auto& m : record_.measurements) any_fail = any_fail || m.outcome == "FAIL";
  // A check or measurement that a completed run could not decide is not a pass: the test did not
  // test what it says. A failure still wins (the device did fail something).
  std::string undecided;
  if (completed) {
    for (const auto& c : record_.checks)
      if (c.outcome == CheckOutcome::incomplete) undecided += (undecided.empty() ? "" : ", ") + ("check " + c.name);
    for (const auto& m : record_.measurements)
      if (m.outcome == "INCOMPLETE") undecided += (undecided.empty() ? "" : ", ") + ("measurement " + m.name);
  }
  if (verdict == Verdict::pass && any_fail) verdict = Verdict::fail;
  if (!undecided.empty()) {
    if (verdict == Verdict::pass) verdict = Verdict::error;
    error = (error.empty() ? "" : error + "; ") + "not decided although the run completed: " + undecided;
  }
  // Locations in the scenario, named as the record names the scenario file.
  auto relocate = [this](std::string& where) {
    if (where.rfind(sc_.file + ":", 0) == 0) where = record_.scenario_file + where.substr(sc_.file.size());
  };
  for (auto& c : record_.checks) relocate(c.where);
  for (auto& m : record_.measurements) relocate(m.where);
  if (envelope_) record_.envelope_interventions = envelope_->interventions();
  for (const auto& d : bench_.devices) {
    const DeviceConfig* dc = st_.find(d->name());
    record_.devices.push_back({d->name(), d->role(), dc ? dc->model : "", dc ? dc->link_type : "", d->identity(),
                               to_string(d->state()), to_seconds(d->watchdog_armed()), d->io_counts()});
  }
  record_.overruns = stats_.overruns;
  if (opt_.real_time) {
    record_.rt_skipped = stats_.skipped_cycles;
    record_.rt_p50_us = stats_.start_latency.percentile_us(50);
    record_.rt_p99_us = stats_.start_latency.percentile_us(99);
    record_.rt_max_us = stats_.start_latency.max_us();
    record_.rt_completion_p50_us = stats_.completion.percentile_us(50);
    record_.rt_completion_p99_us = stats_.completion.percentile_us(99);
    record_.rt_completion_max_us = stats_.completion.max_us();
    record_.rt_max_work_us = stats_.completion.max_us();
  }
  tuning_.reset();
  record_.ended_utc = utc_timestamp();
  record_.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count();
  // A resumed run's wall time is its own part's: its speed is of that part.
  const double ran_s = record_.end_s - (opt_.resume ? to_seconds(opt_.resume->at) : 0.0);
  record_.speed_x = record_.wall_seconds > 0 ? ran_s / record_.wall_seconds : 0;
  if (record_writer_ && std::find(sinks_.begin(), sinks_.end(), record_writer_) == sinks_.end())
    sinks_.push_back(record_writer_);  // setup failed before the sinks were started: the record is still written
  for (auto& s : sinks_) {
    // Each sink sees the verdict as it stands (a results store commits it); one that fails makes
    // it ERROR for the sinks after it, the record writer last.
    record_.verdict = verdict;
    record_.error = error;
    Status st;
    try {
      st = s->on_finished(record_);
    } catch (const std::exception& e) {
      st = Status::error(std::string("a sink failed: ") + failure_text(e));
    }
    if (!st) {
      verdict = Verdict::error;
      error = (error.empty() ? "" : error + "; ") + st.message();
    }
  }
  record_.verdict = verdict;
  record_.error = error;
  if (clock_) clock_->cancel_all();
  for (Device* d : devices_) d->detach();
  signal_capture_.reset();
  result_.verdict = verdict;
  result_.error = error;
  result_.cause = stop_cause_ != StopCause::none ? stop_cause_ : verdict == Verdict::error ? StopCause::error : StopCause::none;
  result_.record_written = record_writer_ && record_writer_->written();
  result_.record_path = result_.record_written ? record_writer_->record_path() : "";
  result_.record = record_;
  return result_;
}

// ---------------------------------------------------------------------------------------------
// Run

Run::Run(const StationConfig& station, const Scenario& scenario, Bench& bench, std::unique_ptr<ControlCore> core,
         RunOptions options)
    : impl_(std::make_unique<Impl>(station, scenario, bench, std::move(core), std::move(options))) {}

Run::~Run() {
  try {
    if (impl_->set_up_) impl_->finish();
    // Prepared and never run: the devices still forget this run's clock and table, which go now
    // (a simulator served over a socket would otherwise keep its loop's timers).
    else
      for (Device* d : impl_->devices_) d->detach();
    // The core goes while the run's loop is still there: a core that serves or waits on I/O (an
    // external core's lock-step server) closes its sockets on the loop they belong to.
    impl_->core_.reset();
  } catch (...) {
    // A destructor must not throw; finish() has recorded what it could.
  }
}

void Run::add_sink(std::shared_ptr<RunSink> sink) {
  if (impl_->set_up_) throw std::logic_error("Run::add_sink after setup(): sinks are added before the run starts");
  impl_->sinks_.push_back(std::move(sink));
}

void Run::set_output(std::shared_ptr<OutputFolder> folder) {
  if (impl_->set_up_) throw std::logic_error("Run::set_output after setup()");
  impl_->opt_.output = std::move(folder);
}

Status Run::prepare() {
  if (impl_->set_up_ && !impl_->prepared_) return Status::error("Run::prepare after setup()");
  return impl_->prepare();
}

bool Run::setup() {
  if (!impl_->set_up_) impl_->setup();
  return !impl_->failed_setup_;
}

bool Run::step() {
  Impl& r = *impl_;
  if (!r.set_up_) r.setup();
  if (r.ended()) return false;
  const std::uint64_t target = r.cycles_done_ + 1;
  try {
    while (r.cycles_done_ < target && !r.ended())
      if (!r.clock_->run_one()) break;
  } catch (const std::exception& e) {
    r.in_cycle_ = false;
    r.stop(Verdict::error, r.failure_text(e));
  }
  return !r.ended();
}

bool Run::until(Time t) {
  while (!ended() && impl_->next_due_ <= t)
    if (!step()) break;
  return !ended();
}

void Run::request_stop(Verdict verdict, const std::string& why, StopCause cause) { impl_->stop(verdict, why, cause); }

Status Run::act(const TimelineEvent& event, const std::string& what) {
  Impl& r = *impl_;
  if (!r.set_up_) r.setup();
  if (r.ended()) return Status::error(event.where + ": the run has ended; nothing more can be done to it");
  if (r.in_cycle_) return Status::error(event.where + ": a cycle is in flight; act between cycles");
  const Time now = r.clock_->now();
  std::size_t k = 0;
  try {
    k = r.timeline_->add(event, now, r.st_, r.signals_);
  } catch (const std::exception& e) {
    return Status::error(e.what());
  }
  r.event(now, "host: " + what);
  r.changed_.clear();
  r.timeline_->apply_event(k, now, r.signals_, r.changed_);
  r.deliver_stimuli();
  return Status::ok();
}

Status Run::set_command(const std::string& name, double value) {
  Impl& r = *impl_;
  if (!r.set_up_) r.setup();
  if (r.ended()) return Status::error("set " + name + ": the run has ended; nothing more can be done to it");
  const SignalId id = r.signals_.find(name);
  if (id == kNoSignal) return Status::error("set " + name + ": no signal of that name on station " + r.st_.name);
  const SignalInfo& info = r.signals_.info(id);
  if (info.kind != SignalKind::command)
    return Status::error("set " + name + ": a " + std::string(to_string(info.kind)) + " of " + info.owner +
                         ", not a command or a stimulus a host may set");
  if (!std::isfinite(value)) return Status::error("set " + name + ": value is not a finite number");
  const Time now = r.clock_->now();
  r.signals_.set(id, value, now);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  r.event(now, "host: set " + name + " = " + buf + " " + info.unit);
  return Status::ok();
}

void Run::catch_signals(bool on) {
  if (impl_->signal_capture_) impl_->signal_capture_->set_paused(!on);
}

int Run::caught_signal() const { return impl_->caught_signal_; }

const char* to_string(StopCause c) {
  switch (c) {
    case StopCause::none: return "none";
    case StopCause::device: return "device";
    case StopCause::core: return "core";
    case StopCause::signal: return "signal";
    case StopCause::host: return "host";
    case StopCause::error: return "error";
  }
  return "?";
}

RunResult Run::finish() { return impl_->finish(); }

RunResult Run::run_to_end() {
  while (step()) {
  }
  return finish();
}

bool Run::ended() const { return impl_->ended(); }
Time Run::now() const { return impl_->clock_ ? impl_->clock_->now() : Time{0}; }
Time Run::last_cycle_time() const { return impl_->last_cycle_; }
std::uint64_t Run::cycles() const { return impl_->cycles_done_; }
SignalTable& Run::signals() { return impl_->signals_; }
Clock& Run::clock() { return *impl_->clock_; }

RunResult execute_run(const StationConfig& station, const Scenario& scenario, Bench& bench,
                      std::unique_ptr<ControlCore> core, const RunOptions& options) {
  Run run(station, scenario, bench, std::move(core), options);
  return run.run_to_end();
}

}  // namespace zhil
