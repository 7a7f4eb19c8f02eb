#pragma once
// A simulated pack reached in-process: the Device face of a PackModel, publishing what its BMS
// would report (pack and per-module) and taking contactor and strip commands. Fault stimuli
// (cooling loss, ambient, internal short, communication loss) reach the model through the
// simulator's back door, as a scenario's faults. While communication is lost the BMS neither
// answers reads nor takes commands.
#include <vector>

#include "devices/sim/pack_model.hpp"
#include "devices/sim/simulated_device.hpp"

namespace zhil::sim {

class SimulatedPackDevice final : public SimulatedDevice<PackModel> {
 public:
  SimulatedPackDevice(std::string name, PackModel& model, Duration latency, std::string serial)
      : SimulatedDevice(std::move(name), "pack", model, latency, std::move(serial)) {}

 protected:
  Status on_configure(DeviceContext& c) override;
  Status read_now(Time now) override;
  void on_publish(Time stamp, SignalTable& t) override;
  Status write_now(Time now, const SignalTable& t) override;
  Status safe_state_now() override;
  SafeStateReport verify_now() override;
  void on_stimuli(Time now, const SignalTable& t) override;
  void state_more(StateWriter& a) override;
  void state_more(StateReader& a) override;
  // A lost link carries nothing either way: the BMS does not hear the host, and its watchdog runs.
  void host_contact(Time now) override {
    if (!comm_lost_) SimulatedDevice::host_contact(now);
  }

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
