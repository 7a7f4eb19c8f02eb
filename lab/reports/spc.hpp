#pragma once
// Statistical process control over one measurement across runs (zhil spc): capability against the
// limits, and drift on an individuals control chart by the Western Electric rules. Pure arithmetic
// on a series of values, in the order they were measured; the command that reads them from the
// results store and prints and charts them is spc_command.
//
// Conventions (as in NIST/SEMATECH's e-Handbook, section 6.3):
//   sigma      sample standard deviation (n - 1)
//   Cp         (high - low) / (6 sigma)                  both limits needed
//   Cpk        min(high - mean, mean - low) / (3 sigma)  the limits there are
//   individuals chart: centre = mean, sigma_hat = mean moving range / d2 (d2 = 1.128 for ranges of
//   two), control limits centre +- 3 sigma_hat
//   X-bar chart: consecutive subgroups of `subgroup` values, centre = mean of their means,
//   limits centre +- A2 * mean range (A2 from the usual table, subgroups of 2 to 10)
// Western Electric rules, on the individuals chart's zones:
//   1  one point beyond 3 sigma_hat
//   2  two of three consecutive points beyond 2 sigma_hat on the same side
//   3  four of five consecutive points beyond 1 sigma_hat on the same side
//   4  eight consecutive points on the same side of the centre
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace zhil::lab {

struct RuleHit {
  int rule = 0;             // 1-4
  std::size_t index = 0;    // the point at which it fires (the last of its run of points)
  std::string description;  // "rule 2: 2 of 3 beyond 2 sigma (above)"
};

struct SpcSummary {
  std::size_t n = 0;
  double mean = 0, sigma = 0;  // sigma: sample standard deviation (NaN below 2 values)
  std::optional<double> cp, cpk;
  double moving_range_mean = 0, sigma_hat = 0;  // individuals chart
  double centre = 0, ucl = 0, lcl = 0;
  std::vector<RuleHit> hits;
};

SpcSummary spc_summary(const std::vector<double>& values, std::optional<double> low, std::optional<double> high);

struct XbarChart {
  std::size_t subgroup = 0;
  std::vector<double> means, ranges;  // per complete subgroup
  double centre = 0, ucl = 0, lcl = 0, range_mean = 0;
};
// Empty (no subgroups) when fewer than `subgroup` values or a subgroup size outside 2-10.
XbarChart xbar_chart(const std::vector<double>& values, std::size_t subgroup);

}  // namespace zhil::lab
