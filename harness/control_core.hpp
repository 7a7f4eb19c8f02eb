#pragma once
// The control core is the software under test: it observes signals and writes setpoints, once per
// cycle, and never calls a device. Whatever it writes goes through the safety envelope first.
#include <functional>
#include <map>
#include <stdexcept>
#include <memory>
#include <string>
#include <vector>

#include "harness/checkpoint/state_archive_fwd.hpp"
#include "harness/config/layered_config.hpp"
#include "harness/signal_table.hpp"
#include "harness/clock.hpp"
#include "harness/time.hpp"

namespace zhil {

struct StationConfig;

// The core's only access to the run: read any signal, write commands (and the signals it
// published for its own observability, e.g. its forecast).
class CoreIo {
 public:
  explicit CoreIo(SignalTable& signals) : signals_(signals) {}
  // Before the table is frozen (in configure): resolve names. Throw std::runtime_error if unknown.
  SignalId input(const std::string& name) const;
  SignalId command(const std::string& name) const;
  SignalId publish(const std::string& name, const std::string& unit);

  double get(SignalId id) const { return signals_.value(checked(id)); }
  Quality quality(SignalId id) const { return signals_.quality(checked(id)); }
  // Throws std::logic_error when id is neither a command nor a signal this core published.
  void set(SignalId id, double value);
  void set_time(Time now) { now_ = now; }

 private:
  SignalId checked(SignalId id) const {
    if (id >= signals_.size()) throw std::logic_error("control core read an unknown signal id " + std::to_string(id));
    return id;
  }
  SignalTable& signals_;
  std::vector<SignalId> own_;
  Time now_{0};
};

struct CoreContext {
  const StationConfig& station;
  LayeredConfig params;  // the scenario's core_params over the station's core.params
  Duration cycle;
  double start_time_of_day_s = 0;
  bool real_time = false;  // the run follows the wall clock (a core outside the process needs it)
  // The run's clock, for a core that serves or waits on I/O (an external core in lock-step holds
  // simulated time until its program has acknowledged the cycle).
  Clock* clock = nullptr;
};

class ControlCore {
 public:
  virtual ~ControlCore() = default;
  // Resolve signals and read parameters (throw ConfigError / std::runtime_error on bad ones).
  virtual void configure(const CoreContext& context, CoreIo& io) = 0;
  // Observe and set setpoints for this cycle.
  virtual void step(Time now, CoreIo& io) = 0;
  // Checkpoints (resumable runs): a core that can save what it has learned and decided so far
  // (after configure(), between steps) and take it back. A run with checkpoints needs one that can.
  virtual bool checkpointable() const { return false; }
  virtual void save_state(StateWriter&) const {}
  virtual void load_state(StateReader&) {}
  // A real-time run resumed from a checkpoint: the bench came up again from its safe state, so
  // what the core was doing (a ramp, a target) is not what the site does now.
  virtual void resumed_from_safe_state() {}
};

// Cores by name, as stations name them ("reference"; Python cores register here in a later issue).
class CoreRegistry {
 public:
  using Factory = std::function<std::unique_ptr<ControlCore>()>;
  static CoreRegistry& instance();
  void add(const std::string& name, Factory factory);
  bool remove(const std::string& name);
  std::unique_ptr<ControlCore> create(const std::string& name) const;  // nullptr if unknown
  std::vector<std::string> names() const;

 private:
  std::map<std::string, Factory> factories_;
};

}  // namespace zhil
