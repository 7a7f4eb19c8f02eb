// The safety envelope clamps every command, whatever the core asks: a randomised core writing wild,
// negative, NaN and infinite setpoints drives the simulated bench for over a million cycles, and a
// spy in front of every device checks each command it is handed against the station's limits,
// computed here independently of the envelope.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "devices/station_builder.hpp"
#include "harness/config/station_config.hpp"
#include "harness/device_roles.hpp"
#include "harness/run.hpp"
#include "harness/safety_envelope.hpp"
#include "test_support.hpp"

using namespace zhil;

namespace {

// Writes garbage to every command every cycle.
class RandomCore final : public ControlCore {
 public:
  void configure(const CoreContext& c, CoreIo& io) override {
    for (const DeviceConfig* d : c.station.with_role("inverter"))
      for (const char* s : {roles::inverter::p_set, roles::inverter::q_set, roles::inverter::grid_forming_enable})
        commands_.push_back(io.command(d->name + "." + s));
    for (const DeviceConfig* d : c.station.with_role("pack"))
      for (const char* s : {roles::pack::contactor_cmd, roles::pack::strip_request})
        commands_.push_back(io.command(d->name + "." + s));
  }
  void step(Time, CoreIo& io) override {
    for (SignalId id : commands_) io.set(id, wild());
  }

 private:
  double wild() {
    switch (rng_() % 10) {
      case 0: return std::numeric_limits<double>::quiet_NaN();
      case 1: return std::numeric_limits<double>::infinity();
      case 2: return -std::numeric_limits<double>::infinity();
      case 3: return std::ldexp(static_cast<double>(rng_() % 2000) - 1000.0, static_cast<int>(rng_() % 200) - 20);
      case 4: return -1e300;
      default: return (static_cast<double>(rng_() % 4'000'001) - 2'000'000.0) * 0.5;  // ±1 MW
    }
  }
  std::mt19937_64 rng_{12345};
  std::vector<SignalId> commands_;
};

struct Violations {
  std::uint64_t checked = 0;
  std::vector<std::string> found;
  void add(const std::string& s) {
    if (found.size() < 20) found.push_back(s);
  }
};

// Sits in front of a real (simulated) device and checks every command handed to it.
class CommandSpy final : public Device {
 public:
  CommandSpy(std::unique_ptr<Device> inner, const StationConfig& st, Violations& v)
      : Device(inner->name(), inner->role()), inner_(std::move(inner)), st_(st), v_(v) {}

 protected:
  Status on_configure(SignalTable& t) override { return inner_->configure(t); }
  Status on_activate(Time now) override { return inner_->activate(now); }
  Status on_read(Time now, SignalTable& t) override { return inner_->read(now, t); }
  Status on_deactivate() override { return inner_->deactivate(); }
  Status on_safe_state() override { return inner_->command_safe_state(); }
  SafeStateReport on_verify_safe_state() override { return inner_->verify_safe_state(); }
  Status on_write(Time now, const SignalTable& t) override {
    check(t);
    return inner_->write(now, t);
  }

 private:
  double val(const SignalTable& t, const std::string& n) const { return t.value(t.find(n)); }
  void check(const SignalTable& t) {
    const DeviceConfig* d = st_.find(name());
    auto boolean = [&](const std::string& n) {
      const double x = val(t, n);
      ++v_.checked;
      if (x != 0.0 && x != 1.0) v_.add(n + "=" + std::to_string(x));
    };
    if (role() == "pack") {
      boolean(name() + ".contactor_cmd");
      boolean(name() + ".strip_request");
      return;
    }
    if (role() != "inverter") return;
    boolean(name() + ".grid_forming_enable");
    const double p = val(t, name() + ".p_set"), q = val(t, name() + ".q_set");
    const InverterLimits& l = d->inverter_limits;
    double dis = 0, ch = 0;
    bool any_low = false, any_high = false;
    for (const std::string& pn : d->packs) {
      const PackLimits& pl = st_.find(pn)->pack_limits;
      const double soc = val(t, pn + ".soc"), temp = val(t, pn + ".t_max"), v = val(t, pn + ".v");
      any_low = any_low || soc <= pl.soc_min;
      any_high = any_high || soc >= pl.soc_max;
      if (temp < pl.t_max_c && soc > pl.soc_min) dis += v * pl.i_discharge_max_a;
      if (temp < pl.t_max_c && soc < pl.soc_max) ch += v * pl.i_charge_max_a;
    }
    v_.checked += 2;
    const double eps = 1e-6;
    if (!std::isfinite(p) || !std::isfinite(q)) return v_.add(name() + " non-finite command");
    if (p > l.p_discharge_max_w + eps || p < -l.p_charge_max_w - eps) v_.add(name() + ".p_set=" + std::to_string(p) + " past the rating");
    if (p > dis + eps) v_.add(name() + ".p_set=" + std::to_string(p) + " past the packs' discharge current");
    if (p < -ch - eps) v_.add(name() + ".p_set=" + std::to_string(p) + " past the packs' charge current");
    if (any_low && d->packs.size() == 1 && p > eps) v_.add(name() + " discharging an empty pack");
    if (any_high && d->packs.size() == 1 && p < -eps) v_.add(name() + " charging a full pack");
    if (std::hypot(p, q) > l.s_max_va * (1 + 1e-9)) v_.add(name() + " past its kVA");
  }

