#include "harness/timer_queue.hpp"

#include <algorithm>

namespace zhil {

TimerId TimerQueue::add(Time at, Handler handler, bool precise) {
  std::uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[slot];
  s.handler = std::move(handler);
  s.live = true;
  s.precise = precise;
  heap_.push_back({at, seq_++, slot, s.generation});
  std::push_heap(heap_.begin(), heap_.end(), later);
  ++live_;
  return (static_cast<TimerId>(s.generation) << 32) | (static_cast<TimerId>(slot) + 1);
}

bool TimerQueue::cancel(TimerId id) {
  if (id == kNoTimer) return false;
  const auto slot = static_cast<std::uint32_t>((id & 0xffffffffu) - 1);
  const auto generation = static_cast<std::uint32_t>(id >> 32);
  if (slot >= slots_.size()) return false;
  Slot& s = slots_[slot];
  if (!s.live || s.generation != generation) return false;
  s.live = false;
  s.handler = nullptr;
  ++s.generation;  // the heap entry no longer matches: it is dropped when it reaches the head
  free_.push_back(slot);
  --live_;
  return true;
}

void TimerQueue::drop_dead_head() {
  while (!heap_.empty()) {
    const Entry& e = heap_.front();
    const Slot& s = slots_[e.slot];
    if (s.live && s.generation == e.generation) return;
    std::pop_heap(heap_.begin(), heap_.end(), later);
    heap_.pop_back();
  }
}

Time TimerQueue::next_time() {
  drop_dead_head();
  return heap_.front().at;
}

bool TimerQueue::next_is_precise() {
  drop_dead_head();
  return !heap_.empty() && slots_[heap_.front().slot].precise;
}

bool TimerQueue::pop(Time* at, Handler* handler) {
  drop_dead_head();
  if (heap_.empty()) return false;
  const Entry e = heap_.front();
  std::pop_heap(heap_.begin(), heap_.end(), later);
  heap_.pop_back();
  Slot& s = slots_[e.slot];
  *at = e.at;
  *handler = std::move(s.handler);
  s.handler = nullptr;
  s.live = false;
  ++s.generation;
  free_.push_back(e.slot);
  --live_;
  return true;
}

void TimerQueue::clear() {
  heap_.clear();
  for (std::uint32_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (s.live) {
      s.live = false;
      s.handler = nullptr;
      ++s.generation;
      free_.push_back(i);
    }
  }
  live_ = 0;
}

}  // namespace zhil
