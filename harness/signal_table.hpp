#pragma once
// The table of named signals that every part of a run shares: devices publish measurements into
// it, the scenario writes stimuli, the control core reads it and writes commands, the safety
// envelope clamps the commands, checks and the recorder read it.
//
// Signals are registered while a station is configured and the table is then frozen: ids are dense
// indices and values live in one contiguous array, so the per-cycle path does no lookups and no
// allocation, and pointers to values stay valid (the check expressions bind to them).
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

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

struct SignalInfo {
  std::string name;
  std::string unit;  // SI: V, A, W, var, Hz, degC, s, 1 (dimensionless), ...
  SignalKind kind;
  std::string owner;  // device (or "scenario", "harness") that registered it
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
  Time stamp(SignalId id) const { return stamps_[id]; }
  const double* value_ptr(SignalId id) const { return &values_[id]; }

  void set(SignalId id, double v, Time t, Quality q = Quality::good) {
    values_[id] = v;
    stamps_[id] = t;
    quality_[id] = q;
  }
  void set_quality(SignalId id, Quality q) { quality_[id] = q; }

  // A command's request and its applied twin (registered together by Device::add_command).
  void link_applied(SignalId requested, SignalId applied);
  SignalId applied_of(SignalId requested) const { return requested < applied_.size() ? applied_[requested] : kNoSignal; }

 private:
  bool frozen_ = false;
  std::vector<double> values_;
  std::vector<Time> stamps_;
  std::vector<Quality> quality_;
  std::vector<SignalInfo> info_;
  std::vector<SignalId> applied_;  // by request id; kNoSignal for every other signal
  std::unordered_map<std::string, SignalId> index_;
};

}  // namespace zhil
