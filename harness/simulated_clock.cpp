#include "harness/simulated_clock.hpp"

#include <thread>

namespace zhil {

bool SimulatedClock::run_one() {
  // Ready I/O completions (a signal, a reply nobody holds time for) are looked for every 16 timers,
  // and always while I/O is held: a poll is a system call, and a cycle of in-process devices is a
  // microsecond. Work that must happen at the current instant sets a timer for now instead.
  if (holds() > 0 || ++since_poll_ >= 16) {
    since_poll_ = 0;
    if (io_.stopped()) io_.restart();
    if (io_.poll_one() > 0) return true;
  }
  if (holds() > 0) return wait_for_held_io();
  Time at;
  Handler handler;
  if (!timers_.pop(&at, &handler)) return false;
  if (at > now_) now_ = at;
  fire(handler);
  return true;
}

bool SimulatedClock::wait_for_held_io() {
  // Wall time enters a simulated run only here, and only to turn a peer that never answers into an
  // error instead of a hang: a run that completes never depends on it.
  const auto started = std::chrono::steady_clock::now();
  while (holds() > 0) {
    if (io_.stopped()) io_.restart();
    if (io_.run_one_for(std::chrono::milliseconds(20)) > 0) return true;
    const auto waited = std::chrono::steady_clock::now() - started;
    if (waited > stall_limit_)
      throw ClockStalled("simulated time stalled at t=" + std::to_string(to_seconds(now_)) + " s: no reply to " +
                         holds_description() + " after " +
                         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()) +
                         " ms of wall time");
    // run_one_for returns at once when the io_context has no work at all (a hold nobody will
    // release): back off instead of spinning.
    if (waited < std::chrono::milliseconds(1)) continue;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace zhil
