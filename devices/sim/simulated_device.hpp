#pragma once
// What every simulated device reached in-process has in common: nothing to connect to on activate,
// and a safe state that is the model's own (power to zero, contactors open), so deactivating is
// going to it. The model types provide enter_safe_state().
#include <string>
#include <utility>

#include "harness/device.hpp"

namespace zhil::sim {

template <class Model>
class SimulatedDevice : public Device {
 public:
  SimulatedDevice(std::string name, std::string role, Model& model, std::string serial = "")
      : Device(std::move(name), std::move(role)), model_(model), serial_(std::move(serial)) {}
  std::string identity() const override { return serial_; }

 protected:
  Status on_activate(Time) override { return Status::ok(); }
  Status on_deactivate() override { return on_safe_state(); }
  Status on_safe_state() override {
    model_.enter_safe_state();
    return Status::ok();
  }

  Model& model_;

 private:
  std::string serial_;
};

}  // namespace zhil::sim
