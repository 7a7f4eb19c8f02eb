#include "harness/clock.hpp"

namespace zhil {

IoHold& IoHold::operator=(IoHold&& other) noexcept {
  if (this != &other) {
    release();
    registry_ = std::move(other.registry_);
    id_ = other.id_;
  }
  return *this;
}

void IoHold::release() {
  if (auto r = registry_.lock()) r->erase(id_);
  registry_.reset();
}

bool IoHold::held() const {
  auto r = registry_.lock();
  return r && r->count(id_) > 0;
}

TimerId Clock::call_at(Time at, Handler handler, bool precise) {
  const TimerId id = timers_.add(at, std::move(handler), precise);
  on_timers_changed();
  return id;
}

IoHold Clock::hold(std::string what) {
  const std::uint64_t id = next_hold_++;
  holds_->emplace(id, std::move(what));
  return IoHold(holds_, id);
}

void Clock::fire(Handler& handler) {
  if (before_timer_) before_timer_(now());
  handler();
}

std::string Clock::holds_description() const {
  std::string out;
  for (const auto& [id, what] : *holds_) out += (out.empty() ? "" : ", ") + what;
  return out;
}

}  // namespace zhil
