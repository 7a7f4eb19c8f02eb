#include "harness/cycle_loop.hpp"

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

void CycleLoop::start(Step step) {
  step_ = std::move(step);
  schedule(Time{0});
}

void CycleLoop::request_stop() {
  stop_requested_ = true;
  clock_.cancel();
}

void CycleLoop::schedule(Time deadline) {
  clock_.wait_until(deadline, [this, deadline] { run_cycle(deadline); });
}

void CycleLoop::run_cycle(Time deadline) {
  if (stop_requested_) return;
  const bool real = clock_.is_real_time();
  const Time started = clock_.now();
  if (real) stats_.latency.add(started - deadline);
  last_ = deadline;
  ++stats_.cycles;
  if (!step_(deadline)) {
    stop_requested_ = true;
    return;
  }
  if (stop_requested_) return;
  Time next = deadline + period_;
  if (real) {
    const Time done = clock_.now();
    stats_.max_work = std::max(stats_.max_work, done - started);
    if (done > next) {
      ++stats_.overruns;
      const auto missed = (done - deadline) / period_;  // deadlines already gone
      stats_.skipped_cycles += static_cast<std::uint64_t>(missed);
      next = deadline + (missed + 1) * period_;
    }
  }
  if (next > end_) {
    finished_ = true;
    return;
  }
  schedule(next);
}

}  // namespace zhil
