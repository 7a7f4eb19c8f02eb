#pragma once
#include <boost/asio/io_context.hpp>

#include "harness/clock.hpp"

namespace zhil {

// Simulated time: nothing happens between events. run_one() runs I/O completions that are ready
// (never waiting; looked for every few timers), then, if I/O is held in flight, waits for it with
// time standing still, and otherwise jumps to the earliest timer. now() changes only when a timer fires, so the same
// inputs give the same sequence of events on every run.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(boost::asio::io_context& io) : Clock(io) {}
  Time now() const override { return now_; }
  bool is_real_time() const override { return false; }
  bool run_one() override;
  void restart_at(Time at) override {
    timers_.shift(now_ - at);
    now_ = at;
  }

 private:
  bool wait_for_held_io();
  Time now_{0};
  unsigned since_poll_ = 0;
};

}  // namespace zhil
