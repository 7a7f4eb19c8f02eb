#include "devices/sim/simulated_load_device.hpp"

#include "harness/device_roles.hpp"

namespace zhil::sim {

Status SimulatedLoadDevice::on_configure(DeviceContext& c) {
  namespace r = roles::load;
  SignalTable& t = c.signals;
  if (auto s = add_measurements(t, {{r::p, "W", &p_}, {r::p_demand, "W", &demand_}, {r::p_unserved, "W", &unserved_},
                                    {r::on_backup, "1", &backup_}});
      !s)
    return s;
  return add_stimulus(t, r::p_demand_set, "W", &demand_set_, model_.params().initial_demand_w);
}

void SimulatedLoadDevice::on_publish(Time now, SignalTable& t) {
  t.set(p_, model_.p_drawn_w, now);
  t.set(demand_, model_.demand_w(), now);
  t.set(unserved_, model_.p_unserved_w, now);
  t.set(backup_, model_.on_backup() ? 1.0 : 0.0, now);
}

void SimulatedLoadDevice::on_stimuli(Time, const SignalTable& t) { model_.set_demand(t.value(demand_set_)); }

}  // namespace zhil::sim

// ---- registration: model "load-simulator"
#include "devices/sim/simulator_faces.hpp"
#include "devices/sim/simulator_params.hpp"

namespace zhil::sim {
namespace {
const DeviceRegistration kLoadSimulator("load-simulator", {
    "load", "AI data-centre load (load bank), optionally ITIC voltage-sensitive", /*build_order=*/0,
    [](DeviceBuildContext& c) {
      LoadModel& m = site_of(c).add_load(load_load_params(c.device.params, &c.bench.input_files));
      return SimulatorFaces::instance().reach(c, &m);
    }});
}  // namespace
}  // namespace zhil::sim
