#include "devices/sim/site_simulator.hpp"

#include <algorithm>
#include <cmath>

#include "harness/checkpoint/state_archive.hpp"

namespace zhil::sim {

PackModel& SiteSimulator::add_pack(const std::string& name, const PackParams& p, std::uint64_t seed) {
  packs_.push_back(std::make_unique<PackModel>(p, seed));
  pack_names_.push_back(name);
  return *packs_.back();
}

PackModel* SiteSimulator::pack(const std::string& name) const {
  for (std::size_t k = 0; k < packs_.size(); ++k)
    if (pack_names_[k] == name) return packs_[k].get();
  return nullptr;
}

InverterModel& SiteSimulator::add_inverter(const InverterParams& p, std::vector<PackModel*> packs) {
  inverters_.push_back(std::make_unique<InverterModel>(p, std::move(packs)));
  return *inverters_.back();
}

LoadModel& SiteSimulator::add_load(const LoadParams& p) {
  loads_.push_back(std::make_unique<LoadModel>(p));
  return *loads_.back();
}

template <class Archive>
void SiteSimulator::state(Archive& a) {
  state_section(a, "site");
  // The same site is built again from the same station before a checkpoint is loaded: its parts
  // must be the same in number (a checkpoint from another station is refused, not half-loaded).
  std::uint64_t counts[3] = {packs_.size(), inverters_.size(), loads_.size()};
  a(counts[0], counts[1], counts[2]);
  if (counts[0] != packs_.size() || counts[1] != inverters_.size() || counts[2] != loads_.size())
    throw CheckpointError("checkpoint: the simulated site has " + std::to_string(packs_.size()) + " packs, " +
                          std::to_string(inverters_.size()) + " inverters and " + std::to_string(loads_.size()) +
                          " loads; the checkpoint has " + std::to_string(counts[0]) + ", " + std::to_string(counts[1]) +
                          " and " + std::to_string(counts[2]));
  grid_.state(a);
  for (std::size_t k = 0; k < packs_.size(); ++k) {
    state_section(a, pack_names_[k]);
    packs_[k]->state(a);
  }
  for (auto& inv : inverters_) inv->state(a);
  for (auto& l : loads_) l->state(a);
  a(last_, islanded_, started_, bus_v_pu_);
}

void SiteSimulator::save_state(StateWriter& a) const { const_cast<SiteSimulator*>(this)->state(a); }
void SiteSimulator::load_state(StateReader& a) { state(a); }

Status SiteSimulator::advance_to(Time now) {
  if (!started_) {
    // Settle the initial state (what the loads draw, the grid import) before the first reading.
    started_ = true;
    step(0.0);
  }
  if (now <= last_) return Status::ok();
  // Device-side watchdogs run on the plant's time, whether or not the harness still calls: a
  // model that has not heard from the host within its timeout goes to its own safe state.
  for (auto& p : packs_)
    if (p->watchdog().expires_at(now)) p->enter_safe_state();
  for (auto& inv : inverters_)
    if (inv->watchdog().expires_at(now)) inv->enter_safe_state();
  step(to_seconds(now - last_));
  last_ = now;
  return check_finite();
}

Status SiteSimulator::check_finite() const {
  // A non-finite state (from extreme stimuli, say) would spread through the physics and make
  // every comparison false: end the run as an error instead, saying where it started.
  if (!std::isfinite(grid_.p_import_w)) return Status::error("grid import is not a finite number");
  for (std::size_t k = 0; k < loads_.size(); ++k)
    if (!std::isfinite(loads_[k]->p_drawn_w) || !std::isfinite(loads_[k]->demand_w()))
      return Status::error("load " + std::to_string(k + 1) + " power is not a finite number");
  for (std::size_t k = 0; k < inverters_.size(); ++k)
    if (!std::isfinite(inverters_[k]->p_ac()) || !std::isfinite(inverters_[k]->p_droop()))
      return Status::error("inverter " + std::to_string(k + 1) + " power is not a finite number");
  for (std::size_t k = 0; k < packs_.size(); ++k)
    if (!std::isfinite(packs_[k]->voltage()) || !std::isfinite(packs_[k]->t_max()) || !std::isfinite(packs_[k]->soc()))
      return Status::error("pack " + std::to_string(k + 1) + " state is not a finite number");
  return Status::ok();
}

void SiteSimulator::step(double dt) {
  const bool available = grid_.available();
  double island_capacity = 0;
  for (auto& inv : inverters_) island_capacity += inv->island_capacity_w(available);
  islanded_ = !available && island_capacity > 0;
  // Loads see the bus voltage over this step as it is now: the grid's (a sag applies from its own
  // instant, not from the next step), or in island what the grid-formers can hold for the demand
  // the loads had, or none at all.
  double demand_before = 0;
  for (auto& l : loads_) demand_before += l->site_demand_w();
  const double v_bus = available ? grid_.v_pu()
                       : islanded_ ? (demand_before > 0 ? std::min(1.0, island_capacity / demand_before) : 1.0)
                                   : 0.0;
  double demand = 0;
  for (auto& l : loads_) {
    l->observe_voltage(dt, v_bus);
    demand += l->site_demand_w();
  }

  double inverter_out = 0;
  for (auto& inv : inverters_) {
    const double share = islanded_ ? demand * inv->island_capacity_w(available) / island_capacity : 0.0;
    inv->step(dt, available, grid_.v_pu(), grid_.f_hz(), share);
    inverter_out += inv->p_ac();
  }

  if (available) {
    grid_.p_import_w = demand - inverter_out;
    bus_v_pu_ = grid_.v_pu();
    for (auto& l : loads_) {
      l->p_drawn_w = l->site_demand_w();
      l->p_unserved_w = 0;
    }
  } else {
    grid_.p_import_w = 0;
    // The island holds its voltage while the inverters carry the whole load; otherwise it sags
    // in proportion (and voltage-sensitive loads leave for their backup).
    const double served = std::clamp(inverter_out, 0.0, demand);
    bus_v_pu_ = demand > 0 ? (islanded_ ? served / demand : 0.0) : (islanded_ ? 1.0 : 0.0);
    const double fraction = demand > 0 ? served / demand : 0.0;
    for (auto& l : loads_) {
      l->p_drawn_w = l->site_demand_w() * fraction;
      l->p_unserved_w = l->site_demand_w() - l->p_drawn_w;
    }
  }
}

}  // namespace zhil::sim
