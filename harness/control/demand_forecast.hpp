#pragma once
// A day-ahead demand forecast learned from the load the core has seen: the day is cut into bins
// (default 96 x 15 min) and each bin's mean load is exponentially smoothed over the days.
#include <vector>

namespace zhil {

class DemandForecast {
 public:
  explicit DemandForecast(int bins_per_day = 96, double alpha = 0.5);

  // Feed one sample: time of day in seconds [0, 86400), load in W, sample duration in s.
  void observe(double tod_s, double load_w, double dt_s);
  // True once every bin has been seen at least once (a full day).
  bool learned() const { return bins_learned_ == static_cast<int>(mean_.size()); }
  // Forecast load at a time of day; before a bin is learned, the latest smoothed load.
  double at(double tod_s) const;
  // Energy (Wh) the forecast puts above `limit_w` in the next `horizon_s`.
  double energy_above(double limit_w, double tod_s, double horizon_s) const;
  // Is tod_s inside the lowest-demand window of `width_s` within the next `horizon_s`?
  bool in_low_demand_window(double tod_s, double width_s, double horizon_s) const;

  template <class Archive>
  void state(Archive& a) {
    a(mean_, seen_, bins_learned_, current_bin_, acc_w_s_, acc_s_, recent_w_, any_);
  }

 private:
  int bin_of(double tod_s) const;
  double bin_s_;
  double alpha_;
  std::vector<double> mean_;
  std::vector<bool> seen_;
  int bins_learned_ = 0;
  int current_bin_ = -1;
  double acc_w_s_ = 0, acc_s_ = 0;
  double recent_w_ = 0;
  bool any_ = false;
};

}  // namespace zhil
