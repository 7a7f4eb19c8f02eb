#include "harness/control/acceptance_sequencer.hpp"

#include "harness/checkpoint/state_archive.hpp"
#include "harness/config/station_config.hpp"
#include "harness/device_roles.hpp"

namespace zhil {

template <class Archive>
void AcceptanceSequencer::state(Archive& a) {
  state_section(a, "core acceptance");
  std::uint64_t packs = 0;
  for (const Inverter& inv : inverters_) packs += inv.packs.size();
  state_count(a, packs, "packs in its acceptance sequence");
  for (Inverter& inv : inverters_)
    for (Pack& p : inv.packs) a(p.strip_started);
}

void AcceptanceSequencer::save_state(StateWriter& a) const { const_cast<AcceptanceSequencer*>(this)->state(a); }
void AcceptanceSequencer::load_state(StateReader& a) { state(a); }

void AcceptanceSequencer::configure(const CoreContext& c, CoreIo& io) {
  constexpr double kDay = 30 * 86400.0;
  power_w_ = c.params.require_quantity_in("power", "W", 1, 1e8);
  precondition_until_ = c.params.quantity_in("precondition_until", "s", 0, 0, kDay);
  charge_from_ = c.params.require_quantity_in("charge_from", "s", 0, kDay);
  charge_until_ = c.params.require_quantity_in("charge_until", "s", 0, kDay);
  discharge_from_ = c.params.require_quantity_in("discharge_from", "s", 0, kDay);
  discharge_until_ = c.params.require_quantity_in("discharge_until", "s", 0, kDay);
  strip_at_ = c.params.quantity_in("strip_at", "s", -1, -1, kDay);
  // The phases in their order, none overlapping: a typo that charges and discharges at once is refused.
  if (!(precondition_until_ <= charge_from_ && charge_from_ < charge_until_ && charge_until_ <= discharge_from_ &&
        discharge_from_ < discharge_until_))
    c.params.get("charge_from").fail("acceptance phases must follow each other: precondition_until <= charge_from < "
                                     "charge_until <= discharge_from < discharge_until");
  namespace pk = roles::pack;
  namespace iv = roles::inverter;
  for (const DeviceConfig* d : c.station.with_role(iv::kRole)) {
    Inverter inv{io.command(d->name + "." + iv::p_set), {}};
    for (const std::string& p : d->packs)
      inv.packs.push_back({io.command(p + "." + pk::contactor_cmd), io.command(p + "." + pk::strip_request),
                           io.input(p + "." + pk::stripping)});
    inverters_.push_back(std::move(inv));
  }
}

void AcceptanceSequencer::step(Time now, CoreIo& io) {
  const double t = to_seconds(now);
  // Inverter AC power is + exporting, that is discharging its packs.
  double per_pack = 0;
  if (t < precondition_until_) per_pack = power_w_;
  else if (t >= charge_from_ && t < charge_until_) per_pack = -power_w_;
  else if (t >= discharge_from_ && t < discharge_until_) per_pack = power_w_;
  for (Inverter& inv : inverters_) {
    io.set(inv.p_set, per_pack * static_cast<double>(inv.packs.size()));
    for (Pack& p : inv.packs) {
      io.set(p.contactor_cmd, 1);
      // Asked until the pack starts its strip, then no more: a request still standing when the
      // strip ends would start another.
      if (io.get(p.stripping) >= 0.5) p.strip_started = true;
      io.set(p.strip_request, strip_at_ >= 0 && t >= strip_at_ && !p.strip_started ? 1 : 0);
    }
  }
}

}  // namespace zhil
