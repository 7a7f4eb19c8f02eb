#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include "harness/cycle_loop.hpp"
#include "harness/simulated_clock.hpp"

using namespace zhil;
using namespace std::chrono_literals;

namespace {

// A clock that claims to be real time but whose "now" the test moves, so that overruns and
// jitter are tested deterministically, without sleeping.
class ScriptedClock final : public Clock {
 public:
  explicit ScriptedClock(boost::asio::io_context& io) : io_(io) {}
  Time now() const override { return now_; }
  void wait_until(Time deadline, Handler h) override {
    boost::asio::post(io_, [this, deadline, h = std::move(h)] {
      now_ = std::max(now_, deadline) + lateness;
      h();
    });
  }
  void cancel() override {}
  bool is_real_time() const override { return true; }
  void advance(Duration d) { now_ += d; }
  Duration lateness{0};

 private:
  boost::asio::io_context& io_;
  Time now_{0};
};

}  // namespace

TEST(CycleLoop, RunsEveryPeriodFromZeroToEndInclusive) {
  boost::asio::io_context io;
  SimulatedClock clock(io);
  CycleLoop loop(clock, 100ms, Time(1s));
  std::vector<Time> times;
  loop.start([&](Time t) {
    times.push_back(t);
    return true;
  });
  io.run();
  ASSERT_EQ(times.size(), 11u);
  for (std::size_t i = 0; i < times.size(); ++i) EXPECT_EQ(times[i], Time(100ms) * static_cast<long>(i));
  EXPECT_TRUE(loop.finished());
  EXPECT_FALSE(loop.stopped_early());
}

TEST(CycleLoop, StepReturningFalseStopsTheLoop) {
  boost::asio::io_context io;
  SimulatedClock clock(io);
  CycleLoop loop(clock, 10ms, Time(10s));
  int n = 0;
  loop.start([&](Time) { return ++n < 5; });
  io.run();
  EXPECT_EQ(n, 5);
  EXPECT_TRUE(loop.stopped_early());
  EXPECT_EQ(loop.last_cycle_time(), Time(40ms));
}

TEST(CycleLoop, RequestStopEndsBeforeTheNextCycle) {
  boost::asio::io_context io;
  SimulatedClock clock(io);
  CycleLoop loop(clock, 10ms, Time(10s));
  int n = 0;
  loop.start([&](Time) {
    if (++n == 3) loop.request_stop();
    return true;
  });
  io.run();
  EXPECT_EQ(n, 3);
}

TEST(CycleLoop, CountsOverrunsAndSkipsMissedDeadlines) {
  boost::asio::io_context io;
  ScriptedClock clock(io);
  CycleLoop loop(clock, 10ms, Time(100ms));
  std::vector<Time> times;
  loop.start([&](Time t) {
    times.push_back(t);
    if (t == Time(20ms)) clock.advance(25ms);  // this cycle's work takes 25 ms
    return true;
  });
  io.run();
  // The cycle at 20 ms ends at 45 ms: the 30 and 40 ms deadlines are gone, the next is 50 ms.
  EXPECT_EQ(loop.stats().overruns, 1u);
  EXPECT_EQ(loop.stats().skipped_cycles, 2u);
  ASSERT_GE(times.size(), 4u);
  EXPECT_EQ(times[2], Time(20ms));
  EXPECT_EQ(times[3], Time(50ms));
}

TEST(CycleLoop, RecordsStartLatency) {
  boost::asio::io_context io;
  ScriptedClock clock(io);
  clock.lateness = 150us;  // every cycle starts 150 µs late
  CycleLoop loop(clock, 10ms, Time(1s));
  loop.start([](Time) { return true; });
  io.run();
  EXPECT_EQ(loop.stats().latency.count(), loop.stats().cycles);
  EXPECT_EQ(loop.stats().latency.percentile_us(50), 150.0);
  EXPECT_EQ(loop.stats().latency.percentile_us(99), 150.0);
  EXPECT_NEAR(loop.stats().latency.max_us(), 150.0, 1e-9);
}

TEST(LatencyHistogram, Percentiles) {
  LatencyHistogram h;
  for (int i = 1; i <= 100; ++i) h.add(Duration(i * 1000));  // 1..100 µs
  EXPECT_EQ(h.percentile_us(50), 50.0);
  EXPECT_EQ(h.percentile_us(99), 99.0);
  EXPECT_EQ(h.max_us(), 100.0);
}
