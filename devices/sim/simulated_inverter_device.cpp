#include "devices/sim/simulated_inverter_device.hpp"

#include "harness/device_roles.hpp"

namespace zhil::sim {

Status SimulatedInverterDevice::on_configure(DeviceContext& c) {
  namespace r = roles::inverter;
  SignalTable& t = c.signals;
  if (auto s = add_measurements(t, {{r::p_ac, "W", &p_ac_}, {r::q_ac, "var", &q_ac_}, {r::p_dc, "W", &p_dc_},
                                    {r::mode, "1", &mode_}, {r::tripped, "1", &tripped_},
                                    {r::p_available_discharge, "W", &avail_dis_},
                                    {r::p_available_charge, "W", &avail_ch_}, {r::p_droop, "W", &droop_},
                                    {r::p_droop_delivered, "W", &droop_delivered_}});
      !s)
    return s;
  if (auto s = add_command(t, r::p_set, "W", &p_set_); !s) return s;
  if (auto s = add_command(t, r::q_set, "var", &q_set_); !s) return s;
  if (auto s = add_command(t, r::grid_forming_enable, "1", &gf_, {0, 1}); !s) return s;
  if (auto s = add_limit(t, r::p_limit_discharge, "W", &limit_dis_); !s) return s;
  if (auto s = add_limit(t, r::p_limit_charge, "W", &limit_ch_); !s) return s;
  if (auto s = add_stimulus(t, "fault.trip", "1", &trip_fault_); !s) return s;
  return Status::ok();
}

void SimulatedInverterDevice::on_publish(Time now, SignalTable& t) {
  t.set(p_ac_, model_.p_ac(), now);
  t.set(q_ac_, model_.q_ac(), now);
  t.set(p_dc_, model_.p_dc(), now);
  t.set(mode_, static_cast<double>(model_.mode()), now);
  t.set(tripped_, model_.tripped() ? 1.0 : 0.0, now);
  t.set(avail_dis_, model_.available_discharge_w(), now);
  t.set(avail_ch_, model_.available_charge_w(), now);
  t.set(droop_, model_.p_droop(), now);
  t.set(droop_delivered_, model_.p_droop_delivered(), now);
}

void SimulatedInverterDevice::on_stimuli(Time, const SignalTable& t) { model_.set_trip_fault(t.value(trip_fault_) > 0.5); }

Status SimulatedInverterDevice::write_now(Time, const SignalTable& t) {
  model_.set_power_setpoint(t.value(p_set_));
  model_.set_reactive_setpoint(t.value(q_set_));
  model_.set_grid_forming_enabled(t.value(gf_) > 0.5);
  model_.set_output_limits(t.value(limit_dis_), t.value(limit_ch_));
  return Status::ok();
}

SafeStateReport SimulatedInverterDevice::verify_now() {
  const bool zero = model_.p_ac() == 0.0 && model_.q_ac() == 0.0;
  return {zero, "p_ac " + std::to_string(model_.p_ac()) + " W, q_ac " + std::to_string(model_.q_ac()) + " var"};
}

}  // namespace zhil::sim

// ---- registration: model "inverter-simulator"
#include "devices/sim/simulator_faces.hpp"
#include "devices/sim/simulator_params.hpp"

namespace zhil::sim {
namespace {
const DeviceRegistration kInverterSimulator("inverter-simulator", {
    "inverter", "bidirectional battery inverter (PCS) simulator with its packs' DC bus", /*build_order=*/1,
    [](DeviceBuildContext& c) {
      SiteSimulator& site = site_of(c);
      std::vector<PackModel*> on_bus;
      for (const std::string& p : c.device.packs) {
        PackModel* pm = site.pack(p);
        if (!pm)
          c.device.entry.fail("inverter " + c.device.name + ": pack " + p +
                              " on its DC bus is not a simulated pack; a simulated inverter's packs must be simulated");
        on_bus.push_back(pm);
      }
      InverterModel& m = site.add_inverter(
          load_inverter_params(c.device.params, c.station.nominal_frequency_hz, c.station.nominal_voltage_v,
                               &c.bench.input_files),
          on_bus);
      return SimulatorFaces::instance().reach(c, &m);
    }});
}  // namespace
}  // namespace zhil::sim
