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
  if (spec.aggregate == Aggregate::ratio) {
    id_ = kNoSignal;
    if (spec.unit != "%" && spec.unit != "1") fail("a ratio's unit is % or 1");
    return;
  }
  if (id_ == kNoSignal) fail("unknown signal '" + spec.signal + "'");
  const std::string& su = signals.info(id_).unit;
  std::string expected = su;
  if (spec.aggregate == Aggregate::response) expected = "s";
  if (spec.aggregate == Aggregate::integral || spec.aggregate == Aggregate::positive_integral ||
      spec.aggregate == Aggregate::negative_integral) {
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
  if (id_ == kNoSignal || now < spec_.from || (spec_.until && now > *spec_.until)) return;
  double v = signals_->value(id_);
  // A missing value (NaN: the device has not been read yet, or does not serve the point): max,
  // min and response look past it; an energy or a mean with a hole in it is not decided (counted
  // as 0 it would quietly lower an energy); a final value that is missing is not decided either.
  if (std::isnan(v)) {
    switch (spec_.aggregate) {
      case Aggregate::max:
      case Aggregate::min:
      case Aggregate::response:
      case Aggregate::ratio: return;
      case Aggregate::mean:
      case Aggregate::integral:
      case Aggregate::positive_integral:
      case Aggregate::negative_integral: missing_ = true; return;
      case Aggregate::final: break;
    }
  }
  if (spec_.aggregate == Aggregate::positive_integral) v = v > 0 ? v : 0;
  if (spec_.aggregate == Aggregate::negative_integral) v = v < 0 ? -v : 0;
  if (spec_.aggregate == Aggregate::response && any_ && !responded_ && v != ref_) responded_ = to_seconds(now - first_);
  if (!any_) {
    any_ = true;
    first_ = last_ = now;
    last_v_ = v;
    ref_ = v;
    acc_ = (spec_.aggregate == Aggregate::mean || spec_.aggregate == Aggregate::integral ||
            spec_.aggregate == Aggregate::positive_integral || spec_.aggregate == Aggregate::negative_integral)
               ? 0.0 : v;
    comp_ = 0;
    return;
  }
  const double dt = to_seconds(now - last_);
  switch (spec_.aggregate) {
    case Aggregate::max: acc_ = std::max(acc_, v); break;
    case Aggregate::min: acc_ = std::min(acc_, v); break;
    case Aggregate::final: acc_ = v; break;
    case Aggregate::response:
    case Aggregate::ratio: break;
    // Trapezoidal, time-weighted: independent of the cycle period.
    case Aggregate::mean:
    case Aggregate::integral:
    case Aggregate::positive_integral:
    case Aggregate::negative_integral: {
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

namespace {

void judge(MeasurementResult& r) {
  const double v = *r.value;
  const bool ok = (!r.low || v >= *r.low) && (!r.high || v <= *r.high);
  r.outcome = ok ? "PASS" : "FAIL";
  r.marginal = ok && ((r.marginal_low && v < *r.marginal_low) || (r.marginal_high && v > *r.marginal_high));
}

}  // namespace

MeasurementResult Measurement::result(Time end, bool completed) const {
  MeasurementResult r{spec_.name, spec_.signal, to_string(spec_.aggregate), spec_.unit, std::nullopt,
                      spec_.low, spec_.high, "INCOMPLETE", spec_.where, spec_.marginal_low, spec_.marginal_high};
  if (!any_ || missing_) return r;  // missing_: not decided (INCOMPLETE)
  double v = acc_;
  const double span = to_seconds(last_ - first_);
  if (spec_.aggregate == Aggregate::mean) v = span > 0 ? ref_ + (acc_ + comp_) / span : last_v_;
  if (spec_.aggregate == Aggregate::integral || spec_.aggregate == Aggregate::positive_integral ||
      spec_.aggregate == Aggregate::negative_integral)
    v = (ref_ * span + (acc_ + comp_)) * scale_;
  const Time window_end = spec_.until.value_or(end);
  const bool decided = completed || end >= window_end;
  if (spec_.aggregate == Aggregate::response) {
    if (!responded_) {
      // No response in the whole window is the device failing to respond, not an undecided test.
      if (decided) r.outcome = "FAIL";
      return r;
    }
    v = *responded_;
  }
  if (std::isnan(v)) return r;  // its signal had no value in the window: not decided (INCOMPLETE)
  r.value = v;
  if (!decided) return r;
  judge(r);
  return r;
}

MeasurementResult Measurement::ratio_result(const std::vector<MeasurementResult>& all, Time, bool) const {
  MeasurementResult r{spec_.name, "", to_string(spec_.aggregate), spec_.unit, std::nullopt,
                      spec_.low, spec_.high, "INCOMPLETE", spec_.where, spec_.marginal_low, spec_.marginal_high};
  const MeasurementResult *num = nullptr, *den = nullptr;
  for (const auto& m : all) {
    if (m.name == spec_.ratio_of) num = &m;
    if (m.name == spec_.ratio_over) den = &m;
  }
  if (!num || !den) return r;
  r.signal = num->signal + " / " + den->signal;  // names the DUT the ratio is of
  if (!num->value || !den->value || num->outcome == "INCOMPLETE" || den->outcome == "INCOMPLETE") return r;
  if (*den->value == 0) {
    r.outcome = "FAIL";  // nothing went in: no efficiency to speak of
    return r;
  }
  r.value = *num->value / *den->value * (spec_.unit == "%" ? 100.0 : 1.0);
  judge(r);
  return r;
}

}  // namespace zhil
