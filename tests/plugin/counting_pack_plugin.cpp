// An out-of-tree driver, as a lab would write one: a shared library that includes zhil's headers,
// links against nothing, and registers a device model when `zhil run --plugin` loads it. This one
// builds on the in-tree pack simulator (found through the registry, not by name of a class), as a
// DeviceDecorator, and adds a measurement of its own: how many reads the pack has answered.
#include <memory>

#include "harness/device_decorator.hpp"
#include "harness/device_registry.hpp"

namespace {

class CountingPack final : public zhil::DeviceDecorator {
 public:
  using DeviceDecorator::DeviceDecorator;

 protected:
  zhil::Status on_configure(zhil::DeviceContext& c) override {
    if (auto s = DeviceDecorator::on_configure(c); !s) return s;
    return add_measurement(c.signals, "reads", "1", &reads_id_);
  }
  void on_publish(zhil::Time stamp, zhil::SignalTable& t) override {
    DeviceDecorator::on_publish(stamp, t);
    t.set_value(reads_id_, static_cast<double>(++reads_));
  }

 private:
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
