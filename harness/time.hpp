#pragma once
// Harness time: integer nanoseconds since the start of a run. Integer, so that simulated runs are
// bit-for-bit repeatable (no drift from adding floating-point periods).
#include <chrono>
#include <cstdint>

namespace zhil {

using Duration = std::chrono::nanoseconds;
using Time = std::chrono::nanoseconds;  // since run start

// Division, not multiplication by 1e-9: the quotient of two exact values is correctly rounded, so a
// time the scenario wrote as 29.4 s comes back as the double nearest 29.4 and prints as "29.4"
// (29400000000 * 1e-9 prints as 29.400000000000002).
constexpr double to_seconds(Duration d) { return static_cast<double>(d.count()) / 1e9; }
constexpr Duration from_seconds(double s) {
  return Duration(static_cast<std::int64_t>(s * 1e9 + (s >= 0 ? 0.5 : -0.5)));
}

}  // namespace zhil
