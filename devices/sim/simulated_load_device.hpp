#pragma once
// The simulated data-centre load (a load bank on a real bench), reached in-process: publishes what
// it draws, wants, cannot get, and whether it has left for its own backup; follows the demand the
// scenario drives.
#include "devices/sim/load_model.hpp"
#include "harness/device.hpp"

namespace zhil::sim {

class SimulatedLoadDevice final : public Device {
 public:
  SimulatedLoadDevice(std::string name, LoadModel& model) : Device(std::move(name), "load"), model_(model) {}

 protected:
  Status on_configure(SignalTable& t) override;
  Status on_activate(Time) override { return Status::ok(); }
  Status on_read(Time now, SignalTable& t) override;
  Status on_write(Time now, const SignalTable& t) override;
  Status on_deactivate() override { return on_safe_state(); }
  Status on_safe_state() override {
    model_.set_demand(0);
    safe_ = true;
    return Status::ok();
  }
  SafeStateReport on_verify_safe_state() override {
    return {model_.demand_w() == 0.0, "demand " + std::to_string(model_.demand_w()) + " W"};
  }

 private:
  LoadModel& model_;
  bool safe_ = false;
  SignalId p_, demand_, unserved_, backup_, demand_set_;
};

}  // namespace zhil::sim
