#pragma once
// The reference energy-management core: peak shaving against a grid-import limit with a smoothed
// (ramp-limited) import target that leaves fast load swings to the batteries, charging ahead of
// expected peaks from a learned demand forecast, backup (grid-forming) on outage with an SOC reserve
// kept for it, temperature derating, frequency support (no charging in under-frequency, targets
// frozen while the inverters' droop acts), and strip-cycle placement in low-demand windows.
#include <string>
#include <vector>

#include "harness/control/demand_forecast.hpp"
#include "harness/control_core.hpp"

namespace zhil {

class ReferenceEnergyManager final : public ControlCore {
 public:
  void configure(const CoreContext& context, CoreIo& io) override;
  void step(Time now, CoreIo& io) override;
  bool checkpointable() const override { return true; }
  void save_state(StateWriter& a) const override;
  void load_state(StateReader& a) override;
  // It starts again from what the site draws now, ramping from there (what it learned stays).
  void resumed_from_safe_state() override { started_ = false; }

  const DemandForecast& forecast() const { return forecast_; }

 private:
  struct Pack {
    SignalId soc, t_max, strip_due, stripping, contactor_cmd, strip_request, energy, state;
    double due_since_s = -1;
  };
  struct Inverter {
    SignalId p_ac, p_avail_dis, p_avail_ch, mode, p_set, q_set, grid_forming;
    std::vector<Pack> packs;
  };
  struct Params {
    double import_limit_w = 1e6;
    double import_ramp_w_per_s = 50e3;
    double import_margin_w = 0;
    double charge_margin_w = 50e3;
    double soc_reserve = 0.3;
    double soc_max = 0.95;
    double derate_start_c = 40, derate_end_c = 50;
    double f_deadband_hz = 0.036;
    double strip_window_s = 3 * 3600;
    double strip_max_defer_s = 12 * 3600;
    bool backup = true;
    double energy_capacity_wh = 0;  // from the packs, at configure
  };

  double temperature_factor(const Inverter& inv, const CoreIo& io) const;
  template <class Archive>
  void state(Archive& a);

  Params p_;
  std::vector<Inverter> inverters_;
  std::vector<SignalId> loads_;
  SignalId grid_available_ = kNoSignal, grid_f_ = kNoSignal;
  SignalId out_forecast_ = kNoSignal, out_target_ = kNoSignal, out_import_target_ = kNoSignal;
  double f_nominal_ = 60;
  double tod0_ = 0;
  double cycle_s_ = 0.1;
  double import_target_w_ = 0;
  bool started_ = false;
  bool was_on_grid_ = true;
  DemandForecast forecast_;
  std::vector<double> avail_;  // per-cycle scratch, sized once
};

}  // namespace zhil
