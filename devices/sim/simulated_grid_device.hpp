#pragma once
// The simulated grid emulator and site meter, reached in-process: publishes voltage, frequency,
// availability and grid import; takes voltage, frequency and outage stimuli from the scenario.
#include "devices/sim/grid_model.hpp"
#include "devices/sim/simulated_device.hpp"

namespace zhil::sim {

class SimulatedGridDevice final : public SimulatedDevice<GridModel> {
 public:
  SimulatedGridDevice(std::string name, GridModel& model) : SimulatedDevice(std::move(name), "grid", model) {}

 protected:
  Status on_configure(SignalTable& t) override;
  Status on_read(Time now, SignalTable& t) override;
  Status on_write(Time now, const SignalTable& t) override;
  SafeStateReport on_verify_safe_state() override { return {true, "grid emulator: no power command to zero"}; }

 private:
  SignalId v_, f_, available_, import_;
  SignalId v_set_, f_set_, outage_;
};

}  // namespace zhil::sim
