#pragma once
// A simulated inverter reached in-process: publishes its AC/DC power, mode, what its packs allow and
// the frequency-watt droop it asks for and delivers; takes P/Q setpoints and grid-forming enable;
// a trip can be injected as a fault.
#include "devices/sim/inverter_model.hpp"
#include "devices/sim/simulated_device.hpp"

namespace zhil::sim {

class SimulatedInverterDevice final : public SimulatedDevice<InverterModel> {
 public:
  SimulatedInverterDevice(std::string name, InverterModel& model, Duration latency, std::string serial)
      : SimulatedDevice(std::move(name), "inverter", model, latency, std::move(serial)) {}
  // From full power at the ramp rate.
  Duration safe_state_time() const override {
    const auto& p = model_.params();
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(
        std::max(p.p_rated_w, p.s_rated_va) / std::max(p.ramp_w_per_s, 1.0)));
  }

 protected:
  Status on_configure(DeviceContext& c) override;
  void on_publish(Time stamp, SignalTable& t) override;
  Status write_now(Time now, const SignalTable& t) override;
  SafeStateReport verify_now() override;
  void on_stimuli(Time now, const SignalTable& t) override;

 private:
  SignalId p_ac_, q_ac_, p_dc_, mode_, tripped_, avail_dis_, avail_ch_, droop_, droop_delivered_;
  SignalId p_set_, q_set_, gf_, limit_dis_, limit_ch_, trip_fault_;
};

}  // namespace zhil::sim
