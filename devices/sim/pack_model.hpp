#pragma once
#include "devices/sim/host_watchdog.hpp"
// A zinc-halogen pack built cell-to-pack: N modules in series under one BMS. Each module has its
// own SOC, temperature, zinc loading, capacity and resistance (with a manufacturing spread), so
// per-module faults and imbalance show. Physics per module: OCV(SOC) curve, internal resistance
// (voltage efficiency), coulombic efficiency on charge, temperature-dependent self-discharge,
// lumped thermal model. BMS: over/under-voltage, over-current and over-temperature protection
// (current-limit derating, then contactor open), the current limits it reports, and the strip
// (maintenance) cycle. Parameters come from a fixture file (fixtures/packs/), never from code.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "harness/device_roles.hpp"

namespace zhil::sim {

struct PackParams {
  // module
  int modules = 16;
  int cells_per_module = 30;
  double capacity_ah = 185;        // per module, nominal
  double r_cell_ohm = 0.0029;      // per cell
  double capacity_spread = 0.02;   // 1-sigma, fraction
  double resistance_spread = 0.05; // 1-sigma, fraction
  double coulombic_efficiency = 0.93;
  double self_discharge_per_day = 0.03;  // fraction of capacity per day at 25 degC
  double self_discharge_doubling_c = 10; // rate doubles every this many kelvin
  double thermal_capacity_j_per_k = 4.2e5;  // per module
  double thermal_resistance_k_per_w = 0.035;  // module to ambient
  double aux_power_w = 0;                     // per module, drawn from the stack while current flows
  std::vector<std::pair<double, double>> ocv_curve;  // (soc, cell volts)
  // BMS
  double v_cell_trip_high = 2.10, v_cell_trip_low = 1.15, v_trip_time_s = 1.0;
  double i_charge_max_a = 60, i_discharge_max_a = 95;
  double i_trip_a = 120, i_trip_time_s = 1.0;
  double soc_taper = 0.05;  // current limits taper to 0 within this of SOC 0 / 1 (module extremes)
  double t_derate_c = 40, t_zero_c = 50, t_shutdown_c = 55;
  // strip (maintenance) cycle
  double strip_interval_cycles = 3.0;   // equivalent full cycles of charge since the last strip
  double strip_interval_s = 72 * 3600;  // or this long since the last strip
  double strip_overdue_s = 24 * 3600;   // due for this long: overdue alarm
  double capacity_fade_per_cycle = 0.02; // usable capacity lost per equivalent cycle unstripped
  double maintenance_discharge_w = 5000; // BMS's own drain while waiting to reach the strip SOC
  double strip_end_soc = 0.02;
  double strip_duration_s = 2 * 3600;
  // initial state
  double initial_soc = 0.5, initial_temperature_c = 25, ambient_c = 25;
  double initial_zn_loading = 0;  // equivalent cycles since last strip
  double initial_time_since_strip_s = 0;
  double internal_short_a = 15;   // drain through an injected internal short (fault), per module
};

enum PackAlarm : std::uint32_t {
  kAlarmOverVoltage = 1u << 0,
  kAlarmUnderVoltage = 1u << 1,
  kAlarmOverCurrent = 1u << 2,
  kAlarmOverTemperature = 1u << 3,   // shutdown
  kAlarmTemperatureDerating = 1u << 4,
  kAlarmStripDue = 1u << 5,
  kAlarmStripOverdue = 1u << 6,
  kAlarmInternalShort = 1u << 7,
};

// BMS states, numbered as the Redflow ZBM BMS does (domain.md §2; harness/device_roles.hpp), so the
// Modbus map can serve them.
enum class PackState : int {
  safe_shutdown = static_cast<int>(roles::pack::state_safe_shutdown),
  run = static_cast<int>(roles::pack::state_run),
  maintenance_discharge = static_cast<int>(roles::pack::state_maintenance_discharge),
  anode_strip = static_cast<int>(roles::pack::state_anode_strip),
};

struct Module {
  double capacity_ah;  // nominal, with spread
  double r_ohm;        // module resistance, with spread
  double charge_ah;    // charge held
  double t_c;
  double zn;           // equivalent cycles since last strip
  double v;            // terminal voltage, last step
  // Derived from the above by summarise() whenever they change, so that a cycle computes each once.
  double soc;          // charge over usable capacity, 0..1
  double ocv;          // module open-circuit voltage at soc
  double sd_factor;    // self-discharge temperature factor, at sd_t_c
  double sd_t_c;       // temperature the factor was computed at

  template <class Archive>
  void serialize(Archive& a) {
    a(capacity_ah, r_ohm, charge_ah, t_c, zn, v, soc, ocv, sd_factor, sd_t_c);
  }
};

// Energy bookkeeping, for tests that the physics closes.
struct PackEnergy {
  double terminal_in_wh = 0;   // integral of V*I at the terminals (+ charge)
  double terminal_out_wh = 0;  // discharge energy delivered
  double resistive_wh = 0;
  double coulombic_loss_wh = 0;
  double self_discharge_wh = 0;
  double drained_wh = 0;       // maintenance drain, strip shunt, internal shorts, aux
  double overcharge_wh = 0;    // pushed in past full (lost)
  double overdischarge_wh = 0; // taken out past empty (not physical: a forced current; counted so the books close)

  template <class Archive>
  void serialize(Archive& a) {
    a(terminal_in_wh, terminal_out_wh, resistive_wh, coulombic_loss_wh, self_discharge_wh, drained_wh, overcharge_wh,
      overdischarge_wh);
  }
};

class PackModel {
 public:
  PackModel(const PackParams& params, std::uint64_t seed);

