#include "harness/scenario/measurement.hpp"

#include <algorithm>
#include <stdexcept>

namespace zhil {

Measurement::Measurement(const MeasurementSpec& spec, const SignalTable& signals)
    : spec_(spec), signals_(&signals), id_(signals.find(spec.signal)) {
  auto fail = [&](const std::string& m) {
    throw std::runtime_error(spec.where + ": measurement '" + spec.name + "': " + m);
  };
  if (id_ == kNoSignal) fail("unknown signal '" + spec.signal + "'");
  const std::string& su = signals.info(id_).unit;
  std::string expected = su;
  if (spec.aggregate == Aggregate::integral) {
    if (su == "W" && spec.unit == "Wh") scale_ = 1.0 / 3600.0, expected = "Wh";
    else if (su == "W" && spec.unit == "J") expected = "J";
    else if (su == "A" && spec.unit == "Ah") scale_ = 1.0 / 3600.0, expected = "Ah";
    else expected = su + "*s";
  }
  if (spec.unit != expected)
    fail("unit '" + spec.unit + "' does not fit " + to_string(spec.aggregate) + " of " + spec.signal +
         " [" + su + "]; use '" + expected + "'");
}

void Measurement::sample(Time now) {
  if (now < spec_.from || (spec_.until && now > *spec_.until)) return;
  const double v = signals_->value(id_);
  if (!any_) {
    any_ = true;
    first_ = last_ = now;
    last_v_ = v;
    acc_ = (spec_.aggregate == Aggregate::mean || spec_.aggregate == Aggregate::integral) ? 0.0 : v;
    return;
  }
  const double dt = to_seconds(now - last_);
  switch (spec_.aggregate) {
    case Aggregate::max: acc_ = std::max(acc_, v); break;
    case Aggregate::min: acc_ = std::min(acc_, v); break;
    case Aggregate::final: acc_ = v; break;
    // Trapezoidal, time-weighted: independent of the cycle period.
    case Aggregate::mean:
    case Aggregate::integral: acc_ += 0.5 * (v + last_v_) * dt; break;
  }
  last_ = now;
  last_v_ = v;
}

MeasurementResult Measurement::result(Time end, bool completed) const {
  MeasurementResult r{spec_.name, spec_.signal, to_string(spec_.aggregate), spec_.unit, std::nullopt,
                      spec_.low, spec_.high, "INCOMPLETE", spec_.where};
  if (!any_) return r;
  double v = acc_;
  if (spec_.aggregate == Aggregate::mean) {
    const double span = to_seconds(last_ - first_);
    v = span > 0 ? acc_ / span : last_v_;
  }
  if (spec_.aggregate == Aggregate::integral) v *= scale_;
  r.value = v;
  const Time window_end = spec_.until.value_or(end);
  if (!completed && end < window_end) return r;
  const bool ok = (!spec_.low || v >= *spec_.low) && (!spec_.high || v <= *spec_.high);
  r.outcome = ok ? "PASS" : "FAIL";
  return r;
}

}  // namespace zhil
