#pragma once
// The simulated grid emulator and site meter, reached in-process: publishes voltage, frequency,
// availability and grid import; takes voltage, frequency and outage stimuli from the scenario.
#include "devices/sim/grid_model.hpp"
#include "devices/sim/simulated_device.hpp"

namespace zhil::sim {

class SimulatedGridDevice final : public SimulatedDevice<GridModel> {
 public:
  SimulatedGridDevice(std::string name, GridModel& model, Duration latency)
      : SimulatedDevice(std::move(name), "grid", model, latency) {}

 protected:
  Status on_configure(DeviceContext& c) override;
  void on_publish(Time stamp, SignalTable& t) override;
  Status write_now(Time, const SignalTable&) override { return Status::ok(); }  // a meter: no commands
  void on_stimuli(Time now, const SignalTable& t) override;
  SafeStateReport verify_now() override { return {true, "grid emulator: no power command to zero"}; }

 private:
  SignalId v_, f_, available_, import_;
  SignalId v_set_, f_set_, outage_;
};

}  // namespace zhil::sim
