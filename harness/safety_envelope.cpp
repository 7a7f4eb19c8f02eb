#include "harness/safety_envelope.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "harness/config/station_config.hpp"
#include "harness/device_roles.hpp"

namespace zhil {
namespace {

SignalId need(const SignalTable& t, const std::string& name) {
  SignalId id = t.find(name);
  if (id == kNoSignal) throw std::runtime_error("safety envelope: station has no signal '" + name + "'");
  return id;
}

// The applied twin of a command the station's devices take.
SignalId applied(const SignalTable& t, const std::string& name) {
  const SignalId id = t.applied_of(need(t, name));
  if (id == kNoSignal) throw std::runtime_error("safety envelope: '" + name + "' is not a command");
  return id;
}

// A pack command some packs do not take (a pack on the low-voltage CAN frames has no contactor or
// strip command zhil could send: its inverter's power is what the envelope bounds): kNoSignal.
SignalId applied_if_any(const SignalTable& t, const std::string& name) {
  return t.find(name) == kNoSignal ? kNoSignal : applied(t, name);
}

bool good(const SignalTable& s, SignalId id) { return s.quality(id) == Quality::good && std::isfinite(s.value(id)); }

}  // namespace

SafetyEnvelope::SafetyEnvelope(const StationConfig& st, const SignalTable& t, HealthOf health_of) {
  namespace pk = roles::pack;
  namespace iv = roles::inverter;
  for (SignalId id = 0; id < t.size(); ++id) {
    const SignalId a = t.applied_of(id);
    if (a == kNoSignal) continue;
    commands_.push_back({id, a, health_of ? health_of(t.info(id).owner) : nullptr, t.info(id).range});
  }
  for (const DeviceConfig* d : st.with_role(iv::kRole)) {
    const std::string n = d->name + ".";
    const InverterLimits& l = d->inverter_limits;
    Inverter inv{applied(t, n + iv::p_set), applied(t, n + iv::q_set), applied(t, n + iv::grid_forming_enable),
                 need(t, n + iv::p_limit_discharge), need(t, n + iv::p_limit_charge), need(t, n + iv::p_ac), l, {}};
    for (const std::string& pn : d->packs) {
      const PackLimits& pl = st.find(pn)->pack_limits;
      const std::string m = pn + ".";
      inv.packs.push_back({need(t, m + pk::soc), need(t, m + pk::t_max), need(t, m + pk::v),
                           need(t, m + pk::i_charge_limit), need(t, m + pk::i_discharge_limit),
                           applied_if_any(t, m + pk::contactor_cmd), applied_if_any(t, m + pk::strip_request),
                           need(t, m + pk::i_charge_allowed), need(t, m + pk::i_discharge_allowed), pl});
    }
    inverters_.push_back(std::move(inv));
  }
  // Every command must be bounded: by a rule above, or by the range its device declared.
  std::vector<SignalId> ruled;
  for (const Inverter& inv : inverters_) {
    ruled.insert(ruled.end(), {inv.p_set, inv.q_set, inv.grid_forming});
    for (const Pack& p : inv.packs) ruled.insert(ruled.end(), {p.contactor_cmd, p.strip_request});
  }
  for (const Command& c : commands_)
    if (!c.range.bounded() && std::find(ruled.begin(), ruled.end(), c.applied) == ruled.end())
      throw std::runtime_error("safety envelope: command '" + t.info(c.requested).name + "' of device " +
                               t.info(c.requested).owner +
                               " has no range and no rule of the envelope bounds it; a driver must declare the range "
                               "of every command it takes");
}

void SafetyEnvelope::clamp(SignalTable& s, SignalId id, double lo, double hi) {
  const double v = s.value(id);
  double c = std::isfinite(v) ? std::clamp(v, lo, hi) : 0.0;
  if (c == 0.0) c = 0.0;  // no -0
  if (c != v || std::signbit(c) != std::signbit(v)) s.set(id, c, s.stamp(id), s.quality(id));
}

void SafetyEnvelope::set(SignalTable& s, SignalId id, double value) {
  if (s.value(id) != value) s.set(id, value, s.stamp(id), Quality::good);
  else s.set_quality(id, Quality::good);
}

void SafetyEnvelope::to_bool(SignalTable& s, SignalId id, bool force_off) {
  const double v = s.value(id);
  const double b = (!force_off && std::isfinite(v) && v > 0.5) ? 1.0 : 0.0;
  if (b != v) s.set(id, b, s.stamp(id), s.quality(id));
}

// The most DC power the bus may give (dir = discharge) or take, such that no pack passes its
// station current limit. The inverter shares DC power among its packs in proportion to what each
// BMS reports it can take (v * reported limit), as the simulated bus and multi-pack DC buses with
// per-pack converters do; so pack k carries P * L_k / sum(v_j L_j), and P is bounded by
// i_max_k * sum(v_j L_j) / L_k for every k. One pack outside its window (too empty, too full, too
// hot, or unknown) stops the whole bus in that direction: its share would not be zero.
double SafetyEnvelope::bus_limit_w(const SignalTable& s, const Inverter& inv, bool discharge) const {
  double weight = 0;
  for (const Pack& p : inv.packs) {
    const SignalId lim = discharge ? p.i_dis_limit : p.i_ch_limit;
    if (!good(s, p.soc) || !good(s, p.t_max) || !good(s, p.v) || !good(s, lim)) return 0;
    const double soc = s.value(p.soc), t = s.value(p.t_max);
    if (!(t < p.limits.t_max_c)) return 0;
    if (discharge && !(soc > p.limits.soc_min)) return 0;
    if (!discharge && !(soc < p.limits.soc_max)) return 0;
    weight += std::max(0.0, s.value(p.v)) * std::max(0.0, s.value(lim));
  }
  double bound = weight;  // the BMS limits themselves
  for (const Pack& p : inv.packs) {
    const double l = std::max(0.0, s.value(discharge ? p.i_dis_limit : p.i_ch_limit));
    const double i_max = discharge ? p.limits.i_discharge_max_a : p.limits.i_charge_max_a;
    if (l > 0) bound = std::min(bound, i_max * weight / l);
  }
  return std::max(0.0, bound);
}

void SafetyEnvelope::apply(SignalTable& s, Time now) {
  // Every command: the request if it is finite and fresh for its device, else the safe value 0.
  // Every command: the request if it is finite and fresh for its device, else the safe value 0;
  // inside the range its device declared.
  for (const Command& c : commands_) {
    const double r = s.value(c.requested);
    const bool fresh = !c.health || s.stamp(c.requested) >= c.health->commands_valid_since;
    s.set(c.applied, std::clamp(std::isfinite(r) && fresh ? r : 0.0, c.range.lo, c.range.hi), now);
  }
  for (const Inverter& inv : inverters_) {
    for (const Pack& p : inv.packs) {
      const bool known = good(s, p.soc) && good(s, p.t_max) && good(s, p.v);
      // A lost pack (fault quality) gets its contactor opened, in the same cycle.
      if (p.contactor_cmd != kNoSignal) to_bool(s, p.contactor_cmd, s.quality(p.soc) == Quality::fault);
      if (p.strip_request != kNoSignal) to_bool(s, p.strip_request, !known);
      // Per pack, whatever the bus does: the station's current limits inside its window, else 0.
      const double soc = s.value(p.soc), t = s.value(p.t_max);
      const bool cool = known && t < p.limits.t_max_c;
      set(s, p.i_dis_allowed, cool && soc > p.limits.soc_min ? p.limits.i_discharge_max_a : 0.0);
      set(s, p.i_ch_allowed, cool && soc < p.limits.soc_max ? p.limits.i_charge_max_a : 0.0);
    }
    // AC limits from DC ones: discharging, the inverter draws p/eta + its no-load loss from the bus.
    // A lost inverter (its own readings at fault quality) gets no power either way.
    const bool inverter_lost = s.quality(inv.p_ac) == Quality::fault;
    const double dis_dc = inverter_lost ? 0.0 : bus_limit_w(s, inv, true);
    const double ch_dc = inverter_lost ? 0.0 : bus_limit_w(s, inv, false);
    const double hi = std::max(0.0, std::min(inv.limits.p_discharge_max_w,
                                             inv.limits.conversion_efficiency * dis_dc - inv.limits.no_load_loss_w));
    const double lo = -std::min(inv.limits.p_charge_max_w, ch_dc);
    clamp(s, inv.p_set, lo, hi);
    const double p = s.value(inv.p_set);
    const double q_max = std::sqrt(std::max(0.0, inv.limits.s_max_va * inv.limits.s_max_va - p * p));
    clamp(s, inv.q_set, -q_max, q_max);
    // The inverter's own functions (island, frequency-watt droop) act on top of the setpoint: the
    // limits below bound its output whatever it does, and no island without discharge allowed.
    set(s, inv.p_limit_discharge, hi);
    set(s, inv.p_limit_charge, -lo);
    to_bool(s, inv.grid_forming, hi <= 0.0);
  }
  for (const Command& c : commands_) {
    const double a = s.value(c.applied), r = s.value(c.requested);
    if (a != r && !(a == 0.0 && r == 0.0)) ++interventions_;
  }
}

}  // namespace zhil
