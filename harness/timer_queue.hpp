#pragma once
// The pending timers of a run, in the order a discrete-event simulator keeps them: by time, then by
// the order they were set (ties broken by insertion are what make runs repeatable). Cancelling
// marks a timer dead where it stands rather than searching the heap for it. Both clocks keep their
// timers here; they differ only in how they wait for the head.
#include <cstdint>
#include <functional>
#include <vector>

#include "harness/time.hpp"

namespace zhil {

using TimerId = std::uint64_t;  // generation << 32 | slot + 1; 0 names no timer
constexpr TimerId kNoTimer = 0;

class TimerQueue {
 public:
  using Handler = std::function<void()>;

  TimerId add(Time at, Handler handler, bool precise = false);
  // True if the timer was pending (its handler will not run); false if it already ran or was
  // cancelled.
  bool cancel(TimerId id);
  bool empty() const { return live_ == 0; }
  std::size_t size() const { return live_; }
  // Time of the earliest live timer; empty() must be false.
  Time next_time();
  bool next_is_precise();
  // Removes the earliest live timer and hands over its handler.
  bool pop(Time* at, Handler* handler);
  void clear();
  // Every pending timer `d` earlier (time starts again; order is unchanged).
  void shift(Duration d) {
    for (Entry& e : heap_) e.at -= d;
  }

 private:
  struct Entry {
    Time at;
    std::uint64_t seq;
    std::uint32_t slot;
    std::uint32_t generation;
  };
  struct Slot {
    Handler handler;
    std::uint32_t generation = 0;
    bool live = false;
    bool precise = false;
  };
  static bool later(const Entry& a, const Entry& b) { return a.at != b.at ? a.at > b.at : a.seq > b.seq; }
  void drop_dead_head();

  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::uint64_t seq_ = 0;
  std::size_t live_ = 0;
};

}  // namespace zhil
