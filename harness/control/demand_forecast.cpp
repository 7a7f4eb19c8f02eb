#include "harness/control/demand_forecast.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace zhil {

DemandForecast::DemandForecast(int bins_per_day, double alpha)
    : bin_s_(86400.0 / bins_per_day), alpha_(alpha), mean_(bins_per_day, 0.0), seen_(bins_per_day, false) {}

int DemandForecast::bin_of(double tod_s) const {
  double t = std::fmod(tod_s, 86400.0);
  if (t < 0) t += 86400.0;
  return std::min(static_cast<int>(t / bin_s_), static_cast<int>(mean_.size()) - 1);
}

void DemandForecast::observe(double tod_s, double load_w, double dt_s) {
  const int bin = bin_of(tod_s);
  if (bin != current_bin_) {
    if (current_bin_ >= 0 && acc_s_ > 0) {
      const double m = acc_w_s_ / acc_s_;
      // A bin seen only in part (the run started inside it) still teaches its level.
      if (!seen_[current_bin_]) {
        mean_[current_bin_] = m;
        seen_[current_bin_] = true;
        ++bins_learned_;
      } else {
        mean_[current_bin_] += alpha_ * (m - mean_[current_bin_]);
      }
    }
    current_bin_ = bin;
    acc_w_s_ = acc_s_ = 0;
  }
  acc_w_s_ += load_w * dt_s;
  acc_s_ += dt_s;
  recent_w_ = any_ ? recent_w_ + 0.01 * (load_w - recent_w_) : load_w;
  any_ = true;
}

double DemandForecast::at(double tod_s) const {
  const int b = bin_of(tod_s);
  return seen_[b] ? mean_[b] : recent_w_;
}

double DemandForecast::energy_above(double limit_w, double tod_s, double horizon_s) const {
  double wh = 0;
  for (double t = 0; t < horizon_s; t += bin_s_) wh += std::max(0.0, at(tod_s + t) - limit_w) * bin_s_ / 3600.0;
  return wh;
}

bool DemandForecast::in_low_demand_window(double tod_s, double width_s, double horizon_s) const {
  if (!learned()) return false;
  // Slide a window of `width` over the horizon; find where its mean is lowest.
  const int n = std::max(1, static_cast<int>(width_s / bin_s_));
  double best = std::numeric_limits<double>::infinity();
  double best_start = 0;
  for (double start = 0; start + width_s <= horizon_s + 1e-9; start += bin_s_) {
    double sum = 0;
    for (int k = 0; k < n; ++k) sum += at(tod_s + start + k * bin_s_);
    if (sum < best - 1e-6) best = sum, best_start = start;
  }
  return best_start < bin_s_;  // the best window starts now
}

}  // namespace zhil
