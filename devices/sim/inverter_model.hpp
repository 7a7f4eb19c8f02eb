#pragma once
#include "devices/sim/host_watchdog.hpp"
// A bidirectional battery inverter (PCS) with packs on its DC bus: P/Q setpoint tracking under a
// ramp-rate limit, kVA and AC current limits, DC/AC conversion losses, grid-following while the grid
// is there and grid-forming (island) on outage when enabled, trips on voltage or frequency outside
// its ride-through settings (IEEE 1547 style must-trip table with clearing times), return to
// service after the grid has been normal for a delay, and frequency-watt droop.
#include <string>
#include <vector>

#include "devices/sim/pack_model.hpp"

namespace zhil::sim {

struct TripSetting {
  std::string name;   // OV2, UF1, ...
  bool voltage;       // else frequency
  bool over;          // trips above threshold, else below
  double threshold;   // pu for voltage, Hz for frequency
  double clear_s;     // must trip within this time
};

struct InverterParams {
  double s_rated_va = 400e3;
  double p_rated_w = 400e3;
  double i_max_a = 520;            // AC, per phase
  double v_nominal_v = 480;        // line-line
  double f_nominal_hz = 60;
  double ramp_w_per_s = 4e6;
  double efficiency = 0.975;       // proportional part of the loss
  double no_load_loss_w = 800;
  bool grid_forming_capable = true;
  std::vector<TripSetting> trips;
  double droop_deadband_hz = 0.036;
  double droop = 0.05;             // per unit frequency for 100 % power
  double droop_response_s = 5;     // open-loop response time (90 %)
  double enter_service_delay_s = 300;
  double enter_service_ramp_s = 300;
  double return_v_min_pu = 0.917, return_v_max_pu = 1.05;
  double return_f_min_hz = 59.5, return_f_max_hz = 60.1;
};

enum class InverterMode : int { off = 0, grid_following = 1, grid_forming = 2, tripped = 3 };

class InverterModel {
 public:
  InverterModel(const InverterParams& params, std::vector<PackModel*> packs);

  // Grid-following step: the grid is there (or gone, and we are not forming).
  // Island step: supply `island_demand_w` as the grid-former. Returns what was supplied.
  void step(double dt_s, bool grid_available, double v_pu, double f_hz, double island_demand_w);

  // What this inverter can deliver in island right now (0 unless it is able to form the grid).
  double island_capacity_w(bool grid_available) const;

  void set_power_setpoint(double p_w) { p_set_ = p_w; }
  void set_reactive_setpoint(double q_var) { q_set_ = q_var; }
  void set_grid_forming_enabled(bool on) { gf_enable_ = on; }
  void set_trip_fault(bool on) { trip_fault_ = on; }
  // Bounds on all output (setpoint, droop, island), from the safety envelope. NaN reads as 0.
  void set_output_limits(double discharge_w, double charge_w) {
    limit_dis_ = discharge_w > 0 ? discharge_w : 0;
    limit_ch_ = charge_w > 0 ? charge_w : 0;
  }
  // Setpoints to zero, grid forming off, droop off: the output ramps to zero at the ramp rate (as a
  // real PCS does, so the harness must wait for it and read it back). Setpoints are ignored until
  // leave_safe_state(). The packs are not touched: their contactors are their own devices'.
  void enter_safe_state();
  void leave_safe_state() { safe_ = false; }
  // In its safe state and settled there (output ramped to zero), as a bench that stood in its safe
  // state is when a real-time run resumes.
  void settle_safe_state();
  HostWatchdog& watchdog() { return watchdog_; }

  double p_ac() const { return p_ac_; }
  double q_ac() const { return q_ac_; }
  double p_dc() const { return p_dc_; }
  double p_droop() const { return droop_dp_; }
  double p_droop_delivered() const { return droop_delivered_; }
  InverterMode mode() const { return mode_; }
  bool tripped() const { return mode_ == InverterMode::tripped; }
  const std::string& trip_reason() const { return trip_reason_; }
  double available_discharge_w() const;  // AC, from the packs' limits and this inverter's rating
  double available_charge_w() const;
  double losses_w(double p_ac) const;
  const InverterParams& params() const { return p_; }
  const std::vector<PackModel*>& packs() const { return packs_; }

  template <class Archive>
  void state(Archive& a) {
    a(p_set_, q_set_, limit_dis_, limit_ch_, gf_enable_, trip_fault_, p_ac_, q_ac_, p_dc_, droop_dp_,
      droop_delivered_, mode_, trip_timers_, trip_reason_, normal_for_s_, return_ramp_limit_w_, safe_);
    watchdog_.state(a);
  }

 private:
  double s_limit(double v_pu) const;
  double dispatch_dc(double dt_s, double p_dc);  // returns the DC power the packs gave (+) or took
  void trip(const std::string& why);

  InverterParams p_;
  std::vector<PackModel*> packs_;
  double p_set_ = 0, q_set_ = 0;
  double limit_dis_ = 0, limit_ch_ = 0;
  bool gf_enable_ = false, trip_fault_ = false;
  double p_ac_ = 0, q_ac_ = 0, p_dc_ = 0, droop_dp_ = 0, droop_delivered_ = 0;
  InverterMode mode_ = InverterMode::grid_following;
  std::vector<double> trip_timers_;
  std::string trip_reason_;
  double normal_for_s_ = 0;
  double return_ramp_limit_w_ = -1;  // < 0: not ramping back in
  bool safe_ = false;
  HostWatchdog watchdog_;
  std::vector<double> share_;        // per-pack scratch
};

}  // namespace zhil::sim
