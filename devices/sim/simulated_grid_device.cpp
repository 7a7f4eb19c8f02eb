#include "devices/sim/simulated_grid_device.hpp"

#include "harness/device_roles.hpp"

namespace zhil::sim {

Status SimulatedGridDevice::on_configure(SignalTable& t) {
  namespace r = roles::grid;
  if (auto s = publish_all(t, {{r::v_pu, "1", &v_}, {r::f, "Hz", &f_}, {r::available, "1", &available_},
                               {r::p_import, "W", &import_}});
      !s)
    return s;
  if (auto s = consume(t, r::v_pu_set, "1", SignalKind::stimulus, &v_set_, 1.0); !s) return s;
  if (auto s = consume(t, r::f_set, "Hz", SignalKind::stimulus, &f_set_, model_.f_nominal()); !s) return s;
  if (auto s = consume(t, r::outage, "1", SignalKind::stimulus, &outage_); !s) return s;
  return Status::ok();
}

Status SimulatedGridDevice::on_read(Time now, SignalTable& t) {
  t.set(v_, model_.v_pu(), now);
  t.set(f_, model_.f_hz(), now);
  t.set(available_, model_.available() ? 1.0 : 0.0, now);
  t.set(import_, model_.p_import_w, now);
  return Status::ok();
}

Status SimulatedGridDevice::on_write(Time, const SignalTable& t) {
  model_.set_voltage_pu(t.value(v_set_));
  model_.set_frequency(t.value(f_set_));
  model_.set_outage(t.value(outage_) > 0.5);
  return Status::ok();
}

}  // namespace zhil::sim
