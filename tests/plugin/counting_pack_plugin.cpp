// An out-of-tree driver, as a lab would write one: a shared library that includes zhil's headers,
// links against nothing, and registers a device model when `zhil run --plugin` loads it. This one
// builds on the in-tree pack simulator (found through the registry, not by name of a class) and
// adds a measurement of its own: how many reads the pack has answered.
#include <memory>

#include "harness/device_registry.hpp"

namespace {

class CountingPack final : public zhil::Device, zhil::DeviceObserver {
 public:
  explicit CountingPack(std::unique_ptr<zhil::Device> inner)
      : Device(inner->name(), inner->role()), inner_(std::move(inner)) {}
  std::string identity() const override { return inner_->identity(); }

 protected:
  zhil::Status on_configure(zhil::DeviceContext& c) override {
    inner_->set_observer(this, 0);
    if (auto s = inner_->configure(c); !s) return s;
    return add_measurement(c.signals, "reads", "1", &reads_id_);
  }
  void on_activate(zhil::Time now) override { inner_->start_activate(now); }
  void on_read(zhil::Time now) override { inner_->start_read(now); }
  void on_publish(zhil::Time stamp, zhil::SignalTable& t) override {
    inner_->publish(stamp, t);
    t.set_value(reads_id_, static_cast<double>(++reads_));
  }
  void on_write(zhil::Time now, const zhil::SignalTable&) override { inner_->start_write(now); }
  void on_safe_state() override { inner_->start_safe_state(); }
  void on_verify_safe_state() override { inner_->start_verify_safe_state(); }
  void on_deactivate() override { inner_->deactivate(); }
  void on_stimuli(zhil::Time now, const zhil::SignalTable& t) override { inner_->apply_stimuli(now, t); }
  void device_done(zhil::Device&, zhil::DeviceOp op, const zhil::Status& s) override {
    if (op == zhil::DeviceOp::verify) complete_verify(inner_->safe_state_report());
    else complete(s);
  }

 private:
  std::unique_ptr<zhil::Device> inner_;
  zhil::SignalId reads_id_ = zhil::kNoSignal;
  std::uint64_t reads_ = 0;
};

zhil::DeviceModel counting_pack() {
  const zhil::DeviceModel* base = zhil::DeviceRegistry::instance().find("pack-simulator");
  zhil::DeviceModel m = *base;
  m.description = "pack simulator that counts its reads (example plugin)";
  m.build = [build = base->build](zhil::DeviceBuildContext& c) -> std::unique_ptr<zhil::Device> {
    return std::make_unique<CountingPack>(build(c));
  };
  return m;
}

const zhil::DeviceRegistration kRegistration("counting-pack", counting_pack());

}  // namespace
