#include "harness/real_time_clock.hpp"

namespace zhil {

RealTimeClock::RealTimeClock(boost::asio::io_context& io)
    : timer_(io), origin_(std::chrono::steady_clock::now()) {}

Time RealTimeClock::now() const {
  return std::chrono::duration_cast<Time>(std::chrono::steady_clock::now() - origin_);
}

void RealTimeClock::wait_until(Time deadline, Handler handler) {
  timer_.expires_at(origin_ + deadline - spin_);
  timer_.async_wait([this, deadline, h = std::move(handler)](const boost::system::error_code& ec) {
    if (ec) return;  // operation_aborted: cancelled, the handler must not run
    while (now() < deadline) {
    }
    h();
  });
}

}  // namespace zhil
