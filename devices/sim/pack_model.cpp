#include "devices/sim/pack_model.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace zhil::sim {
namespace {

// Standard normal from raw generator bits (Box-Muller): reproducible across standard libraries,
// unlike std::normal_distribution.
double normal(std::mt19937_64& rng) {
  const double u1 = (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53;
  const double u2 = static_cast<double>(rng() >> 11) * 0x1.0p-53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace

PackModel::PackModel(const PackParams& p, std::uint64_t seed) : p_(p), ambient_c_(p.ambient_c) {
  if (p_.modules < 1 || p_.cells_per_module < 1) throw std::invalid_argument("pack needs modules and cells");
  if (p_.ocv_curve.size() < 2) throw std::invalid_argument("OCV curve needs at least two points");
  // Resample the OCV curve at 1 % SOC steps and integrate it, so the per-cycle path is a table
  // lookup.
  for (int k = 0; k <= 100; ++k) {
    const double s = k / 100.0;
    const auto& c = p_.ocv_curve;
    auto it = std::lower_bound(c.begin(), c.end(), s, [](const auto& pt, double x) { return pt.first < x; });
    double v;
    if (it == c.begin()) v = c.front().second;
    else if (it == c.end()) v = c.back().second;
    else {
      auto prev = it - 1;
      v = prev->second + (it->second - prev->second) * (s - prev->first) / (it->first - prev->first);
    }
    ocv_table_[k] = v;
    ocv_integral_[k] = k == 0 ? 0.0 : ocv_integral_[k - 1] + 0.005 * (ocv_table_[k - 1] + v);
  }
  std::mt19937_64 rng(seed);
  for (int m = 0; m < p_.modules; ++m) {
    Module mod{};
    mod.capacity_ah = p_.capacity_ah * std::max(0.5, 1.0 + p_.capacity_spread * normal(rng));
    mod.r_ohm = p_.r_cell_ohm * p_.cells_per_module * std::max(0.5, 1.0 + p_.resistance_spread * normal(rng));
    mod.zn = p_.initial_zn_loading;
    mod.t_c = p_.initial_temperature_c;
    mod.sd_t_c = mod.t_c;
    mod.sd_factor = std::exp2((mod.t_c - 25.0) / p_.self_discharge_doubling_c);
    modules_.push_back(mod);
    modules_.back().charge_ah = p_.initial_soc * usable_capacity_ah(modules_.size() - 1);
  }
  since_strip_s_ = p_.initial_time_since_strip_s;
  for (auto& mod : modules_) mod.v = p_.cells_per_module * ocv_cell(mod.charge_ah / mod.capacity_ah);
  summarise();
  update_bms(0);
  v_ = 0;
  for (const auto& mod : modules_) v_ += mod.v;
}


double PackModel::ocv_integral(double soc) const {
  const double x = std::clamp(soc, 0.0, 1.0) * 100.0;
  const auto k = std::min(static_cast<int>(x), 99);
  const double f = x - k;
  const double v_mid = ocv_table_[k] + 0.5 * f * (ocv_table_[k + 1] - ocv_table_[k]);
  return ocv_integral_[k] + f * 0.01 * v_mid;
}

double PackModel::usable_capacity_ah(std::size_t k) const {
  const Module& m = modules_[k];
  return m.capacity_ah * std::max(0.5, 1.0 - p_.capacity_fade_per_cycle * m.zn);
}


inline void PackModel::summarise_module(std::size_t k, Summary& r) {
  Module& m = modules_[k];
  const double s = std::clamp(m.charge_ah / usable_capacity_ah(k), 0.0, 1.0);
  m.soc = s;
  m.ocv = p_.cells_per_module * ocv_cell(s);
  r.ocv += m.ocv;
  r.r += m.r_ohm;
  r.charge_min_ah = std::min(r.charge_min_ah, m.charge_ah);
  r.soc += s;
  r.soc_min = std::min(r.soc_min, s);
  r.soc_max = std::max(r.soc_max, s);
  r.t_max = std::max(r.t_max, m.t_c);
  r.t_min = std::min(r.t_min, m.t_c);
  r.v_max = std::max(r.v_max, m.v);
  r.v_min = std::min(r.v_min, m.v);
  r.zn_max = std::max(r.zn_max, m.zn);
}

void PackModel::summarise() {
  // One pass over the modules after they change; the BMS, the device, the site and the next step
  // read the result. step() does the same pass inside its own loop.
  Summary r = empty_summary();
  for (std::size_t k = 0; k < modules_.size(); ++k) summarise_module(k, r);
  r.soc /= static_cast<double>(modules_.size());
  summary_ = r;
}

double PackModel::chemical_energy_wh() const {
  double e = 0;
  for (std::size_t k = 0; k < modules_.size(); ++k)
    e += p_.cells_per_module * usable_capacity_ah(k) * ocv_integral(module_soc(k));
  return e;
}

double PackModel::energy_available_wh() const {
  // In series, the emptiest module ends the discharge.
  return contactor_ ? std::max(0.0, summary_.charge_min_ah) * v_ : 0.0;
}

PackState PackModel::state() const {
  if (state_ == PackState::run && !contactor_) return PackState::safe_shutdown;
  return state_;
}

double PackModel::current_for_power(double power_w) const {
  const double voc = summary_.ocv, r = summary_.r;
  if (r <= 0) return voc > 0 ? power_w / voc : 0;
  const double disc = voc * voc + 4 * r * power_w;
  if (disc <= 0) return -voc / (2 * r);  // the most the pack can give
  return (-voc + std::sqrt(disc)) / (2 * r);
}

void PackModel::set_contactor_command(bool close) {
  if (close == contactor_cmd_) return;  // written every cycle, changes rarely
  if (!close && contactor_cmd_) {
    // Opening clears latched trips; a condition still present trips again at the next step.
    latched_trip_ = false;
    latched_alarms_ = 0;
  }
  contactor_cmd_ = close;
  contactor_ = contactor_cmd_ && !latched_trip_;
  update_bms(0.0);  // the limits follow the contactor at once
}

void PackModel::request_strip(bool request) { strip_request_ = request; }

void PackModel::enter_safe_state() {
  contactor_cmd_ = false;
  contactor_ = false;
  i_ = 0;
}

void PackModel::step(double dt, double current) {
  if (dt <= 0) return;
  if (!contactor_ || state_ == PackState::anode_strip) current = 0;
  if (state_ == PackState::maintenance_discharge && current > 0) current = 0;
  i_ = current;
  const double h = dt / 3600.0;
  double v_total = 0;
  // Summed here and added to the books once: accumulating in energy_ itself chains every module's
  // step through memory.
  PackEnergy e{};
  Summary r = empty_summary();
  const double heat_per_j = dt / p_.thermal_capacity_j_per_k;
  const double cooling_w_per_k = 1.0 / (p_.thermal_resistance_k_per_w * cooling_factor_);
  const double sd_per_ah = p_.self_discharge_per_day * dt / 86400.0;
  for (std::size_t k = 0; k < modules_.size(); ++k) {
    Module& m = modules_[k];
    const double cap = usable_capacity_ah(k);
    const double ocv = m.ocv;  // at the SOC summarise() last saw, which is the module's now
    m.v = ocv + current * m.r_ohm;
    const double d_ah = current * h;
    double stored = d_ah;
    if (current > 0) {
      stored = d_ah * p_.coulombic_efficiency;
      e.coulombic_loss_wh += (d_ah - stored) * ocv;
      m.zn += stored / m.capacity_ah;
    }
    double drain_ah = 0;
    double short_heat_w = 0;
    if (p_.aux_power_w > 0 && std::fabs(current) > 1.0) drain_ah += p_.aux_power_w / ocv * h;
    if (internal_short_ && k + 1 == modules_.size()) {
      drain_ah += p_.internal_short_a * h;
      short_heat_w = p_.internal_short_a * ocv;
    }
    if (state_ == PackState::maintenance_discharge)
      drain_ah += p_.maintenance_discharge_w / static_cast<double>(modules_.size()) / std::max(ocv, 1.0) * h;
    if (state_ == PackState::anode_strip && strip_timer_s_ > 0)
      drain_ah += m.charge_ah * std::min(1.0, dt / strip_timer_s_);
    // The temperature factor moves slowly: recomputed when the module has warmed or cooled by a
    // millikelvin (an error below 1e-4 of a rate of a few % a day), not at every step.
    if (std::fabs(m.t_c - m.sd_t_c) > 1e-3) {
      m.sd_t_c = m.t_c;
      m.sd_factor = std::exp2((m.t_c - 25.0) / p_.self_discharge_doubling_c);
    }
    const double sd_ah = m.charge_ah > 0 ? sd_per_ah * m.capacity_ah * m.sd_factor : 0.0;
    double q = m.charge_ah + stored - drain_ah - sd_ah;
    e.drained_wh += std::min(drain_ah, std::max(0.0, m.charge_ah + stored)) * ocv;
    e.self_discharge_wh += std::min(sd_ah, std::max(0.0, m.charge_ah + stored - drain_ah)) * ocv;
    if (q > cap) {
      e.overcharge_wh += (q - cap) * ocv;
      q = cap;
    }
    if (q < 0) e.overdischarge_wh += -q * ocv;  // only when a current is forced past empty
    m.charge_ah = std::max(0.0, q);
    const double heat_w = current * current * m.r_ohm + short_heat_w;
    e.resistive_wh += current * current * m.r_ohm * h;
    const double loss_w = (m.t_c - ambient_c_) * cooling_w_per_k;
    m.t_c += heat_per_j * (heat_w - loss_w);
    v_total += m.v;
    summarise_module(k, r);
  }
  r.soc /= static_cast<double>(modules_.size());
  summary_ = r;
  v_ = v_total;
  energy_.coulombic_loss_wh += e.coulombic_loss_wh;
  energy_.drained_wh += e.drained_wh;
  energy_.self_discharge_wh += e.self_discharge_wh;
  energy_.overcharge_wh += e.overcharge_wh;
  energy_.overdischarge_wh += e.overdischarge_wh;
  energy_.resistive_wh += e.resistive_wh;
  if (current > 0) energy_.terminal_in_wh += v_ * current * h;
  else energy_.terminal_out_wh += -v_ * current * h;
  since_strip_s_ += dt;
  update_bms(dt, /*summarised=*/true);
}

void PackModel::update_bms(double dt, bool summarised) {
  if (!summarised) summarise();
  const int cells = p_.cells_per_module;
  const double vmax = v_module_max() / cells, vmin = v_module_min() / cells;
  auto timer = [&](double& t, bool cond, double limit, std::uint32_t alarm) {
    t = cond ? t + dt : 0;
    if (cond && t >= limit && dt > 0) {
      latched_trip_ = true;
      latched_alarms_ |= alarm;
    }
  };
  timer(ov_timer_, vmax > p_.v_cell_trip_high, p_.v_trip_time_s, kAlarmOverVoltage);
  timer(uv_timer_, i_ < 0 && vmin < p_.v_cell_trip_low, p_.v_trip_time_s, kAlarmUnderVoltage);
  timer(oc_timer_, std::fabs(i_) > p_.i_trip_a, p_.i_trip_time_s, kAlarmOverCurrent);
  const double tmax = t_max();
  if (tmax >= p_.t_shutdown_c) {
    latched_trip_ = true;
    latched_alarms_ |= kAlarmOverTemperature;
  }
  if (internal_short_) latched_alarms_ |= kAlarmInternalShort;
  alarms_ = latched_alarms_;
  if (tmax > p_.t_derate_c) alarms_ |= kAlarmTemperatureDerating;

  // Strip cycle.
  switch (state_) {
    case PackState::run:
    case PackState::safe_shutdown:
      if (strip_request_ && contactor_) {
        state_ = soc_module_max() > p_.strip_end_soc ? PackState::maintenance_discharge : PackState::anode_strip;
        strip_timer_s_ = p_.strip_duration_s;
      }
      break;
    case PackState::maintenance_discharge:
      if (soc_module_max() <= p_.strip_end_soc) {
        state_ = PackState::anode_strip;
        strip_timer_s_ = p_.strip_duration_s;
      }
      break;
    case PackState::anode_strip:
      strip_timer_s_ -= dt;
      if (strip_timer_s_ <= 0) {
        for (auto& m : modules_) {
          m.zn = 0;
          m.charge_ah = 0;
        }
        since_strip_s_ = 0;
        due_for_s_ = 0;
        state_ = PackState::run;
        ++strips_;
        summarise();
      }
      break;
  }

  strip_due_ = zn_max() >= p_.strip_interval_cycles || since_strip_s_ >= p_.strip_interval_s;
  due_for_s_ = strip_due_ ? due_for_s_ + dt : 0;
  if (strip_due_) alarms_ |= kAlarmStripDue;
  if (due_for_s_ > p_.strip_overdue_s) alarms_ |= kAlarmStripOverdue;

  contactor_ = contactor_cmd_ && !latched_trip_;
  const double f_t = std::clamp((p_.t_zero_c - tmax) / (p_.t_zero_c - p_.t_derate_c), 0.0, 1.0);
  const double f_hi = std::clamp((1.0 - soc_module_max()) / p_.soc_taper, 0.0, 1.0);
  // The low-SOC taper protects the modules in use; a maintenance discharge is meant to reach empty.
  const double f_lo = state_ == PackState::maintenance_discharge ? 1.0 : std::clamp(soc_module_min() / p_.soc_taper, 0.0, 1.0);
  limit_ch_ = std::min(p_.i_charge_max_a * f_t * f_hi, allowed_ch_);
  limit_dis_ = std::min(p_.i_discharge_max_a * f_t * f_lo, allowed_dis_);
  if (!contactor_ || state_ == PackState::anode_strip) limit_ch_ = limit_dis_ = 0;
  if (state_ == PackState::maintenance_discharge) limit_ch_ = 0;
}

}  // namespace zhil::sim
