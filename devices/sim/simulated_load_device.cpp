#include "devices/sim/simulated_load_device.hpp"

#include "harness/device_roles.hpp"

namespace zhil::sim {

Status SimulatedLoadDevice::on_configure(SignalTable& t) {
  namespace r = roles::load;
  if (auto s = publish_all(t, {{r::p, "W", &p_}, {r::p_demand, "W", &demand_}, {r::p_unserved, "W", &unserved_},
                               {r::on_backup, "1", &backup_}});
      !s)
    return s;
  return consume(t, r::p_demand_set, "W", SignalKind::stimulus, &demand_set_, model_.params().initial_demand_w);
}

Status SimulatedLoadDevice::on_read(Time now, SignalTable& t) {
  t.set(p_, model_.p_drawn_w, now);
  t.set(demand_, model_.demand_w(), now);
  t.set(unserved_, model_.p_unserved_w, now);
  t.set(backup_, model_.on_backup() ? 1.0 : 0.0, now);
  return Status::ok();
}

Status SimulatedLoadDevice::on_write(Time, const SignalTable& t) {
  model_.set_demand(t.value(demand_set_));
  return Status::ok();
}

}  // namespace zhil::sim
