// Checks and measurements against a hand-driven signal table.
#include <gtest/gtest.h>

#include <cmath>

#include "harness/scenario/check.hpp"
#include "harness/scenario/expression.hpp"
#include "harness/scenario/measurement.hpp"

using namespace zhil;
using namespace std::chrono_literals;

namespace {

struct Table {
  SignalTable t;
  SignalId x, y;
  Table() {
    (void)t.add("dev.x", "W", SignalKind::measurement, "dev", &x);
    (void)t.add("dev.y", "1", SignalKind::measurement, "dev", &y);
    t.freeze();
  }
};

CheckSpec spec(CheckKind kind, std::string expr) {
  CheckSpec s;
  s.name = "c";
  s.kind = kind;
  s.expression = std::move(expr);
  s.where = "test.yaml:1:1";
  return s;
}

// Runs a check over x(t) for t = 0..10 s in 1 s steps.
CheckResult run(CheckSpec s, const std::function<double(int)>& x, int end = 10) {
  Table tb;
  Check c(s, tb.t);
  for (int i = 0; i <= end; ++i) {
    tb.t.set(tb.x, x(i), Time(std::chrono::seconds(i)));
    c.evaluate(Time(std::chrono::seconds(i)));
  }
  return c.result(Time(std::chrono::seconds(end)), true);
}

}  // namespace

TEST(Expression, EvaluatesAgainstLiveValues) {
  Table tb;
  Expression e("dev.x > 5 && !(dev.y == 1)", tb.t);
  tb.t.set(tb.x, 6, Time(0));
  EXPECT_TRUE(e.holds());
  tb.t.set(tb.y, 1, Time(0));
  EXPECT_FALSE(e.holds());
  ASSERT_EQ(e.inputs().size(), 2u);
  EXPECT_THROW(Expression("dev.nope > 1", tb.t), std::runtime_error);
  Expression a("abs(dev.x) <= 3", tb.t);
  tb.t.set(tb.x, -2, Time(0));
  EXPECT_TRUE(a.holds());
}

TEST(Check, AlwaysFailsAtFirstViolationWithEvidence) {
  CheckResult r = run(spec(CheckKind::always, "dev.x < 5"), [](int i) { return i; });
  EXPECT_EQ(r.outcome, CheckOutcome::fail);
  ASSERT_TRUE(r.evidence);
  EXPECT_EQ(r.evidence->t_s, 5.0);
  ASSERT_EQ(r.evidence->values.size(), 1u);
  EXPECT_EQ(r.evidence->values[0].first, "dev.x");
  EXPECT_EQ(r.evidence->values[0].second, 5.0);
}

TEST(Check, AlwaysPassesAndRespectsWindow) {
  EXPECT_EQ(run(spec(CheckKind::always, "dev.x < 100"), [](int i) { return i; }).outcome, CheckOutcome::pass);
  CheckSpec s = spec(CheckKind::always, "dev.x < 5");
  s.from = Time(0s);
  s.until = Time(4s);
  EXPECT_EQ(run(s, [](int i) { return i; }).outcome, CheckOutcome::pass);
  s.from = Time(6s);
  s.until.reset();
  EXPECT_EQ(run(s, [](int) { return 0.0; }).outcome, CheckOutcome::pass);
}

TEST(Check, Never) {
  EXPECT_EQ(run(spec(CheckKind::never, "dev.x == 7"), [](int i) { return i; }).outcome, CheckOutcome::fail);
  EXPECT_EQ(run(spec(CheckKind::never, "dev.x == 70"), [](int i) { return i; }).outcome, CheckOutcome::pass);
}

