#pragma once
// The simulated data-centre load (a load bank on a real bench), reached in-process: publishes what
// it draws, wants, cannot get, and whether it has left for its own backup; follows the demand the
// scenario drives.
#include "devices/sim/load_model.hpp"
#include "devices/sim/simulated_device.hpp"

namespace zhil::sim {

class SimulatedLoadDevice final : public SimulatedDevice<LoadModel> {
 public:
  SimulatedLoadDevice(std::string name, LoadModel& model, Duration latency)
      : SimulatedDevice(std::move(name), "load", model, latency) {}

 protected:
  Status on_configure(DeviceContext& c) override;
  void on_publish(Time stamp, SignalTable& t) override;
  Status write_now(Time, const SignalTable&) override { return Status::ok(); }  // demand is a stimulus
  void on_stimuli(Time now, const SignalTable& t) override;
  SafeStateReport verify_now() override {
    return {model_.demand_w() == 0.0, "demand " + std::to_string(model_.demand_w()) + " W"};
  }

 private:
  SignalId p_, demand_, unserved_, backup_, demand_set_;
};

}  // namespace zhil::sim
