// The clocks as schedulers: any number of timers, fired by time then by the order they were set,
// each cancellable on its own; simulated time that stands still while I/O is held; a real-time
// clock with the same interface.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <thread>

#include "harness/real_time_clock.hpp"
#include "harness/simulated_clock.hpp"
#include "harness/timer_queue.hpp"

using namespace zhil;
using namespace std::chrono_literals;

namespace {
void drain(Clock& c) {
  while (c.run_one()) {
  }
}
}  // namespace

TEST(TimerQueue, OrdersByTimeThenInsertionAndCancelsEachOnItsOwn) {
  TimerQueue q;
  std::vector<int> order;
  q.add(Time(5s), [&] { order.push_back(1); });
  const TimerId b = q.add(Time(3s), [&] { order.push_back(2); });
  q.add(Time(3s), [&] { order.push_back(3); });
  q.add(Time(3s), [&] { order.push_back(4); });
  q.add(Time(1s), [&] { order.push_back(5); });
  EXPECT_EQ(q.size(), 5u);
  EXPECT_TRUE(q.cancel(b));
  EXPECT_FALSE(q.cancel(b));  // once only
  EXPECT_EQ(q.size(), 4u);
  Time at;
  TimerQueue::Handler h;
  std::vector<Time> times;
  while (q.pop(&at, &h)) {
    times.push_back(at);
    h();
  }
  EXPECT_EQ(order, (std::vector<int>{5, 3, 4, 1}));
  EXPECT_EQ(times, (std::vector<Time>{Time(1s), Time(3s), Time(3s), Time(5s)}));
}

TEST(TimerQueue, AReusedSlotDoesNotRunACancelledTimer) {
  TimerQueue q;
  int ran = 0;
  const TimerId a = q.add(Time(10s), [&] { ran += 1; });
  ASSERT_TRUE(q.cancel(a));
  const TimerId b = q.add(Time(20s), [&] { ran += 10; });  // takes a's slot
  EXPECT_NE(a, b);
  EXPECT_FALSE(q.cancel(a));  // a stale id names nothing, not b
  Time at;
  TimerQueue::Handler h;
  ASSERT_TRUE(q.pop(&at, &h));
  h();
  EXPECT_EQ(at, Time(20s));
  EXPECT_EQ(ran, 10);
  EXPECT_FALSE(q.pop(&at, &h));
}

TEST(SimulatedClock, JumpsFromTimerToTimerInOrderWithTiesByInsertion) {
  boost::asio::io_context io;
  SimulatedClock clock(io);
  std::vector<std::pair<Time, int>> seen;
  for (int k = 0; k < 1000; ++k) {
    const Time at = Time(std::chrono::milliseconds((k * 7919) % 100));  // many collisions
    clock.call_at(at, [&, k] { seen.emplace_back(clock.now(), k); });
  }
  EXPECT_EQ(clock.pending_timers(), 1000u);
  EXPECT_EQ(clock.now(), Time(0));  // nothing happens until the clock is run
  drain(clock);
  ASSERT_EQ(seen.size(), 1000u);
  for (std::size_t i = 1; i < seen.size(); ++i) {
    ASSERT_LE(seen[i - 1].first, seen[i].first);
    if (seen[i - 1].first == seen[i].first) {
      ASSERT_LT(seen[i - 1].second, seen[i].second);  // set earlier, fires earlier
    }
  }
  for (const auto& [t, k] : seen) EXPECT_EQ(t, Time(std::chrono::milliseconds((k * 7919) % 100)));
}

TEST(SimulatedClock, CancelsOneTimerAmongMany) {
  boost::asio::io_context io;
  SimulatedClock clock(io);
  std::vector<int> ran;
  std::vector<TimerId> ids;
  for (int k = 0; k < 10; ++k) ids.push_back(clock.call_at(Time(std::chrono::seconds(k)), [&, k] { ran.push_back(k); }));
  EXPECT_TRUE(clock.cancel(ids[3]));
  EXPECT_TRUE(clock.cancel(ids[7]));
  drain(clock);
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 4, 5, 6, 8, 9}));
  EXPECT_EQ(clock.now(), Time(9s));
}

TEST(SimulatedClock, NeverGoesBackwards) {
  boost::asio::io_context io;
  SimulatedClock clock(io);
  Time at_past{-1};
  clock.call_at(Time(10s), [&] { clock.call_at(Time(3s), [&] { at_past = clock.now(); }); });
  drain(clock);
  EXPECT_EQ(at_past, Time(10s));
}

TEST(SimulatedClock, AdvancesThePlantBeforeEveryTimer) {
  boost::asio::io_context io;
  SimulatedClock clock(io);
  std::vector<Time> plant;
  clock.set_before_timer([&](Time t) { plant.push_back(t); });
  Time seen_by_handler{-1};
  clock.call_at(Time(10010ms), [&] { seen_by_handler = plant.back(); });
  clock.call_at(Time(10100ms), [] {});
  drain(clock);
  EXPECT_EQ(plant, (std::vector<Time>{Time(10010ms), Time(10100ms)}));
  EXPECT_EQ(seen_by_handler, Time(10010ms));  // the physics was at the event's instant when it acted
}

