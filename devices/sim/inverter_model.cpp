#include "devices/sim/inverter_model.hpp"

#include <algorithm>
#include <cmath>

namespace zhil::sim {

InverterModel::InverterModel(const InverterParams& p, std::vector<PackModel*> packs)
    : p_(p), packs_(std::move(packs)), trip_timers_(p.trips.size(), 0.0), share_(packs_.size(), 0.0) {}

double InverterModel::losses_w(double p_ac) const {
  if (p_ac == 0 && mode_ != InverterMode::grid_forming) return 0;  // idle in standby
  return p_.no_load_loss_w + (1.0 / p_.efficiency - 1.0) * std::fabs(p_ac);
}

double InverterModel::s_limit(double v_pu) const {
  // Apparent power is capped by the rating and by the AC current limit at the present voltage.
  const double by_current = std::sqrt(3.0) * p_.v_nominal_v * std::max(v_pu, 0.0) * p_.i_max_a;
  return std::min(p_.s_rated_va, by_current);
}

double InverterModel::available_discharge_w() const {
  if (mode_ == InverterMode::tripped) return 0;
  double dc = 0;
  for (const PackModel* pk : packs_) dc += pk->voltage() * pk->discharge_current_limit();
  const double ac = std::max(0.0, dc - p_.no_load_loss_w) * p_.efficiency;
  return std::min({ac, p_.p_rated_w, p_.s_rated_va});
}

double InverterModel::available_charge_w() const {
  if (mode_ == InverterMode::tripped) return 0;
  double dc = 0;
  for (const PackModel* pk : packs_) dc += pk->voltage() * pk->charge_current_limit();
  if (dc <= 0) return 0;  // nothing may go into the packs: not even the no-load loss is worth drawing
  // |p_dc| = |p_ac| - loss(p_ac) with loss = no_load + (1/eff - 1)|p_ac|, solved for |p_ac|.
  const double ac = (dc + p_.no_load_loss_w) / (2.0 - 1.0 / p_.efficiency);
  return std::min({ac, p_.p_rated_w, p_.s_rated_va});
}

double InverterModel::island_capacity_w(bool grid_available) const {
  if (grid_available || !gf_enable_ || !p_.grid_forming_capable || mode_ == InverterMode::tripped || safe_) return 0;
  return std::min(available_discharge_w(), limit_dis_);
}

void InverterModel::trip(const std::string& why) {
  mode_ = InverterMode::tripped;
  trip_reason_ = why;
  p_ac_ = q_ac_ = 0;
  normal_for_s_ = 0;
  return_ramp_limit_w_ = -1;
  std::fill(trip_timers_.begin(), trip_timers_.end(), 0.0);
}

void InverterModel::enter_safe_state() {
  safe_ = true;
  p_set_ = q_set_ = 0;
  gf_enable_ = false;
}

void InverterModel::settle_safe_state() {
  enter_safe_state();
  p_ac_ = q_ac_ = p_dc_ = droop_dp_ = droop_delivered_ = 0;
  return_ramp_limit_w_ = -1;
}

double InverterModel::dispatch_dc(double dt, double p_dc) {
  // Share the DC power among the packs by what each may take or give now (the BMS limits), as a
  // multi-pack DC bus with per-pack converters does.
  double total = 0;
  for (std::size_t k = 0; k < packs_.size(); ++k) {
    const PackModel* pk = packs_[k];
    share_[k] = pk->voltage() * (p_dc >= 0 ? pk->discharge_current_limit() : pk->charge_current_limit());
    total += share_[k];
  }
  double delivered = 0;  // + drawn from the packs
  for (std::size_t k = 0; k < packs_.size(); ++k) {
    PackModel* pk = packs_[k];
    const double pk_power = total > 0 ? -p_dc * share_[k] / total : 0.0;  // + charge for the pack
    // Each pack's converter holds its current inside the limits the BMS reports, even when the
    // voltage sags under load and the power asked would need more.
    const double i = std::clamp(pk->current_for_power(pk_power), -pk->discharge_current_limit(), pk->charge_current_limit());
    pk->step(dt, i);
    delivered -= pk->voltage() * pk->current();
  }
  return delivered;
}

void InverterModel::step(double dt, bool grid_available, double v_pu, double f_hz, double island_demand_w) {
  if (safe_) {
    p_set_ = q_set_ = 0;
    gf_enable_ = false;
    droop_dp_ = 0;
  }
  if (trip_fault_ && mode_ != InverterMode::tripped) trip("trip fault injected");
  const bool islanded = !grid_available && gf_enable_ && p_.grid_forming_capable && mode_ != InverterMode::tripped;

  // Must-trip table, while following the grid (in island we are the grid).
  if (mode_ != InverterMode::tripped && !islanded) {
    for (std::size_t k = 0; k < p_.trips.size(); ++k) {
      const TripSetting& t = p_.trips[k];
      const double x = t.voltage ? v_pu : f_hz;
      const bool out = t.over ? x > t.threshold : x < t.threshold;
      trip_timers_[k] = out ? trip_timers_[k] + dt : 0.0;
      if (out && trip_timers_[k] >= t.clear_s) {
        trip(t.name + (t.voltage ? " voltage " : " frequency ") + "trip");
        break;
      }
    }
  }

  if (mode_ == InverterMode::tripped) {
    // Re-enter service after the grid has been normal for the delay, then ramp in.
    const bool normal = grid_available && v_pu >= p_.return_v_min_pu && v_pu <= p_.return_v_max_pu &&
                        f_hz >= p_.return_f_min_hz && f_hz <= p_.return_f_max_hz && !trip_fault_;
    normal_for_s_ = normal ? normal_for_s_ + dt : 0.0;
    if (normal_for_s_ >= p_.enter_service_delay_s) {
      mode_ = InverterMode::grid_following;
      return_ramp_limit_w_ = 0;
    }
    p_ac_ = q_ac_ = p_dc_ = 0;
    droop_delivered_ = 0;
    dispatch_dc(dt, 0.0);
    return;
  }

  const double s_max = islanded ? p_.s_rated_va : s_limit(v_pu);
  const double p_hi = std::min({available_discharge_w(), s_max, limit_dis_});
  const double p_lo = -std::min({available_charge_w(), s_max, limit_ch_});
  if (islanded) {
    mode_ = InverterMode::grid_forming;
    p_ac_ = std::clamp(island_demand_w, p_lo, p_hi);
    q_ac_ = 0;
    droop_dp_ = droop_delivered_ = 0;
  } else {
    if (mode_ == InverterMode::grid_forming) mode_ = InverterMode::grid_following;  // resynchronised
    if (!grid_available) {
      // No grid and not forming one: cease to energise.
      p_ac_ = q_ac_ = 0;
      droop_delivered_ = 0;
    } else {
      // Frequency-watt droop, first-order with the open-loop response time (90 % in droop_response_s).
      const double f_dev = f_hz - p_.f_nominal_hz;
      double target_dp = 0;
      if (std::fabs(f_dev) > p_.droop_deadband_hz && !safe_) {
        const double excess = f_dev - std::copysign(p_.droop_deadband_hz, f_dev);
        target_dp = -excess / (p_.f_nominal_hz * p_.droop) * p_.p_rated_w;
      }
      const double tau = p_.droop_response_s / 2.302585;
      droop_dp_ += (target_dp - droop_dp_) * (1.0 - std::exp(-dt / tau));
      double target = std::clamp(p_set_ + droop_dp_, p_lo, p_hi);
      // What of the droop the output can carry: none of it at a limit in the droop's direction.
      droop_delivered_ = target - std::clamp(p_set_, p_lo, p_hi);
      if (return_ramp_limit_w_ >= 0) {
        // Enter-service ramp: the ceiling grows from 0 to rated over enter_service_ramp_s.
        return_ramp_limit_w_ += p_.p_rated_w * dt / p_.enter_service_ramp_s;
        if (return_ramp_limit_w_ >= p_.p_rated_w) return_ramp_limit_w_ = -1;
        else target = std::clamp(target, -return_ramp_limit_w_, return_ramp_limit_w_);
      }
      const double step = p_.ramp_w_per_s * dt;
      p_ac_ += std::clamp(target - p_ac_, -step, step);
      p_ac_ = std::clamp(p_ac_, p_lo, p_hi);
      const double q_max = std::sqrt(std::max(0.0, s_max * s_max - p_ac_ * p_ac_));
      q_ac_ = std::clamp(q_set_, -q_max, q_max);
    }
  }
  p_dc_ = p_ac_ + losses_w(p_ac_);
  if (p_ac_ == 0 && mode_ != InverterMode::grid_forming) p_dc_ = 0;
  const double got = dispatch_dc(dt, p_dc_);
  if (std::fabs(got - p_dc_) > 1e-6 * std::max(1.0, std::fabs(p_dc_))) {
    // The packs gave (or took) less than asked: the AC side gets what the DC side delivered.
    const double c = 1.0 / p_.efficiency - 1.0;
    p_ac_ = got >= 0 ? std::max(0.0, (got - p_.no_load_loss_w) / (1.0 + c))
                     : std::min(0.0, (got - p_.no_load_loss_w) / (1.0 - c));
    if (p_ac_ == 0.0) p_ac_ = 0.0;
    p_dc_ = got;
  }
}

}  // namespace zhil::sim
