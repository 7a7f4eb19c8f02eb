#include "harness/scenario/derived_signal.hpp"

#include <cmath>
#include <stdexcept>

namespace zhil {

DerivedSignal::DerivedSignal(const DerivedSpec& spec, SignalTable& signals, Duration cycle) : spec_(spec) {
  in_ = signals.find(spec.of);
  if (in_ == kNoSignal)
    throw std::runtime_error(spec.where + ": derived signal '" + spec.name + "': unknown signal '" + spec.of + "'");
  const std::string& unit = signals.info(in_).unit;
  const std::string out_unit = spec.op == DerivedSpec::Op::rate ? unit + "/s" : unit;
  if (auto s = signals.add(spec.name, out_unit, SignalKind::measurement, "scenario", &out_); !s)
    throw std::runtime_error(spec.where + ": " + s.message());
  // window / cycle samples, plus one so that the rate spans exactly one window.
  std::size_t n = static_cast<std::size_t>(spec.window.count() / std::max<std::int64_t>(cycle.count(), 1));
  constexpr std::size_t kMaxSamples = 1'000'000;  // 8 MB: bounded memory whatever the window and cycle
  if (n > kMaxSamples)
    throw std::runtime_error(spec.where + ": derived signal '" + spec.name + "': window of " + std::to_string(n) +
                             " cycles; at most " + std::to_string(kMaxSamples));
  ring_.assign(std::max<std::size_t>(n, 1) + (spec.op == DerivedSpec::Op::rate ? 1 : 0), 0.0);
}

void DerivedSignal::update(Time now, SignalTable& signals) {
  const double x = signals.value(in_);
  const std::size_t n = ring_.size();
  double dropped = ring_[head_];
  ring_[head_] = x;
  head_ = (head_ + 1) % n;
  if (count_ < n) ++count_;
  else sum_ -= dropped;
  sum_ += x;
  if (!std::isfinite(sum_)) {
    // A non-finite sample poisons a running sum for good; rebuild it from the window instead.
    sum_ = 0;
    for (std::size_t k = 0; k < count_; ++k) sum_ += ring_[(head_ + n - 1 - k) % n];
  }
  double out;
  if (spec_.op == DerivedSpec::Op::mean) {
    out = sum_ / static_cast<double>(count_);
  } else {
    // oldest sample in the ring is at head_ once it is full
    const double oldest = count_ < n ? ring_[0] : ring_[head_];
    const double span = to_seconds(spec_.window) * static_cast<double>(count_ - 1) / static_cast<double>(n - 1);
    out = span > 0 ? (x - oldest) / span : 0.0;
  }
  signals.set(out_, out, now, signals.quality(in_));
}

}  // namespace zhil
