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

}  // namespace

SafetyEnvelope::SafetyEnvelope(const StationConfig& st, const SignalTable& t) {
  namespace pk = roles::pack;
  namespace iv = roles::inverter;
  for (const DeviceConfig* d : st.with_role(iv::kRole)) {
    const std::string n = d->name + ".";
    const InverterLimits& l = d->inverter_limits;
    Inverter inv{need(t, n + iv::p_set), need(t, n + iv::q_set), need(t, n + iv::grid_forming_enable),
                 l.p_discharge_max_w, l.p_charge_max_w, l.s_max_va, {}};
    for (const std::string& pn : d->packs) {
      const PackLimits& pl = st.find(pn)->pack_limits;
      const std::string m = pn + ".";
      inv.packs.push_back({need(t, m + pk::soc), need(t, m + pk::t_max), need(t, m + pk::v),
                           need(t, m + pk::contactor_cmd), need(t, m + pk::strip_request), pl.i_charge_max_a,
                           pl.i_discharge_max_a, pl.soc_min, pl.soc_max, pl.t_max_c});
    }
    inverters_.push_back(std::move(inv));
  }
}

void SafetyEnvelope::clamp(SignalTable& s, SignalId id, double lo, double hi) {
  const double v = s.value(id);
  double c = std::isfinite(v) ? std::clamp(v, lo, hi) : 0.0;
  if (!std::isfinite(v) && !(lo <= 0.0 && 0.0 <= hi)) c = lo > 0 ? lo : hi;
  if (c != v || std::signbit(c) != std::signbit(v)) {
    ++interventions_;
    s.set(id, c == 0.0 ? 0.0 : c, s.stamp(id), s.quality(id));
  }
}

void SafetyEnvelope::to_bool(SignalTable& s, SignalId id, bool force_off) {
  const double v = s.value(id);
  const double b = (!force_off && std::isfinite(v) && v > 0.5) ? 1.0 : 0.0;
  if (b != v) {
    ++interventions_;
    s.set(id, b, s.stamp(id), s.quality(id));
  }
}

void SafetyEnvelope::apply(SignalTable& s) {
  for (const Inverter& inv : inverters_) {
    // What the packs on this DC bus may take or give now. A pack whose state is unknown (stale or
    // faulted measurements) allows nothing: no power on a pack we cannot see.
    double dis_w = 0, ch_w = 0;
    bool any_unknown = false;
    for (const Pack& p : inv.packs) {
      const bool known = s.quality(p.soc) == Quality::good && s.quality(p.t_max) == Quality::good &&
                         s.quality(p.v) == Quality::good;
      const double soc = s.value(p.soc), t = s.value(p.t_max), v = std::max(0.0, s.value(p.v));
      any_unknown = any_unknown || !known;
      const bool hot = !(t < p.t_max_c);
      if (known && !hot && soc > p.soc_min) dis_w += v * p.i_discharge_max;
      if (known && !hot && soc < p.soc_max) ch_w += v * p.i_charge_max;
      to_bool(s, p.contactor_cmd, s.quality(p.soc) == Quality::fault);
      to_bool(s, p.strip_request, !known);
    }
    if (any_unknown) dis_w = ch_w = 0;
    const double hi = std::min(inv.p_dis_max, dis_w);
    const double lo = -std::min(inv.p_ch_max, ch_w);
    clamp(s, inv.p_set, lo, hi);
    const double p = s.value(inv.p_set);
    const double q_max = std::sqrt(std::max(0.0, inv.s_max * inv.s_max - p * p));
    clamp(s, inv.q_set, -q_max, q_max);
    to_bool(s, inv.grid_forming, false);
  }
}

}  // namespace zhil
