#include "harness/control/reference_energy_manager.hpp"

#include <algorithm>
#include <cmath>

#include "harness/checkpoint/state_archive.hpp"
#include "harness/config/station_config.hpp"
#include "harness/device_roles.hpp"

namespace zhil {

template <class Archive>
void ReferenceEnergyManager::state(Archive& a) {
  state_section(a, "core reference");
  std::uint64_t packs = 0;
  for (const Inverter& inv : inverters_) packs += inv.packs.size();
  state_count(a, packs, "packs for the reference core to manage");
  for (Inverter& inv : inverters_)
    for (Pack& p : inv.packs) a(p.due_since_s);
  a(import_target_w_, started_, was_on_grid_);
  forecast_.state(a);
}

void ReferenceEnergyManager::save_state(StateWriter& a) const { const_cast<ReferenceEnergyManager*>(this)->state(a); }
void ReferenceEnergyManager::load_state(StateReader& a) { state(a); }

void ReferenceEnergyManager::configure(const CoreContext& c, CoreIo& io) {
  c.params.expect_keys({"grid_import_limit", "import_ramp_limit", "charge_margin", "soc_reserve", "soc_max",
                        "derate_start", "derate_end", "frequency_deadband", "strip_window", "strip_max_defer",
                        "backup", "pack_energy", "import_margin"});
  // Physical ranges: a negative import limit, a 200 % state of charge or a zero ramp limit is a
  // typo, refused where it is written rather than run.
  constexpr double kMaxPower = 1e10;  // 10 GW: above any site
  p_.import_margin_w = c.params.quantity_in("import_margin", "W", p_.import_margin_w, 0, kMaxPower);
  p_.import_limit_w = c.params.quantity_in("grid_import_limit", "W", p_.import_limit_w, 0, kMaxPower);
  p_.import_ramp_w_per_s = c.params.quantity_in("import_ramp_limit", "W/s", p_.import_ramp_w_per_s, 1e-3, kMaxPower);
  p_.charge_margin_w = c.params.quantity_in("charge_margin", "W", p_.charge_margin_w, 0, kMaxPower);
  p_.soc_reserve = c.params.quantity_in("soc_reserve", "1", p_.soc_reserve, 0, 1);
  p_.soc_max = c.params.quantity_in("soc_max", "1", p_.soc_max, 0, 1);
  p_.derate_start_c = c.params.quantity_in("derate_start", "degC", p_.derate_start_c, -40, 150);
  p_.derate_end_c = c.params.quantity_in("derate_end", "degC", p_.derate_end_c, -40, 150);
  p_.f_deadband_hz = c.params.quantity_in("frequency_deadband", "Hz", p_.f_deadband_hz, 0, 5);
  p_.strip_window_s = c.params.quantity_in("strip_window", "s", p_.strip_window_s, 0, 30 * 86400.0);
  p_.strip_max_defer_s = c.params.quantity_in("strip_max_defer", "s", p_.strip_max_defer_s, 0, 30 * 86400.0);
  p_.energy_capacity_wh = c.params.quantity_in("pack_energy", "Wh", 160e3, 1, 1e9);
  if (p_.soc_reserve >= p_.soc_max) c.params.get("soc_reserve").fail("soc_reserve must be below soc_max");
  if (p_.import_margin_w >= p_.import_limit_w && p_.import_limit_w > 0)
    (c.params.get("import_margin").defined() ? c.params.get("import_margin") : c.params.get("grid_import_limit"))
        .fail("import_margin must be below grid_import_limit");
  if (ConfigNode b = c.params.get("backup"); b.defined()) p_.backup = b.as_bool();
  if (p_.derate_end_c <= p_.derate_start_c) c.params.get("derate_end").fail("derate_end must be above derate_start");

  f_nominal_ = c.station.nominal_frequency_hz;
  tod0_ = c.start_time_of_day_s;
  cycle_s_ = to_seconds(c.cycle);
  namespace pk = roles::pack;
  namespace iv = roles::inverter;
  for (const DeviceConfig* d : c.station.with_role(iv::kRole)) {
    const std::string n = d->name + ".";
    Inverter inv{io.input(n + iv::p_ac), io.input(n + iv::p_available_discharge), io.input(n + iv::p_available_charge),
                 io.input(n + iv::mode), io.command(n + iv::p_set), io.command(n + iv::q_set),
                 io.command(n + iv::grid_forming_enable), {}};
    for (const std::string& pn : d->packs) {
      const std::string m = pn + ".";
      inv.packs.push_back({io.input(m + pk::soc), io.input(m + pk::t_max), io.input(m + pk::strip_due),
                           io.input(m + pk::stripping), io.command(m + pk::contactor_cmd),
                           io.command(m + pk::strip_request), io.input(m + pk::energy_available),
                           io.input(m + pk::state)});
    }
    inverters_.push_back(std::move(inv));
  }
  for (const DeviceConfig* d : c.station.with_role(roles::load::kRole)) loads_.push_back(io.input(d->name + "." + roles::load::p));
  const std::string g = c.station.with_role(roles::grid::kRole).front()->name + ".";
  grid_available_ = io.input(g + roles::grid::available);
  grid_f_ = io.input(g + roles::grid::f);
  avail_.assign(inverters_.size(), 0.0);
  out_forecast_ = io.publish("core.forecast", "W");
  out_target_ = io.publish("core.soc_target", "1");
  out_import_target_ = io.publish("core.import_target", "W");
}

double ReferenceEnergyManager::temperature_factor(const Inverter& inv, const CoreIo& io) const {
  double hottest = -1e9;
  for (const Pack& p : inv.packs) hottest = std::max(hottest, io.get(p.t_max));
  return std::clamp((p_.derate_end_c - hottest) / (p_.derate_end_c - p_.derate_start_c), 0.0, 1.0);
}

void ReferenceEnergyManager::step(Time now, CoreIo& io) {
  const double t = to_seconds(now);
  const double tod = std::fmod(tod0_ + t, 86400.0);
  double load = 0;
  for (SignalId l : loads_) load += io.get(l);
  forecast_.observe(tod, load, cycle_s_);

  // Fleet state.
  double soc_sum = 0, soc_n = 0, p_ac = 0;
  for (const Inverter& inv : inverters_) {
    p_ac += io.get(inv.p_ac);
    for (const Pack& p : inv.packs) soc_sum += io.get(p.soc), ++soc_n;
  }
  const double soc = soc_n > 0 ? soc_sum / soc_n : 0;

  // SOC target: enough for the forecast energy above the limit over the next day, on top of the
  // backup reserve; before the forecast has learned a day, fill up.
  double soc_target = p_.soc_max;
  if (forecast_.learned()) {
    // 1.5x and 10 % of headroom: the forecast is a 15-minute average of a noisy load.
    const double need_wh = 1.5 * forecast_.energy_above(p_.import_limit_w - p_.import_margin_w, tod, 86400.0);
    soc_target = std::min(p_.soc_max, p_.soc_reserve + need_wh / std::max(1.0, p_.energy_capacity_wh * soc_n) + 0.10);
  }

  const bool on_grid = io.get(grid_available_) > 0.5;
  const double df = io.get(grid_f_) - f_nominal_;
  const bool under_f = df < -p_.f_deadband_hz, over_f = df > p_.f_deadband_hz;

  if (!started_ || (on_grid && !was_on_grid_)) {
    // Start, and return from island: begin from what the site draws from the grid now, so that
    // the batteries' output does not jump to a setpoint computed before the outage.
    import_target_w_ = std::min(p_.import_limit_w - p_.import_margin_w, load - p_ac);
    started_ = true;
  }
  was_on_grid_ = on_grid;

  // The import the site wants: the load, plus charging power while below the SOC target and
  // below the limit; never above the limit (less a margin for the one-cycle lag behind load steps).
  const double limit = p_.import_limit_w - p_.import_margin_w;
  double charge_w = 0;
  if (soc < soc_target) charge_w = std::max(0.0, limit - p_.charge_margin_w - load);
  double desired = std::min(limit, load + charge_w);
  // Discharging for peak shaving stops at the backup reserve.
  if (soc <= p_.soc_reserve) desired = std::max(desired, load);
  if (under_f) {
    // Frequency support: stop charging at once (the inverters' droop adds output on top).
    desired = std::min(desired, load);
    import_target_w_ = std::min(import_target_w_, desired);
  } else if (over_f) {
    // Stop discharging beyond what the limit needs, at once.
    desired = std::max(desired, std::min(load, limit));
    import_target_w_ = std::max(import_target_w_, desired);
  } else {
    const double step = p_.import_ramp_w_per_s * cycle_s_;
    import_target_w_ += std::clamp(desired - import_target_w_, -step, step);
  }
  // The limit is hard and the reserve is kept, whatever the ramp.
  import_target_w_ = std::min(import_target_w_, limit);
  if (soc <= p_.soc_reserve) import_target_w_ = std::max(import_target_w_, std::min(load, limit));
  double battery_w = load - import_target_w_;  // + discharge
  // The backup reserve comes before the import limit: below it, no discharge while the grid is there.
  if (soc <= p_.soc_reserve && battery_w > 0) battery_w = 0;

  // Share among inverters by what each can do now, derated by its hottest pack.
  double avail_sum = 0;
  std::vector<double>& avail = avail_;
  for (std::size_t k = 0; k < inverters_.size(); ++k) {
    const Inverter& inv = inverters_[k];
    avail[k] = (battery_w >= 0 ? io.get(inv.p_avail_dis) : io.get(inv.p_avail_ch)) * temperature_factor(inv, io);
    avail_sum += avail[k];
  }
  // Strip placement: one pack per inverter at a time, in the forecast's low-demand window, or
  // once it has waited too long.
  for (Inverter& inv : inverters_) {
    bool busy = false;
    for (const Pack& p : inv.packs) busy = busy || io.get(p.stripping) > 0.5;
    for (Pack& p : inv.packs) {
      const bool due = io.get(p.strip_due) > 0.5;
      if (!due) p.due_since_s = -1;
      else if (p.due_since_s < 0) p.due_since_s = t;
      bool request = false;
      if (due && !busy && on_grid) {
        const bool window = forecast_.in_low_demand_window(tod, p_.strip_window_s, 86400.0);
        request = window || t - p.due_since_s >= p_.strip_max_defer_s;
        busy = busy || request;
      }
      io.set(p.strip_request, request ? 1.0 : 0.0);
      io.set(p.contactor_cmd, 1.0);
    }
  }
  for (std::size_t k = 0; k < inverters_.size(); ++k) {
    const Inverter& inv = inverters_[k];
    double share = avail_sum > 0 ? battery_w * avail[k] / avail_sum : 0.0;
    share = std::clamp(share, -avail[k], avail[k]);
    // A pack in its maintenance discharge must reach empty before its strip: give its energy to
    // the site's load (rather than to the BMS's shunt), without exporting.
    bool draining = false;
    for (const Pack& p : inv.packs) draining = draining || io.get(p.state) == roles::pack::state_maintenance_discharge;
    if (draining && on_grid)
      share = std::max(share, std::min(io.get(inv.p_avail_dis), load / static_cast<double>(inverters_.size())));
    // In island the inverters follow the load on their own; the setpoint tracks what they give, so
    // that when the grid returns they resume from there rather than from a stale setpoint.
    io.set(inv.p_set, on_grid ? share : io.get(inv.p_ac));
    io.set(inv.q_set, 0.0);
    io.set(inv.grid_forming, p_.backup ? 1.0 : 0.0);
  }
  io.set(out_forecast_, forecast_.at(tod));
  io.set(out_target_, soc_target);
  io.set(out_import_target_, import_target_w_);
}

}  // namespace zhil
