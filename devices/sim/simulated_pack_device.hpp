#pragma once
// A simulated pack reached in-process: the Device face of a PackModel, publishing what its BMS
// would report (pack and per-module) and taking contactor and strip commands. Fault stimuli
// (cooling loss, ambient, internal short, communication loss) reach the model through the
// simulator's back door, as a scenario's faults.
#include <vector>

#include "devices/sim/pack_model.hpp"
#include "devices/sim/simulated_device.hpp"

namespace zhil::sim {

class SimulatedPackDevice final : public SimulatedDevice<PackModel> {
 public:
  SimulatedPackDevice(std::string name, PackModel& model, std::string serial)
      : SimulatedDevice(std::move(name), "pack", model, std::move(serial)) {}

 protected:
  Status on_configure(SignalTable& t) override;
  Status on_read(Time now, SignalTable& t) override;
  Status on_write(Time now, const SignalTable& t) override;
  SafeStateReport on_verify_safe_state() override;

 private:
  struct ModuleIds {
    SignalId v, soc, t, zn;
  };
  SignalId v_, i_, p_, soc_, soc_min_, soc_max_, t_max_, vm_max_, vm_min_, i_ch_, i_dis_, contactor_, strip_due_,
      stripping_, state_, alarms_, zn_, energy_;
  SignalId contactor_cmd_, strip_request_, i_ch_allowed_, i_dis_allowed_, ambient_, cooling_loss_, internal_short_, comm_loss_;
  std::vector<ModuleIds> modules_;
  bool comm_lost_ = false;
};

}  // namespace zhil::sim
