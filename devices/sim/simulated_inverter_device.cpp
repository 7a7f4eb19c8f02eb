#include "devices/sim/simulated_inverter_device.hpp"

#include "harness/device_roles.hpp"

namespace zhil::sim {

Status SimulatedInverterDevice::on_configure(SignalTable& t) {
  namespace r = roles::inverter;
  if (auto s = publish_all(t, {{r::p_ac, "W", &p_ac_}, {r::q_ac, "var", &q_ac_}, {r::p_dc, "W", &p_dc_}, {r::mode, "1", &mode_},
                      {r::tripped, "1", &tripped_}, {r::p_available_discharge, "W", &avail_dis_},
                      {r::p_available_charge, "W", &avail_ch_}, {r::p_droop, "W", &droop_}}); !s) return s;
  if (auto s = consume(t, r::p_set, "W", SignalKind::command, &p_set_); !s) return s;
  if (auto s = consume(t, r::q_set, "var", SignalKind::command, &q_set_); !s) return s;
  if (auto s = consume(t, r::grid_forming_enable, "1", SignalKind::command, &gf_); !s) return s;
  if (auto s = consume(t, r::p_limit_discharge, "W", SignalKind::command, &limit_dis_); !s) return s;
  if (auto s = consume(t, r::p_limit_charge, "W", SignalKind::command, &limit_ch_); !s) return s;
  if (auto s = consume(t, "fault.trip", "1", SignalKind::stimulus, &trip_fault_); !s) return s;
  return Status::ok();
}

Status SimulatedInverterDevice::on_read(Time now, SignalTable& t) {
  t.set(p_ac_, model_.p_ac(), now);
  t.set(q_ac_, model_.q_ac(), now);
  t.set(p_dc_, model_.p_dc(), now);
  t.set(mode_, static_cast<double>(model_.mode()), now);
  t.set(tripped_, model_.tripped() ? 1.0 : 0.0, now);
  t.set(avail_dis_, model_.available_discharge_w(), now);
  t.set(avail_ch_, model_.available_charge_w(), now);
  t.set(droop_, model_.p_droop(), now);
  return Status::ok();
}

Status SimulatedInverterDevice::on_write(Time, const SignalTable& t) {
  model_.set_power_setpoint(t.value(p_set_));
  model_.set_reactive_setpoint(t.value(q_set_));
  model_.set_grid_forming_enabled(t.value(gf_) > 0.5);
  model_.set_trip_fault(t.value(trip_fault_) > 0.5);
  model_.set_output_limits(t.value(limit_dis_), t.value(limit_ch_));
  return Status::ok();
}

SafeStateReport SimulatedInverterDevice::on_verify_safe_state() {
  const bool zero = model_.p_ac() == 0.0 && model_.q_ac() == 0.0;
  return {zero, "p_ac " + std::to_string(model_.p_ac()) + " W, q_ac " + std::to_string(model_.q_ac()) + " var"};
}

}  // namespace zhil::sim
