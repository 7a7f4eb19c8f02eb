#include "harness/simulated_clock.hpp"

#include <boost/asio/post.hpp>

namespace zhil {

void SimulatedClock::wait_until(Time deadline, Handler handler) {
  // Posting (rather than calling directly) lets signal handlers and other work on the same
  // io_context run between cycles, exactly as they would in real time.
  boost::asio::post(io_, [this, deadline, generation = generation_, h = std::move(handler)] {
    if (generation != generation_) return;
    if (deadline > now_) now_ = deadline;
    h();
  });
}

}  // namespace zhil
