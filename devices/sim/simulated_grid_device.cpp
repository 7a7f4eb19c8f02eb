#include "devices/sim/simulated_grid_device.hpp"

#include "harness/device_roles.hpp"

namespace zhil::sim {

Status SimulatedGridDevice::on_configure(DeviceContext& c) {
  namespace r = roles::grid;
  SignalTable& t = c.signals;
  if (auto s = add_measurements(t, {{r::v_pu, "1", &v_}, {r::f, "Hz", &f_}, {r::available, "1", &available_},
                                    {r::p_import, "W", &import_}});
      !s)
    return s;
  if (auto s = add_stimulus(t, r::v_pu_set, "1", &v_set_, 1.0); !s) return s;
  if (auto s = add_stimulus(t, r::f_set, "Hz", &f_set_, model_.f_nominal()); !s) return s;
  if (auto s = add_stimulus(t, r::outage, "1", &outage_); !s) return s;
  return Status::ok();
}

void SimulatedGridDevice::on_publish(Time now, SignalTable& t) {
  t.set(v_, model_.v_pu(), now);
  t.set(f_, model_.f_hz(), now);
  t.set(available_, model_.available() ? 1.0 : 0.0, now);
  t.set(import_, model_.p_import_w, now);
}

void SimulatedGridDevice::on_stimuli(Time, const SignalTable& t) {
  model_.set_voltage_pu(t.value(v_set_));
  model_.set_frequency(t.value(f_set_));
  model_.set_outage(t.value(outage_) > 0.5);
}

}  // namespace zhil::sim

// ---- registration: model "grid-simulator"
#include "devices/sim/simulator_faces.hpp"

namespace zhil::sim {
namespace {
const DeviceRegistration kGridSimulator("grid-simulator", {
    "grid", "utility grid emulator and site meter", /*build_order=*/0,
    [](DeviceBuildContext& c) {
      if (c.device.params.defined()) c.device.params.expect_keys(std::vector<std::string>{});
      return SimulatorFaces::instance().reach(c, &site_of(c).grid());
    }});
}  // namespace
}  // namespace zhil::sim
