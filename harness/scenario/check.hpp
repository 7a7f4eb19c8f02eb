#pragma once
// Checks evaluated every cycle: always / never (a condition over a window), eventually (becomes
// true before a deadline), settles (a signal enters value ± tolerance by a deadline and stays). Each
// keeps the evidence of its first violation: time and the values of the signals involved.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/scenario/expression.hpp"
#include "harness/scenario/scenario.hpp"
#include "harness/signal_table.hpp"

namespace zhil {

struct Evidence {
  double t_s = 0;
  std::string what;
  std::vector<std::pair<std::string, double>> values;

  template <class Archive>
  void serialize(Archive& a) {
    a(t_s, what, values);
  }
};

enum class CheckOutcome { pass, fail, incomplete };
const char* to_string(CheckOutcome o);

struct CheckResult {
  std::string name;
  std::string kind;
  std::string condition;  // the expression, or "signal -> value ± tolerance"
  std::string where;
  CheckOutcome outcome = CheckOutcome::incomplete;
  std::optional<Evidence> evidence;
};

class Check {
 public:
  // Throws std::runtime_error prefixed with the check's file:line if a signal is unknown.
  Check(const CheckSpec& spec, const SignalTable& signals);
  void evaluate(Time now);
  bool violated() const { return violated_; }  // failed, for good
  // end: the time of the last evaluated cycle; completed: false when the run stopped early.
  CheckResult result(Time end, bool completed) const;

  // A checkpoint's part (harness/checkpoint/state_archive.hpp).
  template <class Archive>
  void state(Archive& a) {
    a(violated_, reached_, evidence_, last_out_of_band_);
  }

 private:
  Evidence evidence(Time t, std::string what) const;

  CheckSpec spec_;
  const SignalTable* signals_;
  std::optional<Expression> expression_;
  SignalId signal_ = kNoSignal;
  bool violated_ = false;
  bool reached_ = false;  // eventually: condition seen; settles: in band after the deadline so far
  std::optional<Evidence> evidence_;
  Time last_out_of_band_{-1};
};

}  // namespace zhil
