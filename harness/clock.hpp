#pragma once
// The clock of a run is its scheduler: any part of a run (the cycle, a device, a transport, a
// simulator serving a socket, the scenario's timeline) sets timers on it, any number, each
// cancellable on its own, and they fire in a deterministic order (by time, then by the order they
// were set). SimulatedClock jumps from timer to timer; RealTimeClock waits for the wall clock. The
// run drives either with run_one(), one unit of work at a time, on one Boost.Asio io_context that
// also carries the run's real I/O and signal handling.
//
// Time that stands still: a part of the run that has sent real bytes it is waiting for (a request
// to a simulator behind a loopback socket, say) takes an IoHold. While any hold is taken, simulated
// time does not pass: the clock waits on the io_context for the I/O instead, so a peer served over
// a real socket stays in lock-step with the harness and a run is repeatable byte for byte. A hold
// that lasts longer than the stall limit of wall time means a peer that will never answer; the
// clock throws ClockStalled naming what was awaited, rather than hang. In real time holds are
// counted, and time goes on.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "harness/time.hpp"
#include "harness/timer_queue.hpp"

namespace boost::asio {
class io_context;
}

namespace zhil {

class Clock;

// Keeps simulated time still while it is held (RAII, movable). Take and release it on the loop
// thread.
// The holds a clock knows of, by id, with what each awaits. Shared with the holds themselves, so a
// hold that outlives its clock (kept by a device after the run) releases nothing, safely.
using HoldRegistry = std::map<std::uint64_t, std::string>;

class IoHold {
 public:
  IoHold() = default;
  IoHold(IoHold&& other) noexcept : registry_(std::move(other.registry_)), id_(other.id_) {}
  IoHold& operator=(IoHold&& other) noexcept;
  IoHold(const IoHold&) = delete;
  IoHold& operator=(const IoHold&) = delete;
  ~IoHold() { release(); }
  void release();
  bool held() const;

 private:
  friend class Clock;
  IoHold(std::weak_ptr<HoldRegistry> registry, std::uint64_t id) : registry_(std::move(registry)), id_(id) {}
  std::weak_ptr<HoldRegistry> registry_;
  std::uint64_t id_ = 0;
};

class ClockStalled : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Clock {
 public:
  using Handler = TimerQueue::Handler;
  explicit Clock(boost::asio::io_context& io) : io_(io) {}
  virtual ~Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;

  // Time since the run started, as this clock sees it.
  virtual Time now() const = 0;
  virtual bool is_real_time() const = 0;
  // Time starts again at 0 (a run does, once its devices are up); a timer still pending keeps its
  // distance from now.
  void restart() { restart_at(Time{0}); }
  // Time starts again at `at` (a resumed run continues at its checkpoint's time).
  virtual void restart_at(Time at) = 0;

  // Calls handler on the loop thread once now() >= at (never earlier; a time in the past means as
  // soon as possible, after the timers already due). `precise`: a real-time clock spins for the
  // last moments before this deadline instead of trusting the kernel's wake-up (cycle starts).
  TimerId call_at(Time at, Handler handler, bool precise = false);
  TimerId call_after(Duration d, Handler handler) { return call_at(now() + d, std::move(handler)); }
  bool cancel(TimerId id) { return timers_.cancel(id); }
  std::size_t pending_timers() const { return timers_.size(); }
  void cancel_all() { timers_.clear(); }

  // Stops simulated time until released; `what` names the awaited I/O for a stall report.
  IoHold hold(std::string what);
  std::size_t holds() const { return holds_->size(); }
  // Time may pass again whatever is in flight (after a stall, so that the safe state can run): the
  // outstanding holds are forgotten; releasing them later does nothing.
  void abandon_holds() { holds_->clear(); }
  // Wall time a simulated clock waits for held I/O before it throws ClockStalled.
  void set_stall_limit(std::chrono::milliseconds limit) { stall_limit_ = limit; }

  // Runs one unit of work: a ready I/O completion, or the next timer. Returns false when there is
  // nothing left to do (no timer, no I/O). Exceptions from handlers pass through; the clock stays
  // usable.
  virtual bool run_one() = 0;

  // Called before every timer handler, with now() at the timer's time: a simulated plant advances
  // its physics to the instant before the event acts.
  void set_before_timer(std::function<void(Time)> hook) { before_timer_ = std::move(hook); }

  boost::asio::io_context& io() { return io_; }

 protected:
  virtual void on_timers_changed() {}
  void fire(Handler& handler);
  std::string holds_description() const;

  boost::asio::io_context& io_;
  TimerQueue timers_;
  std::function<void(Time)> before_timer_;
  std::chrono::milliseconds stall_limit_{10000};

 private:
  // Ordered: a stall report lists them as taken.
  std::shared_ptr<HoldRegistry> holds_ = std::make_shared<HoldRegistry>();
  std::uint64_t next_hold_ = 1;
};

}  // namespace zhil
