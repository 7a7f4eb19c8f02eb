#pragma once
// A simulated inverter reached in-process: publishes its AC/DC power, mode and what its packs
// allow; takes P/Q setpoints and grid-forming enable; a trip can be injected as a fault.
#include "devices/sim/inverter_model.hpp"
#include "harness/device.hpp"

namespace zhil::sim {

class SimulatedInverterDevice final : public Device {
 public:
  SimulatedInverterDevice(std::string name, InverterModel& model, std::string serial)
      : Device(std::move(name), "inverter"), model_(model), serial_(std::move(serial)) {}
  std::string identity() const override { return serial_; }

 protected:
  Status on_configure(SignalTable& t) override;
  Status on_activate(Time) override { return Status::ok(); }
  Status on_read(Time now, SignalTable& t) override;
  Status on_write(Time now, const SignalTable& t) override;
  Status on_deactivate() override { return on_safe_state(); }
  Status on_safe_state() override {
    model_.enter_safe_state();
    return Status::ok();
  }
  SafeStateReport on_verify_safe_state() override;

 private:
  InverterModel& model_;
  std::string serial_;
  SignalId p_ac_, q_ac_, p_dc_, mode_, tripped_, avail_dis_, avail_ch_, droop_;
  SignalId p_set_, q_set_, gf_, limit_dis_, limit_ch_, trip_fault_;
};

}  // namespace zhil::sim
