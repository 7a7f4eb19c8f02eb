#pragma once
// The timing of a run's cycles: a fixed period from t = 0. A cycle is a sequence of asynchronous
// phases, so it may end after the next one was due (an overrun): the next cycle then starts at the
// next period boundary after the end rather than bursting to catch up, and the deadlines it missed
// are counted as skipped. In real time each cycle's start latency (how late the wake-up was) and
// completion time (start deadline to the end of its last phase) go into bounded histograms.
#include <cstdint>
#include <vector>

#include "harness/time.hpp"

namespace zhil {

// 1 µs buckets up to 100 ms: bounded memory for runs of any length.
class LatencyHistogram {
 public:
  LatencyHistogram() : buckets_(kBuckets + 1, 0) {}
  void add(Duration latency);
  std::uint64_t count() const { return count_; }
  double percentile_us(double p) const;
  double max_us() const { return static_cast<double>(max_.count()) / 1000.0; }

 private:
  static constexpr std::size_t kBuckets = 100000;
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  Duration max_{0};
};

struct LoopStats {
  std::uint64_t cycles = 0;
  std::uint64_t overruns = 0;        // cycles that ended after the next one was due
  std::uint64_t skipped_cycles = 0;  // deadlines missed entirely
  LatencyHistogram start_latency;    // real time only
  LatencyHistogram completion;       // real time only: start deadline to end of the cycle
  Duration max_work{0};              // real time only
};

// The start of the cycle after the one due at `due` that ended at `ended`; counts an overrun and
// the skipped deadlines in `stats`.
Time next_cycle_start(Time due, Time ended, Duration period, LoopStats& stats);

}  // namespace zhil
