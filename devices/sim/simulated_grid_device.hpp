#pragma once
// The simulated grid emulator and site meter, reached in-process: publishes voltage, frequency,
// availability and grid import; takes voltage, frequency and outage stimuli from the scenario.
#include "devices/sim/grid_model.hpp"
#include "harness/device.hpp"

namespace zhil::sim {

class SimulatedGridDevice final : public Device {
 public:
  SimulatedGridDevice(std::string name, GridModel& model) : Device(std::move(name), "grid"), model_(model) {}

 protected:
  Status on_configure(SignalTable& t) override;
  Status on_activate(Time) override { return Status::ok(); }
  Status on_read(Time now, SignalTable& t) override;
  Status on_write(Time now, const SignalTable& t) override;
  Status on_deactivate() override { return Status::ok(); }
  // A grid emulator's safe state is its nominal output: the bench's power devices are what must stop.
  Status on_safe_state() override { return Status::ok(); }
  SafeStateReport on_verify_safe_state() override { return {true, "grid emulator: no power command to zero"}; }

 private:
  GridModel& model_;
  SignalId v_, f_, available_, import_;
  SignalId v_set_, f_set_, outage_;
};

}  // namespace zhil::sim
