#pragma once
// Harness time: integer nanoseconds since the start of a run. Integer, so that simulated runs are
// bit-for-bit repeatable (no drift from adding floating-point periods).
#include <chrono>
#include <cstdint>

namespace zhil {

using Duration = std::chrono::nanoseconds;
using Time = std::chrono::nanoseconds;  // since run start

constexpr double to_seconds(Duration d) { return static_cast<double>(d.count()) * 1e-9; }
constexpr Duration from_seconds(double s) {
  return Duration(static_cast<std::int64_t>(s * 1e9 + (s >= 0 ? 0.5 : -0.5)));
}

}  // namespace zhil