TEST(SimulatedClock, HeldIoKeepsTimeStillUntilItCompletes) {
  boost::asio::io_context io;
  SimulatedClock clock(io);
  std::vector<std::string> log;
  // A request goes out at t = 1 s; its reply arrives from another thread after real milliseconds.
  // The timer at 1.5 s must not fire before the reply: simulated time stands still meanwhile.
  std::thread peer;
  IoHold hold;
  auto guard = boost::asio::make_work_guard(io);
  clock.call_at(Time(1s), [&] {
    hold = clock.hold("test request");
    peer = std::thread([&] {
      std::this_thread::sleep_for(30ms);  // the peer's own work, in wall time
      boost::asio::post(io, [&] {
        log.push_back("reply at " + std::to_string(clock.now().count()));
        hold.release();
        guard.reset();
      });
    });
  });
  clock.call_at(Time(1500ms), [&] { log.push_back("timer at " + std::to_string(clock.now().count())); });
  drain(clock);
  peer.join();
  EXPECT_EQ(log, (std::vector<std::string>{"reply at 1000000000", "timer at 1500000000"}));
  EXPECT_EQ(clock.holds(), 0u);
}

TEST(SimulatedClock, AHoldNobodyReleasesIsAStallNamingTheRequest) {
  boost::asio::io_context io;
  SimulatedClock clock(io);
  clock.set_stall_limit(50ms);
  IoHold hold;
  clock.call_at(Time(2s), [&] { hold = clock.hold("pack1 read (modbus unit 3)"); });
  clock.call_at(Time(3s), [] {});
  try {
    drain(clock);
    FAIL() << "no stall reported";
  } catch (const ClockStalled& e) {
    EXPECT_NE(std::string(e.what()).find("pack1 read (modbus unit 3)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("t=2"), std::string::npos) << e.what();
  }
  EXPECT_EQ(clock.now(), Time(2s));
}

TEST(SimulatedClock, HandlerExceptionsPassThroughAndTheClockGoesOn) {
  boost::asio::io_context io;
  SimulatedClock clock(io);
  bool later = false;
  clock.call_at(Time(1s), [] { throw std::runtime_error("boom"); });
  clock.call_at(Time(2s), [&] { later = true; });
  EXPECT_THROW(clock.run_one(), std::runtime_error);
  drain(clock);
  EXPECT_TRUE(later);
}

TEST(RealTimeClock, TimersFireNoEarlierThanTheirDeadlineInOrder) {
  boost::asio::io_context io;
  RealTimeClock clock(io);
  std::vector<std::pair<int, Time>> fired;
  const Time t0 = clock.now();
  for (int k : {3, 1, 2})
    clock.call_at(t0 + Time(std::chrono::milliseconds(5 * k)), [&, k] { fired.emplace_back(k, clock.now()); });
  drain(clock);
  ASSERT_EQ(fired.size(), 3u);
  for (std::size_t i = 0; i < fired.size(); ++i) {
    EXPECT_EQ(fired[i].first, static_cast<int>(i) + 1);
    EXPECT_GE(fired[i].second, t0 + Time(std::chrono::milliseconds(5 * fired[i].first)));
  }
}

TEST(RealTimeClock, ACancelledTimerDoesNotRunAndAnEarlierOneRearmsTheWait) {
  boost::asio::io_context io;
  RealTimeClock clock(io);
  bool late_ran = false, early_ran = false;
  const TimerId late = clock.call_at(clock.now() + Time(10s), [&] { late_ran = true; });
  clock.call_at(clock.now() + Time(5ms), [&] { early_ran = true; });  // armed after a later one
  ASSERT_TRUE(clock.cancel(late));
  drain(clock);
  EXPECT_TRUE(early_ran);
  EXPECT_FALSE(late_ran);
  EXPECT_LT(clock.now(), Time(10s));
}

TEST(RealTimeClock, HoldsDoNotStopRealTime) {
  boost::asio::io_context io;
  RealTimeClock clock(io);
  IoHold h = clock.hold("anything");
  bool ran = false;
  clock.call_after(2ms, [&] { ran = true; });
  drain(clock);
  EXPECT_TRUE(ran);
  EXPECT_EQ(clock.holds(), 1u);
}

TEST(RealTimeClock, AWakeForACancelledTimerWaitsAgainInsteadOfSpinningToThePreciseOne) {
  // The wait is armed for 5 ms; that timer is cancelled and a precise one is set for 300 ms. A
  // completion that arrives at about 20 ms must be handled then, not after the precise timer: a
  // clock that spun from the stale 5 ms wake-up to 300 ms would block all I/O meanwhile.
  boost::asio::io_context io;
  RealTimeClock clock(io);
  clock.set_spin(std::chrono::microseconds(200));
  std::vector<std::string> order;
  const TimerId early = clock.call_at(clock.now() + Time(5ms), [] {});  // the wait is armed for it
  ASSERT_TRUE(clock.cancel(early));
  clock.call_at(clock.now() + Time(300ms), [&] { order.push_back("precise timer"); }, /*precise=*/true);
  auto guard = boost::asio::make_work_guard(io);
  std::thread peer([&] {
    std::this_thread::sleep_for(20ms);  // a reply from a device, in wall time
    boost::asio::post(io, [&] {
      order.push_back("reply");
      guard.reset();
    });
  });
  while (order.size() < 2 && clock.run_one()) {
  }
  peer.join();
  EXPECT_EQ(order, (std::vector<std::string>{"reply", "precise timer"}));
}
