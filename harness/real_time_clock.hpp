#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "harness/clock.hpp"

namespace zhil {

// Wall-clock time from std::chrono::steady_clock, measured from construction (or restart()). The
// timer queue is the simulated clock's; one Asio steady_timer waits for its head (ns-3's real-time
// scheduler is the same queue waiting on the wall clock).
class RealTimeClock final : public Clock {
 public:
  explicit RealTimeClock(boost::asio::io_context& io);
  Time now() const override;
  bool is_real_time() const override { return true; }
  bool run_one() override;
  void restart_at(Time at) override {
    const auto was = origin_;
    origin_ = std::chrono::steady_clock::now() - at;
    timers_.shift(std::chrono::duration_cast<Duration>(origin_ - was));
    if (armed_) timer_.cancel();  // re-armed against the new origin
    armed_ = false;
    arm();
  }
  // Wake this much before each precise deadline and spin the rest: the kernel's timer wake-up is
  // late by tens to hundreds of microseconds, a spin on the steady clock is not. 0 disables.
  void set_spin(Duration spin) { spin_ = spin; }

 private:
  void on_timers_changed() override { arm(); }
  void arm();
  void on_wake();

  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point origin_;
  Duration spin_{0};
  bool armed_ = false;
  Time armed_for_{0};
};

}  // namespace zhil
