#pragma once
// The table of named signals that every part of a run shares: devices publish measurements into
// it, the scenario writes stimuli, the control core reads it and writes commands, the safety
// envelope clamps the commands, checks and the recorder read it.
//
// Signals are registered while a station is configured and the table is then frozen: ids are dense
// indices and values live in one contiguous array, so the per-cycle path does no lookups and no
// allocation, and pointers to values stay valid (the check expressions bind to them).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "harness/checkpoint/state_archive_fwd.hpp"
#include "harness/status.hpp"
#include "harness/time.hpp"

namespace zhil {

using SignalId = std::uint32_t;
constexpr SignalId kNoSignal = std::numeric_limits<SignalId>::max();

enum class Quality : std::uint8_t { good, stale, fault };
const char* to_string(Quality q);

// Who writes a signal. The kind is what lets the harness keep the core away from measurements and
// the scenario away from commands.
enum class SignalKind : std::uint8_t {
  measurement,  // written by a device (or derived from other signals by the harness)
  command,      // what the control core requested; kept as written, never changed by the harness
  applied,      // "<command>.applied": what the safety envelope let through; the only one devices read
  limit,        // set by the safety envelope for a device (allowed currents, output limits)
  stimulus,     // written by the scenario timeline, read by devices (grid/load emulators, faults)
};
const char* to_string(SignalKind k);

// The values a command may take, as the device that takes it declares them (a contactor: 0 or 1;
// a setpoint in percent: 0..100). The safety envelope clamps what it applies into this range.
struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool bounded() const { return lo > -std::numeric_limits<double>::infinity() && hi < std::numeric_limits<double>::infinity(); }
};

struct SignalInfo {
  std::string name;
  std::string unit;  // SI: V, A, W, var, Hz, degC, s, 1 (dimensionless), ...
  SignalKind kind;
  std::string owner;  // device (or "scenario", "harness") that registered it
  Range range;        // commands: what the device accepts
};

class SignalTable {
 public:
  // Registers a signal; registering the same name twice with the same unit and kind returns the
  // same id (a device and the core may both declare a command they share).
  Status add(const std::string& name, const std::string& unit, SignalKind kind,
             const std::string& owner, SignalId* id, double initial = 0.0);
  void freeze() { frozen_ = true; }
  bool frozen() const { return frozen_; }

  SignalId find(std::string_view name) const;
  std::size_t size() const { return values_.size(); }
  const SignalInfo& info(SignalId id) const { return info_[id]; }

  double value(SignalId id) const { return values_[id]; }
  Quality quality(SignalId id) const { return quality_[id]; }
  // The later of the signal's own stamp and the stamp of the run it belongs to (stamp_run).
  Time stamp(SignalId id) const {
    const std::uint32_t r = run_of_.empty() ? kNoRun : run_of_[id];
    return r == kNoRun ? stamps_[id] : std::max(stamps_[id], run_stamps_[r]);
  }
  const double* value_ptr(SignalId id) const { return &values_[id]; }

  void set(SignalId id, double v, Time t, Quality q = Quality::good) {
    values_[id] = v;
    stamps_[id] = t;
    quality_[id] = q;
    if (q != Quality::good) note_not_good(id);
  }
  void set_quality(SignalId id, Quality q) {
    quality_[id] = q;
    if (q != Quality::good) note_not_good(id);
  }
  // The value alone; a device's publish stamps all of its measurements at once (stamp_range).
  void set_value(SignalId id, double v) { values_[id] = v; }
  // A run of consecutive signals that are stamped together (a device's measurements, published at
  // once): stamp_run() stamps all of them with one store. Call while the table is being built.
  std::uint32_t add_run(SignalId first, std::size_t count);
  // Stamps the run; sets its signals' quality too unless `q` is null.
  void stamp_run(std::uint32_t run, Time t, const Quality* q);
  // Where a run of a device's own measurements starts, for a device that publishes many values
  // laid out in the order it registered them (a pack's per-module readings).
  double* values_from(SignalId first) { return &values_[first]; }

  // A command's request and its applied twin (registered together by Device::add_command).
  void link_applied(SignalId requested, SignalId applied);
  void set_range(SignalId id, Range r) { info_[id].range = r; }
  SignalId applied_of(SignalId requested) const { return requested < applied_.size() ? applied_[requested] : kNoSignal; }

  // A checkpoint's part: every value, stamp and quality (names and kinds are the station's, built
  // again before a checkpoint is loaded; the count must agree).
  void save_state(StateWriter& a) const;
  void load_state(StateReader& a);

 private:
  bool frozen_ = false;
  std::vector<double> values_;
  std::vector<Time> stamps_;
  std::vector<Quality> quality_;
  std::vector<SignalInfo> info_;
  std::vector<SignalId> applied_;  // by request id; kNoSignal for every other signal
  static constexpr std::uint32_t kNoRun = 0xffffffffu;
  std::vector<std::uint32_t> run_of_;  // by signal id; kNoRun for signals in no run
  struct Run {
    SignalId first;
    std::size_t count;
  };
  std::vector<Run> runs_;
  std::vector<Time> run_stamps_;
  std::vector<char> run_all_good_;  // by run: no signal of it has been set other than good since
  void note_not_good(SignalId id) {
    if (!run_of_.empty() && run_of_[id] != kNoRun) run_all_good_[run_of_[id]] = 0;
  }
  std::unordered_map<std::string, SignalId> index_;
};

}  // namespace zhil
