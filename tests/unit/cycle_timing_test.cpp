// Cycle timing: an overrun (a cycle that ends after the next was due) skips to the next period
// boundary and counts the deadlines it missed; latency percentiles.
#include <gtest/gtest.h>

#include "harness/cycle_timing.hpp"

using namespace zhil;
using namespace std::chrono_literals;

TEST(CycleTiming, OnTimeCycleIsFollowedByTheNextPeriod) {
  LoopStats s;
  EXPECT_EQ(next_cycle_start(Time(20ms), Time(29ms), 10ms, s), Time(30ms));
  EXPECT_EQ(next_cycle_start(Time(20ms), Time(30ms), 10ms, s), Time(30ms));  // ending exactly on time is on time
  EXPECT_EQ(s.overruns, 0u);
}

TEST(CycleTiming, OverrunSkipsToTheNextBoundaryAndCountsMissedDeadlines) {
  LoopStats s;
  // The cycle at 20 ms ends at 45 ms: the 30 and 40 ms deadlines are gone, the next is 50 ms.
  EXPECT_EQ(next_cycle_start(Time(20ms), Time(45ms), 10ms, s), Time(50ms));
  EXPECT_EQ(s.overruns, 1u);
  EXPECT_EQ(s.skipped_cycles, 2u);
}

TEST(LatencyHistogram, Percentiles) {
  LatencyHistogram h;
  for (int i = 1; i <= 100; ++i) h.add(Duration(i * 1000));  // 1..100 µs
  EXPECT_EQ(h.percentile_us(50), 50.0);
  EXPECT_EQ(h.percentile_us(99), 99.0);
  EXPECT_EQ(h.max_us(), 100.0);
}
