#pragma once
// The device interface that real drivers (Modbus, CAN, SCPI) and simulators both implement, with an
// explicit lifecycle in the manner of ros2_control hardware interfaces:
//
//   unconfigured --configure--> inactive --activate--> active --deactivate--> inactive
//        any state --(a hook fails, or the device is lost)--> error;
//        safe state may be commanded from any configured state.
//
// I/O is asynchronous. The run starts an operation (activate, read, write, safe state, verify) on
// every device at once and each device reports its end to the run's observer, possibly before
// start_*() returns (a device with nothing to wait for), possibly much later (a Modbus reply). A
// device has at most one operation in flight. A read that ends well is published into the signal
// table only if the run still wants it (it came within its deadline): on_publish() copies the
// values then, so a late reply never overwrites signals the run has already marked stale.
//
// The public methods enforce the lifecycle and keep the bookkeeping (state, which signals the device
// owns, its health); devices implement the protected on_* hooks.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "harness/checkpoint/state_archive_fwd.hpp"
#include "harness/clock.hpp"
#include "harness/signal_table.hpp"
#include "harness/status.hpp"
#include "harness/time.hpp"

namespace zhil {

enum class DeviceState { unconfigured, inactive, active, error };
const char* to_string(DeviceState s);

enum class DeviceOp : std::uint8_t { none, activate, read, write, safe_state, verify };
const char* to_string(DeviceOp op);

// What a device reports after it was told to go to its safe state.
struct SafeStateReport {
  bool verified = false;  // read back from the device, not just commanded
  std::string detail;     // e.g. "p_ac=0 W, contactor open"
};

// What the run gives a device when it configures it: the table its signals live in, and the run's
// clock (its timers, its I/O holds, and through io() the run's executor).
struct DeviceContext {
  SignalTable& signals;
  Clock& clock;
  // The device-side communication timeout the station asks for (0: none). A driver whose device
  // has one (a SunSpec or BMS communication timeout, a CAN inverter that drops a silent battery)
  // arms it when it activates the device, so that the hardware goes to its own safe state if the
  // harness dies (SIGKILL, power loss, a hung host) and nothing else can. It reports what it armed
  // through Device::watchdog_armed().
  Duration watchdog{0};
};

class Device;

class DeviceObserver {
 public:
  virtual ~DeviceObserver() = default;
  virtual void device_done(Device& device, DeviceOp op, const Status& status) = 0;
};

// The run's account of a device's I/O: how long reads and writes have been failing, and since when
// commands are valid for it (activation, or the end of its last loss: a command requested before
// then is stale and is not replayed to it).
struct DeviceHealth {
  Time read_failing_since{-1};
  Time write_failing_since{-1};
  Time commands_valid_since{0};
  std::uint64_t failures = 0;          // reads and writes that failed or came late
  std::uint64_t abandoned = 0;         // operations given up at their deadline
};

class Device {
 public:
  Device(std::string name, std::string role) : name_(std::move(name)), role_(std::move(role)) {}
  virtual ~Device() = default;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const std::string& name() const { return name_; }
  // The role fixes the signal vocabulary (harness/device_roles.hpp): pack, inverter, grid, load.
  const std::string& role() const { return role_; }
  DeviceState state() const { return state_; }
  const std::string& last_error() const { return last_error_; }
  // What the device says it is (serial number, firmware), for the test record's DUT list.
  virtual std::string identity() const { return ""; }
  // How long the device itself takes to reach its safe state once commanded (an inverter ramping
  // its output down at its ramp rate). A station's safe_state_settle shorter than this could
  // never be verified, so it is refused before the run.
  virtual Duration safe_state_time() const { return Duration{0}; }
  // The device-side watchdog this driver armed (0: the device has none, or none was asked for);
  // the record lists it per device.
  virtual Duration watchdog_armed() const { return Duration{0}; }
  // What its link has been through, by kind (requests, timeouts, exceptions, ...), for the record;
  // empty for a device with no protocol.
  virtual std::vector<std::pair<std::string, std::uint64_t>> io_counts() const { return {}; }

  // Checkpoints (resumable runs). Between cycles nothing is in flight; a device whose whole state
  // between cycles can be saved and loaded says so, and a simulated run is resumable only when
  // every device of its bench does. A real device's state is on the bench: a real-time run is
  // resumed by activating it again from its safe state, whatever it says here.
  virtual bool checkpointable() const { return false; }
  virtual void save_state(StateWriter&) const {}
  virtual void load_state(StateReader&) {}
  // A real-time run resumed: the bench stood in its safe state meanwhile. A simulator takes its
  // model there and out again (as the safe state and the activation did to a real device);
  // a driver of a real device has nothing to do, the device did it.
  virtual void resumed_from_safe_state() {}

  // Registers the device's signals; no I/O.
  Status configure(DeviceContext& context);
  void set_observer(DeviceObserver* observer, std::size_t index) {
    observer_ = observer;
    index_ = index;
  }
  std::size_t index() const { return index_; }

