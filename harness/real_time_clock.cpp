#include "harness/real_time_clock.hpp"

namespace zhil {

RealTimeClock::RealTimeClock(boost::asio::io_context& io)
    : Clock(io), timer_(io), origin_(std::chrono::steady_clock::now()) {}

Time RealTimeClock::now() const {
  return std::chrono::duration_cast<Time>(std::chrono::steady_clock::now() - origin_);
}

void RealTimeClock::arm() {
  if (timers_.empty()) {
    if (armed_) timer_.cancel();
    armed_ = false;
    return;
  }
  const Time head = timers_.next_time();
  if (armed_ && armed_for_ <= head) return;  // already waiting for this deadline or an earlier one
  const Duration early = timers_.next_is_precise() ? spin_ : Duration{0};
  timer_.expires_at(origin_ + head - early);  // cancels a wait for a later deadline
  armed_ = true;
  armed_for_ = head;
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_wake();  // operation_aborted: re-armed for an earlier deadline
  });
}

void RealTimeClock::on_wake() {
  armed_ = false;
  if (timers_.empty()) return;
  const Time head = timers_.next_time();
  // The wait may have been for a timer since cancelled: the head is then later, and this wake is
  // early. Spin only the last moments before a precise deadline; otherwise wait again.
  if (head - now() > (timers_.next_is_precise() ? spin_ : Duration{0})) {
    arm();
    return;
  }
  if (timers_.next_is_precise())
    while (now() < head) {
    }
  // Every timer now due, in order; a bounded number, so that I/O completions are not starved.
  for (int n = 0; n < 256 && !timers_.empty() && timers_.next_time() <= now(); ++n) {
    Time at;
    Handler handler;
    timers_.pop(&at, &handler);
    fire(handler);
  }
  arm();
}

bool RealTimeClock::run_one() {
  if (io_.stopped()) io_.restart();
  arm();
  return io_.run_one() > 0;
}

}  // namespace zhil
