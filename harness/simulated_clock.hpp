#pragma once
#include <boost/asio/io_context.hpp>

#include "harness/clock.hpp"

namespace zhil {

// Simulated time: a wait completes as soon as the io_context gets to it, and time jumps to the
// deadline. Deterministic: now() only changes when a wait completes.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(boost::asio::io_context& io) : io_(io) {}
  Time now() const override { return now_; }
  void wait_until(Time deadline, Handler handler) override;
  void cancel() override { ++generation_; }
  bool is_real_time() const override { return false; }

 private:
  boost::asio::io_context& io_;
  Time now_{0};
  unsigned long generation_ = 0;
};

}  // namespace zhil