  // Asynchronous operations: false if refused (wrong state, or another operation in flight).
  bool start_activate(Time now);
  bool start_read(Time now);
  bool start_write(Time now);
  bool start_safe_state();  // power setpoints zero, contactors open; any configured state
  bool start_verify_safe_state();
  DeviceOp in_flight() const { return in_flight_; }
  bool busy() const { return in_flight_ != DeviceOp::none; }

  // Copies the completed read into the table; every measurement of the device is stamped `stamp`
  // and marked good.
  void publish(Time stamp, SignalTable& signals);
  // Stimuli (grid, load, faults) changed: a simulator takes them at once. Not I/O.
  void apply_stimuli(Time now, const SignalTable& signals) { on_stimuli(now, signals); }
  const SafeStateReport& safe_state_report() const { return report_; }
  // active -> inactive; closes what activation opened (no waiting). Also cancels the device's timers.
  void deactivate();
  // The run stopped waiting for the operation in flight (its deadline passed): the device gives it
  // up (a driver drops the request; a reply that still comes is ignored) and is free for the next.
  void abandon();
  // The device is lost (its failures outlasted fault_after); the run marks its signals fault.
  void mark_lost(const std::string& why);
  // The run is over: the device forgets the run's clock and table (a bench serves one run).
  void detach();

  const std::vector<SignalId>& measurements() const { return published_; }
  const std::vector<SignalId>& commands() const { return commands_; }
  DeviceHealth& health() { return health_; }
  const DeviceHealth& health() const { return health_; }

 protected:
  // The device-side watchdog the station asks for (DeviceContext::watchdog), for drivers to arm.
  Duration requested_watchdog() const { return requested_watchdog_; }

  virtual Status on_configure(DeviceContext& context) = 0;
  // Each of these starts its operation and ends it with complete() (verify: complete_verify()).
  virtual void on_activate(Time now) = 0;
  virtual void on_read(Time now) = 0;
  virtual void on_write(Time now, const SignalTable& signals) = 0;
  virtual void on_safe_state() = 0;
  virtual void on_verify_safe_state() = 0;
  // Sets the measurements' values (SignalTable::set_value is enough: publish() stamps them).
  virtual void on_publish(Time stamp, SignalTable& signals) = 0;
  virtual void on_deactivate() {}
  virtual void on_abandon() {}
  virtual void on_detach() {}
  virtual void on_stimuli(Time, const SignalTable&) {}

  void complete(const Status& status);
  void complete_verify(SafeStateReport report);
  // A reply that arrives later (a timer, a socket) should complete the operation it answers and
  // no other: take the token when the operation starts and complete with it; a token that is not
  // the operation in flight (it was abandoned, another began) is dropped.
  using OpToken = std::uint64_t;
  OpToken op_token() const { return op_seq_; }
  void complete(OpToken token, const Status& status) {
    if (token == op_seq_) complete(status);
  }
  void complete_verify(OpToken token, SafeStateReport report) {
    if (token == op_seq_) complete_verify(std::move(report));
  }

  // Helpers for on_configure.
  // A measurement this device owns.
  Status add_measurement(SignalTable& t, const std::string& suffix, const std::string& unit, SignalId* id);
  struct Measured {
    const char* suffix;
    const char* unit;
    SignalId* id;
  };
  Status add_measurements(SignalTable& t, std::initializer_list<Measured> signals);
  // A command: the core writes "<device>.<suffix>", the safety envelope writes what is applied to
  // "<device>.<suffix>.applied", and *id is the applied one, the only one a device reads. `range`
  // is what the device accepts; the envelope applies nothing outside it, and refuses to run with a
  // command that has neither a finite range nor a rule of its own (a pack's or inverter's role
  // commands) to bound it.
  Status add_command(SignalTable& t, const std::string& suffix, const std::string& unit, SignalId* id,
                     Range range = {}, double initial = 0.0);
  // A limit the safety envelope sets for this device (allowed currents, output limits).
  Status add_limit(SignalTable& t, const std::string& suffix, const std::string& unit, SignalId* id);
  // A stimulus the scenario sets (grid voltage, load demand, injected faults): simulators only.
  Status add_stimulus(SignalTable& t, const std::string& suffix, const std::string& unit, SignalId* id,
                      double initial = 0.0);

  SignalTable* signals() const { return signals_; }
  Clock* clock() const { return clock_; }

 private:
  Duration requested_watchdog_{0};
  bool start(DeviceOp op, DeviceState required, bool any_configured_state);
  // Runs a hook; an exception from it ends the operation as failed rather than leaving it in flight.
  template <class Hook>
  void guarded(DeviceOp op, Hook hook);
  Status fail(const std::string& during, const Status& s);

  std::string name_;
  std::string role_;
  DeviceState state_ = DeviceState::unconfigured;
  std::string last_error_;
  std::vector<SignalId> published_;
  std::uint32_t published_run_ = 0xffffffffu;  // published_ as one run of the table, stamped at once
  std::vector<SignalId> commands_;  // applied command ids
  DeviceOp in_flight_ = DeviceOp::none;
  OpToken op_seq_ = 0;
  DeviceObserver* observer_ = nullptr;
  std::size_t index_ = 0;
  SignalTable* signals_ = nullptr;
  Clock* clock_ = nullptr;
  SafeStateReport report_;
  DeviceHealth health_;
};

}  // namespace zhil
