#pragma once
// Measurements with units and limits (OpenHTF style): an aggregate of a signal over a window (max,
// min, time-weighted mean, final value, integral), judged against optional low/high limits.
#include <optional>
#include <string>
#include <vector>

#include "harness/scenario/scenario.hpp"
#include "harness/signal_table.hpp"

namespace zhil {

struct MeasurementResult {
  std::string name;
  std::string signal;
  std::string aggregate;
  std::string unit;
  std::optional<double> value;  // empty if the window was never sampled
  std::optional<double> low, high;
  std::string outcome;  // PASS, FAIL, INCOMPLETE
  std::string where;
  std::optional<double> marginal_low, marginal_high;
  bool marginal = false;  // PASS, but outside the marginal band
};

class Measurement {
 public:
  // Throws std::runtime_error (with file:line) for an unknown signal or a unit that does not fit.
  Measurement(const MeasurementSpec& spec, const SignalTable& signals);
  void sample(Time now);
  MeasurementResult result(Time end, bool completed) const;
  // A ratio's result, from the results of the measurements it divides (by name).
  bool is_ratio() const { return spec_.aggregate == Aggregate::ratio; }
  MeasurementResult ratio_result(const std::vector<MeasurementResult>& all, Time end, bool completed) const;

  template <class Archive>
  void state(Archive& a) {
    a(any_, acc_, comp_, ref_, last_v_, responded_, missing_, first_, last_);
  }

 private:
  MeasurementSpec spec_;
  const SignalTable* signals_;
  SignalId id_;
  double scale_ = 1.0;  // integral of W in Wh: 1/3600
  bool any_ = false;
  double acc_ = 0;      // max/min/final value, or the running integral of (v - ref_)
  double comp_ = 0;     // Neumaier compensation of acc_
  double ref_ = 0;      // the first value: integrating deviations from it keeps a constant exact
  double last_v_ = 0;
  std::optional<double> responded_;
  bool missing_ = false;  // an integral or mean saw a NaN: its value is not known  // response: when the signal first left its starting value
  Time first_{0}, last_{0};
};

}  // namespace zhil
