#pragma once
// A device in front of another: every operation is forwarded to the inner device and every end of
// it reported back as this device's. A driver built on another (a simulator with an extra reading,
// a fault-injecting proxy, a recording spy) derives from it and overrides what it adds; it keeps the
// inner device's name and role, so the inner device's signals are its own (the run marks them
// stale or fault with it).
#include <memory>
#include <utility>

#include "harness/device.hpp"

namespace zhil {

class DeviceDecorator : public Device, protected DeviceObserver {
 public:
  explicit DeviceDecorator(std::unique_ptr<Device> inner)
      : Device(inner->name(), inner->role()), inner_(std::move(inner)) {}
  std::string identity() const override { return inner_->identity(); }
  Duration safe_state_time() const override { return inner_->safe_state_time(); }
  Duration watchdog_armed() const override { return inner_->watchdog_armed(); }
  std::vector<std::pair<std::string, std::uint64_t>> io_counts() const override { return inner_->io_counts(); }
  Device& inner() { return *inner_; }
  void resumed_from_safe_state() override { inner_->resumed_from_safe_state(); }

 protected:
  Status on_configure(DeviceContext& c) override {
    inner_->set_observer(this, 0);
    return inner_->configure(c);
  }
  void on_activate(Time now) override { forward(inner_->start_activate(now)); }
  void on_read(Time now) override { forward(inner_->start_read(now)); }
  void on_publish(Time stamp, SignalTable& t) override { inner_->publish(stamp, t); }
  void on_write(Time now, const SignalTable&) override { forward(inner_->start_write(now)); }
  void on_safe_state() override { forward(inner_->start_safe_state()); }
  void on_verify_safe_state() override { forward(inner_->start_verify_safe_state()); }
  void on_deactivate() override { inner_->deactivate(); }
  void on_abandon() override { inner_->abandon(); }
  void on_detach() override { inner_->detach(); }
  void on_stimuli(Time now, const SignalTable& t) override { inner_->apply_stimuli(now, t); }
  void device_done(Device&, DeviceOp op, const Status& s) override {
    if (op == DeviceOp::verify) {
      complete_verify(inner_->safe_state_report());
      return;
    }
    // The inner device named itself and the operation; this device does that again.
    const std::string prefix = "device " + inner_->name() + ": " + to_string(op) + ": ";
    if (!s && s.message().rfind(prefix, 0) == 0) complete(Status::error(s.message().substr(prefix.size())));
    else complete(s);
  }

  std::unique_ptr<Device> inner_;

 private:
  // The inner device refused to start (its state): end this device's operation too.
  void forward(bool started) {
    if (!started) complete(Status::error("refused by " + inner_->name() + " in state " + to_string(inner_->state())));
  }
};

}  // namespace zhil
