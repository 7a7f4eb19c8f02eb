#pragma once
// The clock decides how time passes between cycles; the cycle loop, scenario and simulators are the
// same code on both clocks. SimulatedClock jumps straight to the next cycle; RealTimeClock waits on
// a Boost.Asio steady_timer.
#include <functional>

#include "harness/time.hpp"

namespace boost::asio {
class io_context;
}

namespace zhil {

class Clock {
 public:
  using Handler = std::function<void()>;
  virtual ~Clock() = default;

  // Time since the run started, as this clock sees it.
  virtual Time now() const = 0;
  // Calls handler on the io_context once now() >= deadline (never earlier).
  virtual void wait_until(Time deadline, Handler handler) = 0;
  // Cancels a pending wait; its handler is not called.
  virtual void cancel() = 0;
  virtual bool is_real_time() const = 0;
};

}  // namespace zhil
