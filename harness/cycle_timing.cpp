#include "harness/cycle_timing.hpp"

#include <algorithm>

namespace zhil {

void LatencyHistogram::add(Duration latency) {
  const auto us = std::max<std::int64_t>(0, latency.count() / 1000);
  ++buckets_[std::min<std::size_t>(static_cast<std::size_t>(us), kBuckets)];
  ++count_;
  max_ = std::max(max_, latency);
}

double LatencyHistogram::percentile_us(double p) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(p / 100.0 * static_cast<double>(count_ - 1)) + 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) return static_cast<double>(i);
  }
  return static_cast<double>(kBuckets);
}

Time next_cycle_start(Time due, Time ended, Duration period, LoopStats& stats) {
  const Time next = due + period;
  if (ended <= next) return next;
  ++stats.overruns;
  const auto missed = (ended - due) / period;  // deadlines already gone
  stats.skipped_cycles += static_cast<std::uint64_t>(missed);
  return due + (missed + 1) * period;
}

}  // namespace zhil
