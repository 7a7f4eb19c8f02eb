#pragma once
// The simulated site: grid, loads, inverters and their packs, coupled by the physics of one AC bus.
// Each step: the grid state, the loads' demand (and ITIC transfers), the inverters (following the
// grid, or forming an island and sharing the load), the packs behind them, and the power balance
// grid import = load - inverter output. In island, load that the inverters cannot carry is
// unserved.
#include <memory>
#include <string>
#include <vector>

#include "devices/sim/grid_model.hpp"
#include "devices/sim/inverter_model.hpp"
#include "devices/sim/load_model.hpp"
#include "devices/sim/pack_model.hpp"
#include "harness/plant.hpp"

namespace zhil::sim {

class SiteSimulator final : public Plant {
 public:
  long total_modules() const {
    long n = 0;
    for (const auto& p : packs_) n += p->params().modules;
    return n;
  }
  explicit SiteSimulator(double f_nominal_hz) : grid_(f_nominal_hz) {}

  PackModel& add_pack(const std::string& name, const PackParams& p, std::uint64_t seed);
  PackModel* pack(const std::string& name) const;  // null if no pack of that name was added
  InverterModel& add_inverter(const InverterParams& p, std::vector<PackModel*> packs);
  InverterModel* inverter(std::size_t k) const { return k < inverters_.size() ? inverters_[k].get() : nullptr; }
  LoadModel& add_load(const LoadParams& p);
  GridModel& grid() { return grid_; }

  Status advance_to(Time now) override;
  bool checkpointable() const override { return true; }
  void save_state(StateWriter& a) const override;
  void load_state(StateReader& a) override;
  void step(double dt_s);
  Status check_finite() const;
  bool islanded() const { return islanded_; }

 private:
  template <class Archive>
  void state(Archive& a);
  GridModel grid_;
  std::vector<std::unique_ptr<PackModel>> packs_;
  std::vector<std::string> pack_names_;
  std::vector<std::unique_ptr<InverterModel>> inverters_;
  std::vector<std::unique_ptr<LoadModel>> loads_;
  Time last_{0};
  bool islanded_ = false;
  bool started_ = false;
  double bus_v_pu_ = 1.0;
};

}  // namespace zhil::sim
