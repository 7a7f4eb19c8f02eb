#pragma once
// A simulated pack reached in-process: the Device face of a PackModel, publishing what its BMS
// would report (pack and per-module) and taking contactor and strip commands. Fault stimuli
// (cooling loss, ambient, internal short, communication loss) reach the model through the
// simulator's back door, as a scenario's faults.
#include <vector>

#include "devices/sim/pack_model.hpp"
#include "harness/device.hpp"

namespace zhil::sim {

class SimulatedPackDevice final : public Device {
 public:
  SimulatedPackDevice(std::string name, PackModel& model, std::string serial)
      : Device(std::move(name), "pack"), model_(model), serial_(std::move(serial)) {}
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
  struct ModuleIds {
    SignalId v, soc, t, zn;
  };
  PackModel& model_;
  std::string serial_;
  SignalId v_, i_, p_, soc_, soc_min_, soc_max_, t_max_, vm_max_, vm_min_, i_ch_, i_dis_, contactor_, strip_due_,
      stripping_, state_, alarms_, zn_, energy_;
  SignalId contactor_cmd_, strip_request_, i_ch_allowed_, i_dis_allowed_, ambient_, cooling_loss_, internal_short_, comm_loss_;
  std::vector<ModuleIds> modules_;
  bool comm_lost_ = false;
};

}  // namespace zhil::sim
