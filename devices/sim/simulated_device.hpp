#pragma once
// What every simulated device reached in-process has in common: its model in the simulated site,
// a safe state that is the model's own (power to zero, contactors open) and is left again when the
// device is activated (nothing latches across deactivate/activate), and the model's identity.
// Stimuli (grid, load, injected faults) reach the model through the simulator's back door at the
// moment the scenario sets them; commands reach it only through the write phase, as on a bench.
// The model types provide enter_safe_state() and leave_safe_state().
#include <string>
#include <utility>

#include "harness/in_process_device.hpp"

namespace zhil::sim {

template <class Model>
class SimulatedDevice : public InProcessDevice {
 public:
  SimulatedDevice(std::string name, std::string role, Model& model, Duration latency, std::string serial = "")
      : InProcessDevice(std::move(name), std::move(role), latency), model_(model), serial_(std::move(serial)) {}
  std::string identity() const override { return serial_; }
  void resumed_from_safe_state() override {
    if constexpr (requires(Model& m) { m.settle_safe_state(); }) model_.settle_safe_state();
    else model_.enter_safe_state();
    model_.leave_safe_state();
  }
  Duration watchdog_armed() const override { return armed_; }

 protected:
  Status activate_now(Time now) override {
    model_.leave_safe_state();
    if constexpr (requires(Model& m) { m.watchdog(); }) {
      // The model's own communication timeout, armed as a driver arms the device's.
      if (requested_watchdog() > Duration{0}) model_.watchdog().arm(requested_watchdog(), now);
      else model_.watchdog().disarm();
      armed_ = requested_watchdog();
    }
    return Status::ok();
  }
  void host_contact(Time now) override {
    if constexpr (requires(Model& m) { m.watchdog(); }) model_.watchdog().contact(now);
  }
  Status safe_state_now() override {
    model_.enter_safe_state();
    return Status::ok();
  }

  Model& model_;
  Duration armed_{0};

 private:
  std::string serial_;
};

}  // namespace zhil::sim
