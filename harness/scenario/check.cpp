#include "harness/scenario/check.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace zhil {

const char* to_string(CheckOutcome o) {
  switch (o) {
    case CheckOutcome::pass: return "PASS";
    case CheckOutcome::fail: return "FAIL";
    case CheckOutcome::incomplete: return "INCOMPLETE";
  }
  return "?";
}

Check::Check(const CheckSpec& spec, const SignalTable& signals) : spec_(spec), signals_(&signals) {
  try {
    if (spec.kind == CheckKind::settles) {
      signal_ = signals.find(spec.signal);
      if (signal_ == kNoSignal) throw std::runtime_error("unknown signal '" + spec.signal + "'");
      const std::string& su = signals.info(signal_).unit;
      if (!spec.unit.empty() && spec.unit != su)
        throw std::runtime_error("value in " + spec.unit + " but " + spec.signal + " is in " + su);
    } else {
      expression_.emplace(spec.expression, signals);
      // A condition that reads no signal is a constant: it tests nothing about the bench.
      if (expression_->inputs().empty()) throw std::runtime_error("'" + spec.expression + "' reads no signal");
    }
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(spec.where + ": check '" + spec.name + "': " + e.what());
  }
}

Evidence Check::evidence(Time t, std::string what) const {
  Evidence e{to_seconds(t), std::move(what), {}};
  if (expression_)
    for (const auto& [name, id] : expression_->inputs()) e.values.emplace_back(name, signals_->value(id));
  else
    e.values.emplace_back(spec_.signal, signals_->value(signal_));
  return e;
}

void Check::evaluate(Time now) {
  if (now < spec_.from || violated_) return;
  if (spec_.until && now > *spec_.until) return;
  // A comparison with NaN is false, which would let `never` pass on garbage: a non-finite input
  // fails any check that reads it.
  if (expression_) {
    for (const auto& [name, id] : expression_->inputs())
      if (!std::isfinite(signals_->value(id))) {
        violated_ = true;
        evidence_ = evidence(now, name + " is not a finite number");
        return;
      }
  } else if (!std::isfinite(signals_->value(signal_))) {
    violated_ = true;
    evidence_ = evidence(now, spec_.signal + " is not a finite number");
    return;
  }
  // An expression can itself give NaN or infinity from finite inputs (0/0, x/0, log(0)): that is
  // not a truth value, and it is a violation whatever the kind of check. (Only the final value is
  // judged: muParser evaluates both sides of && and ||, so a guarded division, "b > 0 && a / b > 5",
  // may divide by zero on the way without being wrong.)
  double value = 0;
  if (expression_) {
    value = expression_->evaluate();
    if (!std::isfinite(value)) {
      violated_ = true;
      evidence_ = evidence(now, std::string("condition evaluates to ") + (std::isnan(value) ? "NaN" : "infinity"));
      return;
    }
  }
  const bool holds = value != 0.0;
  switch (spec_.kind) {
    case CheckKind::always:
      if (!holds) {
        violated_ = true;
        evidence_ = evidence(now, "condition false");
      }
      break;
    case CheckKind::never:
      if (holds) {
        violated_ = true;
        evidence_ = evidence(now, "condition true");
      }
      break;
    case CheckKind::eventually: {
      if (reached_) return;
      const Time deadline = spec_.from + spec_.within;
      if (now > deadline) {
        violated_ = true;
        evidence_ = evidence(now, "condition not reached within " + std::to_string(to_seconds(spec_.within)) + " s");
      } else if (holds) {
        reached_ = true;
        evidence_ = evidence(now, "condition reached");
      }
      break;
    }
    case CheckKind::settles: {
      const double v = signals_->value(signal_);
      const bool in_band = std::fabs(v - spec_.value) <= spec_.tolerance;
      const Time deadline = spec_.from + spec_.within;
      if (!in_band) last_out_of_band_ = now;
      if (now >= deadline) {
        reached_ = true;
        if (!in_band) {
          violated_ = true;
          std::ostringstream what;
          what << "outside " << spec_.value << " ± " << spec_.tolerance << " after the deadline";
          evidence_ = evidence(now, what.str());
        }
      }
      break;
    }
  }
}

CheckResult Check::result(Time end, bool completed) const {
  CheckResult r;
  r.name = spec_.name;
  r.kind = to_string(spec_.kind);
  r.where = spec_.where;
  if (spec_.kind == CheckKind::settles) {
    std::ostringstream c;
    c << spec_.signal << " -> " << spec_.value << " ± " << spec_.tolerance;
    r.condition = c.str();
  } else {
    r.condition = spec_.expression;
  }
  r.evidence = evidence_;
  if (violated_) {
    r.outcome = CheckOutcome::fail;
    return r;
  }
  // Windows that the run did not get to the end of cannot pass.
  Time window_end = spec_.until.value_or(end);
  if (spec_.kind == CheckKind::eventually) window_end = spec_.from + spec_.within;
  if (spec_.kind == CheckKind::settles) window_end = std::max(window_end, spec_.from + spec_.within);
  const bool covered = end >= window_end || (spec_.kind == CheckKind::eventually && reached_);
  if (!completed && !covered) {
    r.outcome = CheckOutcome::incomplete;
    return r;
  }
  if (spec_.kind == CheckKind::eventually && !reached_) {
    r.outcome = CheckOutcome::fail;
    r.evidence = evidence(end, "condition never reached");
    return r;
  }
  if (spec_.kind == CheckKind::settles && !reached_) {
    r.outcome = CheckOutcome::incomplete;
    return r;
  }
  r.outcome = CheckOutcome::pass;
  return r;
}

}  // namespace zhil
