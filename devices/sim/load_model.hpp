#pragma once
// The data-centre load: follows the demand the scenario drives (constant, steps, profiles, AI
// training swings). Optionally voltage-sensitive like IT power supplies (ITIC/CBEMA curve,
// domain.md §6): a sag or swell outside the curve moves the load to its own backup, off the grid,
// for a hold time; unserved load is demand that neither the grid, the inverters nor that backup
// supplies.
namespace zhil::sim {

struct LoadParams {
  double initial_demand_w = 1e6;
  bool itic = false;            // voltage-sensitive
  double backup_hold_s = 300;   // time on its own backup after a transfer
};

class LoadModel {
 public:
  explicit LoadModel(const LoadParams& p) : p_(p), demand_(p.initial_demand_w) {}
  void set_demand(double w) { demand_ = (w > 0 && !safe_) ? w : 0; }  // NaN and negatives read as 0
  // A load bank's safe state: no load, and it stays off.
  void enter_safe_state() {
    safe_ = true;
    demand_ = 0;
  }
  // Activated again: it follows the demand the scenario sets from now on.
  void leave_safe_state() { safe_ = false; }
  // Bus voltage seen by the load over the last step; returns whether it is on its backup now.
  void observe_voltage(double dt_s, double v_pu);

  double demand_w() const { return demand_; }
  bool on_backup() const { return backup_left_s_ > 0; }
  // What it wants from the site bus now.
  double site_demand_w() const { return on_backup() ? 0.0 : demand_; }
  const LoadParams& params() const { return p_; }

  // Set by the site each step.
  double p_drawn_w = 0;
  double p_unserved_w = 0;

  template <class Archive>
  void state(Archive& a) {
    a(demand_, safe_, backup_left_s_, below_70_, below_80_, below_90_, above_110_, above_120_, p_drawn_w, p_unserved_w);
  }

 private:
  LoadParams p_;
  double demand_;
  bool safe_ = false;
  double backup_left_s_ = 0;
  double below_70_ = 0, below_80_ = 0, below_90_ = 0, above_110_ = 0, above_120_ = 0;
};

}  // namespace zhil::sim
