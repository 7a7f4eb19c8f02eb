#pragma once
// A simulated inverter reached in-process: publishes its AC/DC power, mode and what its packs
// allow; takes P/Q setpoints and grid-forming enable; a trip can be injected as a fault.
#include "devices/sim/inverter_model.hpp"
#include "devices/sim/simulated_device.hpp"

namespace zhil::sim {

class SimulatedInverterDevice final : public SimulatedDevice<InverterModel> {
 public:
  SimulatedInverterDevice(std::string name, InverterModel& model, std::string serial)
      : SimulatedDevice(std::move(name), "inverter", model, std::move(serial)) {}

 protected:
  Status on_configure(SignalTable& t) override;
  Status on_read(Time now, SignalTable& t) override;
  Status on_write(Time now, const SignalTable& t) override;
  SafeStateReport on_verify_safe_state() override;

 private:
  SignalId p_ac_, q_ac_, p_dc_, mode_, tripped_, avail_dis_, avail_ch_, droop_;
  SignalId p_set_, q_set_, gf_, limit_dis_, limit_ch_, trip_fault_;
};

}  // namespace zhil::sim