TEST(Check, EventuallyWithin) {
  CheckSpec s = spec(CheckKind::eventually, "dev.x >= 3");
  s.from = Time(1s);
  s.within = 3s;
  EXPECT_EQ(run(s, [](int i) { return i; }).outcome, CheckOutcome::pass);  // true at 3 s <= 4 s
  s.within = 1s;
  CheckResult r = run(s, [](int i) { return i; });  // deadline 2 s, true only at 3 s
  EXPECT_EQ(r.outcome, CheckOutcome::fail);
  ASSERT_TRUE(r.evidence);
  EXPECT_EQ(r.evidence->t_s, 3.0);
}

TEST(Check, SettlesWithinAndStays) {
  CheckSpec s;
  s.name = "settle";
  s.kind = CheckKind::settles;
  s.signal = "dev.x";
  s.value = 100;
  s.tolerance = 5;
  s.from = Time(0s);
  s.within = 4s;
  s.where = "t:1:1";
  // approaches 100 by 3 s, stays
  EXPECT_EQ(run(s, [](int i) { return i >= 3 ? 101.0 : 50.0; }).outcome, CheckOutcome::pass);
  // approaches too late
  EXPECT_EQ(run(s, [](int i) { return i >= 6 ? 101.0 : 50.0; }).outcome, CheckOutcome::fail);
  // settles, then leaves the band
  CheckResult r = run(s, [](int i) { return i == 8 ? 120.0 : 100.0; });
  EXPECT_EQ(r.outcome, CheckOutcome::fail);
  EXPECT_EQ(r.evidence->t_s, 8.0);
}

TEST(Check, IncompleteWhenTheRunStopsEarly) {
  Table tb;
  CheckSpec s = spec(CheckKind::always, "dev.x < 5");
  s.until = Time(10s);  // the loader sets `until` to the scenario's end when the file does not
  Check c(s, tb.t);
  c.evaluate(Time(0s));
  EXPECT_EQ(c.result(Time(0s), false).outcome, CheckOutcome::incomplete);
}

TEST(Measurement, AggregatesWithUnitsAndLimits) {
  Table tb;
  MeasurementSpec m;
  m.name = "energy";
  m.signal = "dev.x";
  m.aggregate = Aggregate::integral;
  m.unit = "Wh";
  m.low = 0.9;
  m.high = 1.1;
  m.where = "t:1:1";
  Measurement meas(m, tb.t);
  for (int i = 0; i <= 3600; ++i) {
    tb.t.set(tb.x, 1.0, Time(std::chrono::seconds(i)));
    meas.sample(Time(std::chrono::seconds(i)));
  }
  MeasurementResult r = meas.result(Time(3600s), true);
  EXPECT_NEAR(*r.value, 1.0, 1e-12);  // 1 W for 1 h = 1 Wh
  EXPECT_EQ(r.outcome, "PASS");
  m.unit = "W";
  EXPECT_THROW(Measurement(m, tb.t), std::runtime_error);  // integral of W is not in W
  m.aggregate = Aggregate::max;
  m.high = 0.5;
  Measurement mx(m, tb.t);
  tb.t.set(tb.x, 2.0, Time(0));
  mx.sample(Time(0));
  EXPECT_EQ(mx.result(Time(0), true).outcome, "FAIL");
}

TEST(Check, NonFiniteInputsFailEvenNever) {
  CheckResult r = run(spec(CheckKind::never, "dev.x > 1"), [](int i) { return i == 4 ? NAN : 0.0; });
  EXPECT_EQ(r.outcome, CheckOutcome::fail);
  ASSERT_TRUE(r.evidence);
  EXPECT_EQ(r.evidence->t_s, 4.0);
  EXPECT_NE(r.evidence->what.find("not a finite number"), std::string::npos);
}

