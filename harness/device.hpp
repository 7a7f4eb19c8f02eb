#pragma once
// The device interface that real drivers (Modbus, CAN, SCPI) and simulators both implement, with an
// explicit lifecycle in the manner of ros2_control hardware interfaces:
//
//   unconfigured --configure--> inactive --activate--> active --deactivate--> inactive
//        any state --(a hook fails)--> error;  safe state may be commanded from any state.
//
// The public methods enforce the lifecycle and keep the bookkeeping (state, which signals the device
// owns, marking them stale when a read fails); devices implement the protected on_* hooks.
#include <initializer_list>
#include <string>
#include <vector>

#include "harness/signal_table.hpp"
#include "harness/status.hpp"
#include "harness/time.hpp"

namespace zhil {

enum class DeviceState { unconfigured, inactive, active, error };
const char* to_string(DeviceState s);

// What a device reports after it was told to go to its safe state.
struct SafeStateReport {
  bool verified = false;  // read back from the device, not just commanded
  std::string detail;     // e.g. "p_ac=0 W, contactor open"
};

class Device {
 public:
  explicit Device(std::string name, std::string role) : name_(std::move(name)), role_(std::move(role)) {}
  virtual ~Device() = default;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const std::string& name() const { return name_; }
  // The role fixes the signal vocabulary (harness/device_roles.hpp): pack, inverter, grid, load.
  const std::string& role() const { return role_; }
  DeviceState state() const { return state_; }
  const std::string& last_error() const { return last_error_; }

  Status configure(SignalTable& signals);
  Status activate(Time now);
  // Acquire: measurements into the table. On failure the device's measurements turn stale (then
  // fault after `fault_after` consecutive failures) and the error is returned, naming the device.
  Status read(Time now, SignalTable& signals);
  // Commands and stimuli from the table to the device.
  Status write(Time now, const SignalTable& signals);
  Status deactivate();
  // Power setpoints zero, contactors open. Allowed in every state; a device that cannot be reached
  // reports so rather than pretending.
  Status command_safe_state();
  SafeStateReport verify_safe_state();

  // What the device says it is (serial number, firmware), for the test record's DUT list.
  virtual std::string identity() const { return ""; }

  int consecutive_read_failures() const { return read_failures_; }
  void set_fault_after(int cycles) { fault_after_ = cycles; }

 protected:
  virtual Status on_configure(SignalTable& signals) = 0;
  virtual Status on_activate(Time now) = 0;
  virtual Status on_read(Time now, SignalTable& signals) = 0;
  virtual Status on_write(Time now, const SignalTable& signals) = 0;
  virtual Status on_deactivate() = 0;
  virtual Status on_safe_state() = 0;
  virtual SafeStateReport on_verify_safe_state() = 0;

  // Helpers for on_configure: register a signal this device owns (measurements) or consumes.
  Status publish(SignalTable& t, const std::string& suffix, const std::string& unit, SignalId* id);
  Status consume(SignalTable& t, const std::string& suffix, const std::string& unit, SignalKind kind,
                 SignalId* id, double initial = 0.0);
  struct Published {
    const char* suffix;
    const char* unit;
    SignalId* id;
  };
  // publish() for a table of measurements; stops at the first error.
  Status publish_all(SignalTable& t, std::initializer_list<Published> signals);

 private:
  Status fail(const std::string& during, const Status& s);

  std::string name_;
  std::string role_;
  DeviceState state_ = DeviceState::unconfigured;
  std::string last_error_;
  std::vector<SignalId> published_;
  int read_failures_ = 0;
  int fault_after_ = 10;
};

}  // namespace zhil
