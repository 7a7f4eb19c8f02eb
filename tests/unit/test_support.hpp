#pragma once
// Helpers shared by the tests: paths into the checkout and scratch folders.
#include <string>

#include "harness/config/config_node.hpp"

namespace zhil::test {

std::string source_path(const std::string& relative);  // <checkout>/relative
std::string scratch_dir(const std::string& name);       // a fresh empty folder under the build tree
std::string write_file(const std::string& dir, const std::string& name, const std::string& text);
// A station entry's params naming a fixture of the checkout, e.g. "fixtures/packs/zh-160kwh-16s.yaml".
ConfigNode fixture_entry(const std::string& fixture);

}  // namespace zhil::test

#include <functional>
#include <memory>

#include "harness/device.hpp"

namespace zhil::test {

// A device in front of another, forwarding every operation; tests override what they want to see
// or break. Built from the registry's own model, so the inner device is exactly what a station
// would build.
class DeviceDecorator : public Device, protected DeviceObserver {
 public:
  explicit DeviceDecorator(std::unique_ptr<Device> inner)
      : Device(inner->name(), inner->role()), inner_(std::move(inner)) {}
  std::string identity() const override { return inner_->identity(); }
  Device& inner() { return *inner_; }

 protected:
  Status on_configure(DeviceContext& c) override {
    inner_->set_observer(this, 0);
    return inner_->configure(c);
  }
  void on_activate(Time now) override { inner_->start_activate(now); }
  void on_read(Time now) override { inner_->start_read(now); }
  void on_publish(Time stamp, SignalTable& t) override { inner_->publish(stamp, t); }
  void on_write(Time now, const SignalTable&) override { inner_->start_write(now); }
  void on_safe_state() override { inner_->start_safe_state(); }
  void on_verify_safe_state() override { inner_->start_verify_safe_state(); }
  void on_deactivate() override { inner_->deactivate(); }
  void on_stimuli(Time now, const SignalTable& t) override { inner_->apply_stimuli(now, t); }
  void device_done(Device&, DeviceOp op, const Status& s) override {
    if (op == DeviceOp::verify) complete_verify(inner_->safe_state_report());
    else complete(s);
  }
  std::unique_ptr<Device> inner_;
};

// Registers `model` (role of `base`) for the life of the object: the registry's `base` model,
// wrapped by `wrap`.
class ScopedDecoratedModel {
 public:
  using Wrap = std::function<std::unique_ptr<Device>(std::unique_ptr<Device>)>;
  ScopedDecoratedModel(const std::string& model, const std::string& base, Wrap wrap);
  ~ScopedDecoratedModel();

 private:
  std::string model_;
};

}  // namespace zhil::test
