#pragma once
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "harness/clock.hpp"

namespace zhil {

// Wall-clock time from std::chrono::steady_clock, measured from construction (or restart()).
class RealTimeClock final : public Clock {
 public:
  explicit RealTimeClock(boost::asio::io_context& io);
  Time now() const override;
  void wait_until(Time deadline, Handler handler) override;
  void cancel() override { timer_.cancel(); }
  bool is_real_time() const override { return true; }
  void restart() { origin_ = std::chrono::steady_clock::now(); }
  // Wake this much before each deadline and spin the rest: the kernel's timer wake-up is late by
  // tens to hundreds of microseconds, a spin on the steady clock is not. 0 disables.
  void set_spin(Duration spin) { spin_ = spin; }

 private:
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point origin_;
  Duration spin_{0};
};

}  // namespace zhil
