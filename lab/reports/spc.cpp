#include "lab/reports/spc.hpp"

#include <algorithm>
#include <cmath>

namespace zhil::lab {
namespace {

constexpr double kD2 = 1.128;  // d2 for moving ranges of two

// A2 for subgroups of 2..10 (NIST/SEMATECH e-Handbook 6.3.2.1).
constexpr double kA2[11] = {0, 0, 1.880, 1.023, 0.729, 0.577, 0.483, 0.419, 0.373, 0.337, 0.308};

const char* side(bool above) { return above ? "above" : "below"; }

}  // namespace

SpcSummary spc_summary(const std::vector<double>& x, std::optional<double> low, std::optional<double> high) {
  SpcSummary s;
  s.n = x.size();
  if (x.empty()) {
    s.mean = s.sigma = NAN;
    return s;
  }
  double sum = 0;
  for (double v : x) sum += v;
  s.mean = sum / static_cast<double>(x.size());
  double ss = 0;
  for (double v : x) ss += (v - s.mean) * (v - s.mean);
  s.sigma = x.size() > 1 ? std::sqrt(ss / static_cast<double>(x.size() - 1)) : NAN;
  if (x.size() > 1 && s.sigma > 0) {
    if (low && high) s.cp = (*high - *low) / (6 * s.sigma);
    if (low && high) s.cpk = std::min(*high - s.mean, s.mean - *low) / (3 * s.sigma);
    else if (high) s.cpk = (*high - s.mean) / (3 * s.sigma);
    else if (low) s.cpk = (s.mean - *low) / (3 * s.sigma);
  }
  double mr = 0;
  for (std::size_t i = 1; i < x.size(); ++i) mr += std::abs(x[i] - x[i - 1]);
  s.moving_range_mean = x.size() > 1 ? mr / static_cast<double>(x.size() - 1) : 0;
  s.sigma_hat = s.moving_range_mean / kD2;
  s.centre = s.mean;
  s.ucl = s.centre + 3 * s.sigma_hat;
  s.lcl = s.centre - 3 * s.sigma_hat;
  if (s.sigma_hat <= 0) return s;  // no spread: no zones
  const double c = s.centre, h = s.sigma_hat;
  auto beyond = [&](std::size_t i, double k, bool above) { return above ? x[i] > c + k * h : x[i] < c - k * h; };
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (beyond(i, 3, true) || beyond(i, 3, false))
      s.hits.push_back({1, i, std::string("rule 1: beyond 3 sigma (") + side(x[i] > c) + ")"});
    for (bool above : {true, false}) {
      // At the start of the series the windows are the points there are.
      if (i >= 1) {
        int n = 0;
        for (std::size_t j = i >= 2 ? i - 2 : 0; j <= i; ++j) n += beyond(j, 2, above);
        // Fires where the run completes: the last point is one of those beyond.
        if (n >= 2 && beyond(i, 2, above))
          s.hits.push_back({2, i, std::string("rule 2: 2 of 3 beyond 2 sigma (") + side(above) + ")"});
      }
      if (i >= 3) {
        int n = 0;
        for (std::size_t j = i >= 4 ? i - 4 : 0; j <= i; ++j) n += beyond(j, 1, above);
        if (n >= 4 && beyond(i, 1, above))
          s.hits.push_back({3, i, std::string("rule 3: 4 of 5 beyond 1 sigma (") + side(above) + ")"});
      }
      if (i >= 7) {
        bool all = true;
        for (std::size_t j = i - 7; j <= i && all; ++j) all = above ? x[j] > c : x[j] < c;
        if (all) s.hits.push_back({4, i, std::string("rule 4: 8 in a row on one side (") + side(above) + ")"});
      }
    }
  }
  return s;
}

XbarChart xbar_chart(const std::vector<double>& x, std::size_t subgroup) {
  XbarChart c;
  c.subgroup = subgroup;
  if (subgroup < 2 || subgroup > 10) return c;
  for (std::size_t i = 0; i + subgroup <= x.size(); i += subgroup) {
    double sum = 0, lo = x[i], hi = x[i];
    for (std::size_t j = i; j < i + subgroup; ++j) {
      sum += x[j];
      lo = std::min(lo, x[j]);
      hi = std::max(hi, x[j]);
    }
    c.means.push_back(sum / static_cast<double>(subgroup));
    c.ranges.push_back(hi - lo);
  }
  if (c.means.empty()) return c;
  for (std::size_t k = 0; k < c.means.size(); ++k) {
    c.centre += c.means[k];
    c.range_mean += c.ranges[k];
  }
  c.centre /= static_cast<double>(c.means.size());
  c.range_mean /= static_cast<double>(c.means.size());
  c.ucl = c.centre + kA2[subgroup] * c.range_mean;
  c.lcl = c.centre - kA2[subgroup] * c.range_mean;
  return c;
}

}  // namespace zhil::lab