  std::unique_ptr<Device> inner_;
  const StationConfig& st_;
  Violations& v_;
};

}  // namespace

TEST(SafetyEnvelope, ClampsEveryCommandOfARandomCoreOverAMillionCycles) {
  const std::string dir = test::scratch_dir("envelope");
  StationConfig st = load_station(test::source_path("fixtures/stations/bench-1pack.yaml"));
  // 1,000,001 cycles at 100 ms.
  const std::string sc_path = test::write_file(dir, "wild.yaml", R"(scenario: wild-core
duration: 100000 s
record_interval: 1 h
checks: [{name: runs, always: "1"}]
)");
  Scenario sc = load_scenario(sc_path);
  Bench raw = build_bench(st, 1);
  Violations v;
  Bench bench;
  bench.plant = raw.plant;
  for (auto& d : raw.devices) bench.devices.push_back(std::make_unique<CommandSpy>(std::move(d), st, v));
  RunOptions opt;
  opt.out_dir = dir + "/out";
  opt.handle_signals = false;
  RunResult r = execute_run(st, sc, bench, std::make_unique<RandomCore>(), opt);
  EXPECT_EQ(r.verdict, Verdict::pass) << r.error;
  EXPECT_GE(r.record.cycles, 1'000'000u);
  EXPECT_GE(v.checked, 5'000'000u);
  EXPECT_TRUE(v.found.empty()) << v.found.front();
  EXPECT_GT(r.record.envelope_interventions, 1'000'000u);  // it had plenty to do
}

TEST(SafetyEnvelope, StaleOrHotPackAllowsNoPower) {
  StationConfig st = load_station(test::source_path("fixtures/stations/bench-1pack.yaml"));
  SignalTable t;
  Bench bench = build_bench(st, 1);
  for (auto& d : bench.devices) ASSERT_TRUE(d->configure(t));
  t.freeze();
  SafetyEnvelope env(st, t);
  auto id = [&](const char* n) { return t.find(n); };
  auto good = [&](double soc, double temp) {
    t.set(id("pack1.soc"), soc, Time(0));
    t.set(id("pack1.t_max"), temp, Time(0));
    t.set(id("pack1.v"), 860, Time(0));
  };
  good(0.5, 25);
  t.set(id("inv1.p_set"), 50e3, Time(0));
  env.apply(t);
  EXPECT_EQ(t.value(id("inv1.p_set")), 50e3);  // inside: untouched
  good(0.5, 55);
  env.apply(t);
  EXPECT_EQ(t.value(id("inv1.p_set")), 0.0);  // too hot
  good(0.5, 25);
  t.set(id("inv1.p_set"), 50e3, Time(0));
  t.set_quality(id("pack1.soc"), Quality::stale);
  env.apply(t);
  EXPECT_EQ(t.value(id("inv1.p_set")), 0.0);  // cannot see the pack
  good(0.02, 25);
  t.set(id("inv1.p_set"), 50e3, Time(0));
  env.apply(t);
  EXPECT_EQ(t.value(id("inv1.p_set")), 0.0);  // empty: no discharge
  t.set(id("inv1.p_set"), -50e3, Time(0));
  env.apply(t);
  EXPECT_EQ(t.value(id("inv1.p_set")), -50e3);  // but charging is fine
}