  // Advance by dt with `current_a` at the terminals (+ charge). The current is what the DC bus
  // pushes; it is taken as 0 while the contactor is open.
  void step(double dt_s, double current_a);
  // Current that delivers `power_w` at the terminals now (+ charge), from the pack's OCV and
  // resistance; clamps to the largest power the pack can physically give.
  double current_for_power(double power_w) const;

  // commands
  void set_contactor_command(bool close);
  void request_strip(bool request);
  // faults and environment (stimuli)
  void set_ambient(double c) { ambient_c_ = c; }
  void set_cooling_loss(double factor) { cooling_factor_ = factor < 1 ? 1 : factor; }
  void set_internal_short(bool on) { internal_short_ = on; }
  // Current limits from outside the BMS (the harness's safety envelope); the reported limits never
  // exceed them. NaN and negatives read as 0.
  void set_allowed_currents(double charge_a, double discharge_a) {
    const double ch = charge_a > 0 ? charge_a : 0, dis = discharge_a > 0 ? discharge_a : 0;
    if (ch == allowed_ch_ && dis == allowed_dis_) return;  // written every cycle, changes rarely
    allowed_ch_ = ch;
    allowed_dis_ = dis;
    update_bms(0.0);
  }
  void enter_safe_state();
  void leave_safe_state() {}  // the contactor stays open until commanded closed
  HostWatchdog& watchdog() { return watchdog_; }

  // BMS readings
  double voltage() const { return v_; }
  double current() const { return i_; }
  double soc() const { return summary_.soc; }  // mean of the modules
  double soc_module_min() const { return summary_.soc_min; }
  double soc_module_max() const { return summary_.soc_max; }
  double t_max() const { return summary_.t_max; }
  double t_min() const { return summary_.t_min; }
  double v_module_max() const { return summary_.v_max; }
  double v_module_min() const { return summary_.v_min; }
  double zn_max() const { return summary_.zn_max; }
  double energy_available_wh() const;
  double charge_current_limit() const { return limit_ch_; }
  double discharge_current_limit() const { return limit_dis_; }
  bool contactor_closed() const { return contactor_; }
  bool strip_due() const { return strip_due_; }
  bool stripping() const { return state_ == PackState::maintenance_discharge || state_ == PackState::anode_strip; }
  PackState state() const;
  std::uint32_t alarms() const { return alarms_; }
  const std::vector<Module>& modules() const { return modules_; }
  double module_soc(std::size_t k) const { return modules_[k].soc; }
  double usable_capacity_ah(std::size_t k) const;
  double ocv_cell(double soc) const {  // from the 1 % table, interpolated
    const double x = (soc < 0 ? 0 : soc > 1 ? 1 : soc) * 100.0;
    const int k = x < 99 ? static_cast<int>(x) : 99;
    const double f = x - k;
    return ocv_table_[k] + (ocv_table_[k + 1] - ocv_table_[k]) * f;
  }
  double chemical_energy_wh() const;  // energy the modules would give at their OCV, to empty
  const PackEnergy& energy() const { return energy_; }
  const PackParams& params() const { return p_; }
  std::uint64_t strips_completed() const { return strips_; }

  // A checkpoint's part: everything that changes as the pack runs (the parameters and the OCV
  // tables come from the fixture and the seed, as when the pack was built).
  template <class Archive>
  void state(Archive& a) {
    a(modules_, v_, i_, ambient_c_, cooling_factor_, internal_short_, contactor_cmd_, contactor_, latched_trip_,
      strip_request_, strip_due_, state_, strip_timer_s_, since_strip_s_, due_for_s_, ov_timer_, uv_timer_, oc_timer_);
    a(limit_ch_, limit_dis_, allowed_ch_, allowed_dis_, alarms_, latched_alarms_, energy_, strips_, summary_);
    watchdog_.state(a);
  }

 private:
  struct Summary {
    double soc, soc_min, soc_max, t_max, t_min, v_max, v_min, zn_max;
    double ocv, r;         // series sums: open-circuit voltage and resistance
    double charge_min_ah;  // the emptiest module ends a discharge

    template <class Archive>
    void serialize(Archive& a) {
      a(soc, soc_min, soc_max, t_max, t_min, v_max, v_min, zn_max, ocv, r, charge_min_ah);
    }
  };
  static Summary empty_summary() { return {0, 2, -1, -1e9, 1e9, -1e9, 1e9, 0, 0, 0, 1e18}; }
  // Inlined into both loops that call it, so the summary stays in registers.
  [[gnu::always_inline]] inline void summarise_module(std::size_t k, Summary& r);
  void summarise();
  void update_bms(double dt_s, bool summarised = false);
  double ocv_integral(double soc) const;  // ∫0^soc OCV ds per cell

  PackParams p_;
  std::vector<Module> modules_;
  std::array<double, 101> ocv_table_{};       // resampled OCV, 1 % steps: O(1) lookup
  std::array<double, 101> ocv_integral_{};
  double v_ = 0, i_ = 0;
  double ambient_c_;
  double cooling_factor_ = 1;
  bool internal_short_ = false;
  bool contactor_cmd_ = false, contactor_ = false, latched_trip_ = false;
  HostWatchdog watchdog_;
  bool strip_request_ = false, strip_due_ = false;
  PackState state_ = PackState::run;
  double strip_timer_s_ = 0, since_strip_s_ = 0, due_for_s_ = 0;
  double ov_timer_ = 0, uv_timer_ = 0, oc_timer_ = 0;
  double limit_ch_ = 0, limit_dis_ = 0;
  double allowed_ch_ = 0, allowed_dis_ = 0;  // 0 until the envelope says: no current unasked
  std::uint32_t alarms_ = 0, latched_alarms_ = 0;
  PackEnergy energy_;
  std::uint64_t strips_ = 0;
  Summary summary_{};
};

}  // namespace zhil::sim
