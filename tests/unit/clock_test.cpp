#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "harness/real_time_clock.hpp"
#include "harness/simulated_clock.hpp"

using namespace zhil;
using namespace std::chrono_literals;

TEST(SimulatedClock, JumpsToEachDeadlineInOrder) {
  boost::asio::io_context io;
  SimulatedClock clock(io);
  std::vector<Time> seen;
  clock.wait_until(Time(5s), [&] {
    seen.push_back(clock.now());
    clock.wait_until(Time(7s), [&] { seen.push_back(clock.now()); });
  });
  EXPECT_EQ(clock.now(), Time(0));  // nothing happens until the io_context runs
  io.run();
  EXPECT_EQ(seen, (std::vector<Time>{Time(5s), Time(7s)}));
}

TEST(SimulatedClock, NeverGoesBackwards) {
  boost::asio::io_context io;
  SimulatedClock clock(io);
  Time at_past{-1};
  clock.wait_until(Time(10s), [&] { clock.wait_until(Time(3s), [&] { at_past = clock.now(); }); });
  io.run();
  EXPECT_EQ(at_past, Time(10s));
}

TEST(SimulatedClock, CancelDropsPendingHandler) {
  boost::asio::io_context io;
  SimulatedClock clock(io);
  bool ran = false;
  clock.wait_until(Time(1s), [&] { ran = true; });
  clock.cancel();
  io.run();
  EXPECT_FALSE(ran);
  EXPECT_EQ(clock.now(), Time(0));
}

TEST(RealTimeClock, HandlerRunsNoEarlierThanDeadline) {
  boost::asio::io_context io;
  RealTimeClock clock(io);
  Time fired{-1};
  const Time deadline = clock.now() + Time(20ms);
  clock.wait_until(deadline, [&] { fired = clock.now(); });
  io.run();
  EXPECT_GE(fired, deadline);
}

TEST(RealTimeClock, CancelledWaitDoesNotRun) {
  boost::asio::io_context io;
  RealTimeClock clock(io);
  bool ran = false;
  clock.wait_until(clock.now() + Time(10s), [&] { ran = true; });
  clock.cancel();
  io.run();  // returns at once: the cancelled wait completes with operation_aborted
  EXPECT_FALSE(ran);
  EXPECT_LT(clock.now(), Time(10s));
}
