#include "harness/scenario/measurement.hpp"

#include <algorithm>
#include <cmath>
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
    ref_ = v;
    acc_ = (spec_.aggregate == Aggregate::mean || spec_.aggregate == Aggregate::integral) ? 0.0 : v;
    comp_ = 0;
    return;
  }
  const double dt = to_seconds(now - last_);
  switch (spec_.aggregate) {
    case Aggregate::max: acc_ = std::max(acc_, v); break;
    case Aggregate::min: acc_ = std::min(acc_, v); break;
    case Aggregate::final: acc_ = v; break;
    // Trapezoidal, time-weighted: independent of the cycle period.
    case Aggregate::mean:
    case Aggregate::integral: {
      // Of the deviation from the first value, with compensated (Neumaier) summation: a held 60.2 Hz
      // averages to exactly 60.2, and a day of 100 ms steps loses no digits to the running sum.
      const double term = 0.5 * ((v - ref_) + (last_v_ - ref_)) * dt;
      const double sum = acc_ + term;
      comp_ += std::fabs(acc_) >= std::fabs(term) ? (acc_ - sum) + term : (term - sum) + acc_;
      acc_ = sum;
      break;
    }
  }
  last_ = now;
  last_v_ = v;
}

MeasurementResult Measurement::result(Time end, bool completed) const {
  MeasurementResult r{spec_.name, spec_.signal, to_string(spec_.aggregate), spec_.unit, std::nullopt,
                      spec_.low, spec_.high, "INCOMPLETE", spec_.where};
  if (!any_) return r;
  double v = acc_;
  const double span = to_seconds(last_ - first_);
  if (spec_.aggregate == Aggregate::mean) v = span > 0 ? ref_ + (acc_ + comp_) / span : last_v_;
  if (spec_.aggregate == Aggregate::integral) v = (ref_ * span + (acc_ + comp_)) * scale_;
  r.value = v;
  const Time window_end = spec_.until.value_or(end);
  if (!completed && end < window_end) return r;
  const bool ok = (!spec_.low || v >= *spec_.low) && (!spec_.high || v <= *spec_.high);
  r.outcome = ok ? "PASS" : "FAIL";
  return r;
}

}  // namespace zhil