// Energy in and out, response times, ratios and marginal bands (the acceptance gate's measurements).
TEST(Measurement, EnergyInAndOutResponseRatioAndMarginalBands) {
  Table tb;
  auto make = [&](Aggregate a, const std::string& unit) {
    MeasurementSpec m;
    m.name = to_string(a);
    m.signal = "dev.x";
    m.aggregate = a;
    m.unit = unit;
    m.where = "t:1:1";
    return m;
  };
  MeasurementSpec in_spec = make(Aggregate::positive_integral, "Wh"), out_spec = make(Aggregate::negative_integral, "Wh");
  MeasurementSpec resp_spec = make(Aggregate::response, "s");
  resp_spec.from = Time(100s);
  Measurement in(in_spec, tb.t), out(out_spec, tb.t), resp(resp_spec, tb.t);
  // 1 h charging at 2 W, then 1 h discharging at 1 W.
  for (int i = 0; i <= 7200; ++i) {
    tb.t.set(tb.x, i < 3600 ? 2.0 : -1.0, Time(std::chrono::seconds(i)));
    in.sample(Time(std::chrono::seconds(i)));
    out.sample(Time(std::chrono::seconds(i)));
    resp.sample(Time(std::chrono::seconds(i)));
  }
  const auto rin = in.result(Time(7200s), true), rout = out.result(Time(7200s), true);
  EXPECT_NEAR(*rin.value, 2.0, 1e-3);   // 2 W x 1 h, the crossing's half-second trapezoid aside
  EXPECT_NEAR(*rout.value, 1.0, 1e-3);  // the magnitude of what went out
  const auto rresp = resp.result(Time(7200s), true);
  ASSERT_TRUE(rresp.value);
  EXPECT_DOUBLE_EQ(*rresp.value, 3500.0);  // first differs from its value at 100 s at 3600 s
  // A ratio of the two, in %, with a marginal band: 50 % passes inside [40, 60] but below 55: marginal.
  MeasurementSpec ratio = make(Aggregate::ratio, "%");
  ratio.ratio_of = out_spec.name;
  ratio.ratio_over = in_spec.name;
  ratio.low = 40;
  ratio.high = 60;
  ratio.marginal_low = 55;
  Measurement rm(ratio, tb.t);
  const auto rr = rm.ratio_result({rin, rout}, Time(7200s), true);
  ASSERT_TRUE(rr.value);
  EXPECT_NEAR(*rr.value, 50.0, 0.1);
  EXPECT_EQ(rr.outcome, "PASS");
  EXPECT_TRUE(rr.marginal);
  ratio.marginal_low = 45;
  EXPECT_FALSE(Measurement(ratio, tb.t).ratio_result({rin, rout}, Time(7200s), true).marginal);
  // A response that never comes fails; a missing value (NaN) is not decided, not 0 kWh.
  Measurement never(resp_spec, tb.t);
  tb.t.set(tb.x, 1.0, Time(0));
  never.sample(Time(100s));
  never.sample(Time(200s));
  EXPECT_EQ(never.result(Time(200s), true).outcome, "FAIL");
  Measurement nan_out(out_spec, tb.t);
  for (int i = 0; i < 10; ++i) {
    tb.t.set(tb.x, i == 5 ? NAN : -1.0, Time(std::chrono::seconds(i)));
    nan_out.sample(Time(std::chrono::seconds(i)));
  }
  const auto rn = nan_out.result(Time(9s), true);
  EXPECT_EQ(rn.outcome, "INCOMPLETE");
  EXPECT_FALSE(rn.value);
  // A maximum looks past a device not read yet (NaN first), and a response starts from a value.
  Measurement mx(make(Aggregate::max, "W"), tb.t), resp2(make(Aggregate::response, "s"), tb.t);
  for (int i = 0; i < 5; ++i) {
    tb.t.set(tb.x, i == 0 ? NAN : i < 3 ? 1.0 : 4.0, Time(std::chrono::seconds(i)));
    mx.sample(Time(std::chrono::seconds(i)));
    resp2.sample(Time(std::chrono::seconds(i)));
  }
  EXPECT_EQ(mx.result(Time(4s), true).value, 4.0);
  EXPECT_EQ(resp2.result(Time(4s), true).value, 2.0);  // from its first value at 1 s to the change at 3 s
}
