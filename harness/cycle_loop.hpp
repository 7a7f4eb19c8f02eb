#pragma once
// The cycle loop on Boost.Asio: one io_context, one cycle at a time at a fixed period. In real
// time it measures how late each cycle starts (jitter) and counts overruns (a cycle still working
// when the next should start); a late loop skips to the next period boundary rather than bursting
// to catch up.
#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "harness/clock.hpp"
#include "harness/time.hpp"

namespace zhil {

// Start-latency histogram, 1 µs buckets up to 100 ms: bounded memory for runs of any length.
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
  std::uint64_t overruns = 0;        // cycles whose work ran past the next deadline
  std::uint64_t skipped_cycles = 0;  // deadlines missed entirely
  LatencyHistogram latency;          // real time only
  Duration max_work{0};
};

class CycleLoop {
 public:
  // Step runs one cycle at time `now`; return false to stop the loop.
  using Step = std::function<bool(Time now)>;
  CycleLoop(Clock& clock, Duration period, Time end) : clock_(clock), period_(period), end_(end) {}

  void start(Step step);  // first cycle at t = 0; the caller runs the io_context
  void request_stop();    // no further cycle starts; the running one completes
  bool stopped_early() const { return stop_requested_; }
  bool finished() const { return finished_; }
  Time last_cycle_time() const { return last_; }
  const LoopStats& stats() const { return stats_; }
  Duration period() const { return period_; }

 private:
  void schedule(Time deadline);
  void run_cycle(Time deadline);

  Clock& clock_;
  Duration period_;
  Time end_;
  Step step_;
  bool stop_requested_ = false;
  bool finished_ = false;
  Time last_{0};
  LoopStats stats_;
};

}  // namespace zhil
