// The safety envelope clamps every command, whatever the core asks: a randomised core writing wild,
// negative, NaN and infinite setpoints drives the simulated bench for over a million cycles, and a
// spy in front of every device checks each command it is handed against the station's limits,
// computed here independently of the envelope.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include <boost/asio/io_context.hpp>

#include "devices/station_builder.hpp"
#include "harness/simulated_clock.hpp"
#include "harness/config/station_config.hpp"
#include "harness/device_decorator.hpp"
#include "harness/device_roles.hpp"
#include "harness/run.hpp"
#include "harness/safety_envelope.hpp"
#include "test_support.hpp"

using namespace zhil;
using namespace std::chrono_literals;

namespace {

// Writes garbage to every command every cycle.
class RandomCore final : public ControlCore {
 public:
  explicit RandomCore(bool* refused) : refused_(*refused) {}
  void configure(const CoreContext& c, CoreIo& io) override {
    for (const DeviceConfig* d : c.station.with_role("inverter"))
      for (const char* s : {roles::inverter::p_set, roles::inverter::q_set, roles::inverter::grid_forming_enable})
        commands_.push_back(io.command(d->name + "." + s));
    for (const DeviceConfig* d : c.station.with_role("pack"))
      for (const char* s : {roles::pack::contactor_cmd, roles::pack::strip_request})
        commands_.push_back(io.command(d->name + "." + s));
    // What the envelope sets is not the core's to write, nor is what it applied.
    for (const char* s : {".p_limit_discharge", ".p_set.applied"})
      if (!threw([&] { io.command(c.station.with_role("inverter").front()->name + s); })) refused_ = false;
    if (!threw([&] { io.command(c.station.with_role("pack").front()->name + ".i_charge_allowed"); })) refused_ = false;
  }
  bool& refused_;  // the test's: the core goes with the run
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
  template <class F>
  static bool threw(F f) {
    try {
      f();
    } catch (const std::runtime_error&) {
      return true;
    }
    return false;
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

// Sits in front of a real (simulated) device and checks every command handed to it: a decorator
// over the asynchronous device interface.
class CommandSpy final : public DeviceDecorator {
 public:
  CommandSpy(std::unique_ptr<Device> inner, const StationConfig& st, Violations& v)
      : DeviceDecorator(std::move(inner)), st_(st), v_(v) {}

 protected:
  void on_publish(Time stamp, SignalTable& t) override {
    inner_->publish(stamp, t);
    if (role() == "pack" && armed_) check_pack_current(t);
  }
  void on_write(Time now, const SignalTable& t) override {
    check(t);
    DeviceDecorator::on_write(now, t);
  }

 private:
  double val(const SignalTable& t, const std::string& n) const { return t.value(t.find(n)); }
  // What the pack did since the last write, against the state it was in when the commands went out.
  void check_pack_current(const SignalTable& t) {
    const PackLimits& pl = st_.find(name())->pack_limits;
    const double i = val(t, name() + ".i");
    v_.checked += 1;
    const double tol = 0.5;  // A: the voltage moves within a cycle
    if (i < -(pl.i_discharge_max_a + tol)) v_.add(name() + " discharged at " + std::to_string(i) + " A");
    if (i > pl.i_charge_max_a + tol) v_.add(name() + " charged at " + std::to_string(i) + " A");
    if (soc_at_write_ <= pl.soc_min && i < -1e-9) v_.add(name() + " discharged below soc_min: " + std::to_string(i) + " A");
    if (soc_at_write_ >= pl.soc_max && i > 1e-9) v_.add(name() + " charged above soc_max: " + std::to_string(i) + " A");
    if (t_at_write_ >= pl.t_max_c && i != 0.0) v_.add(name() + " carried current while hot");
  }

  void check(const SignalTable& t) {
    const DeviceConfig* d = st_.find(name());
    auto boolean = [&](const std::string& n) {
      const double x = val(t, n);
      ++v_.checked;
      if (x != 0.0 && x != 1.0) v_.add(n + "=" + std::to_string(x));
    };
    if (role() == "pack") {
      boolean(name() + ".contactor_cmd.applied");
      boolean(name() + ".strip_request.applied");
      soc_at_write_ = val(t, name() + ".soc");
      t_at_write_ = val(t, name() + ".t_max");
      armed_ = true;
      return;
    }
    if (role() != "inverter") return;
    boolean(name() + ".grid_forming_enable.applied");
    const double p = val(t, name() + ".p_set.applied"), q = val(t, name() + ".q_set.applied");
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
    if (any_low && p > eps) v_.add(name() + " discharging a bus with an empty pack");
    if (any_high && p < -eps) v_.add(name() + " charging a bus with a full pack");
    const double lim_dis = val(t, name() + ".p_limit_discharge"), lim_ch = val(t, name() + ".p_limit_charge");
    if (!(lim_dis >= 0 && lim_dis <= l.p_discharge_max_w && lim_dis <= dis + eps)) v_.add(name() + " discharge limit " + std::to_string(lim_dis));
    if (!(lim_ch >= 0 && lim_ch <= l.p_charge_max_w && lim_ch <= ch + eps)) v_.add(name() + " charge limit " + std::to_string(lim_ch));
    if (val(t, name() + ".grid_forming_enable.applied") == 1.0 && lim_dis <= 0) v_.add(name() + " may island with no discharge allowed");
    if (std::hypot(p, q) > l.s_max_va * (1 + 1e-9)) v_.add(name() + " past its kVA");
  }

  const StationConfig& st_;
  Violations& v_;
  bool armed_ = false;
  double soc_at_write_ = 0, t_at_write_ = 0;
};

}  // namespace

TEST(SafetyEnvelope, ClampsEveryCommandOfARandomCoreOverAMillionCycles) {
  const std::string dir = test::scratch_dir("envelope");
  // Two packs on one bus, one nearly empty and one nearly full, so that the per-pack rules matter.
  const std::string station = test::write_file(dir, "two-packs.yaml", R"(station: two-packs
core: {name: reference}
devices:
  - {name: grid, role: grid, model: grid-simulator}
  - {name: hall, role: load, model: load-simulator, params: {power: 80 kW}}
  - name: inv1
    role: inverter
    model: inverter-simulator
    params: {file: )" + test::source_path("fixtures/inverters/pcs-750kva.yaml") + R"(, s_rated: 100 kVA, p_rated: 100 kW, i_max: 130 A, no_load_loss: 200 W}
    packs: [pack1, pack2]
    limits: {p_discharge_max: 100 kW, p_charge_max: 100 kW, s_max: 100 kVA, no_load_loss: 300 W}
  - name: pack1
    role: pack
    model: pack-simulator
    params: {file: )" + test::source_path("fixtures/packs/zh-160kwh-16s.yaml") + R"(, initial_soc: 7 %}
    limits: {i_charge_max: 40 A, i_discharge_max: 60 A, soc_min: 5 %, soc_max: 97 %, t_max: 50 degC}
  - name: pack2
    role: pack
    model: pack-simulator
    params: {file: )" + test::source_path("fixtures/packs/zh-160kwh-16s.yaml") + R"(, initial_soc: 95 %, ambient: 38 degC}
    limits: {i_charge_max: 40 A, i_discharge_max: 60 A, soc_min: 5 %, soc_max: 97 %, t_max: 36 degC}
)");
  StationConfig st = load_station(station);
  // 1,000,001 cycles at 100 ms.
  const std::string sc_path = test::write_file(dir, "wild.yaml", R"(scenario: wild-core
duration: 100000 s
record_interval: 1 h
checks: [{name: runs, always: "run.overruns >= 0"}]
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
  bool refused = true;
  RunResult r = execute_run(st, sc, bench, std::make_unique<RandomCore>(&refused), opt);
  EXPECT_EQ(r.verdict, Verdict::pass) << r.error;
  EXPECT_TRUE(refused) << "the core could write a limit or an applied command";
  EXPECT_GE(r.record.cycles, 1'000'000u);
  EXPECT_GE(v.checked, 8'000'000u);
  EXPECT_TRUE(v.found.empty()) << v.found.front();
  EXPECT_GT(r.record.envelope_interventions, 1'000'000u);  // it had plenty to do
}

namespace {
// A bench's signal table, configured and frozen, with no run around it.
struct Table {
  explicit Table(const std::string& station) : st(load_station(test::source_path(station))), bench(build_bench(st, 1)) {
    DeviceContext ctx{t, clock};
    for (auto& d : bench.devices) EXPECT_TRUE(d->configure(ctx));
    t.freeze();
  }
  SignalId id(const std::string& n) const {
    const SignalId i = t.find(n);
    EXPECT_NE(i, kNoSignal) << n;
    return i;
  }
  void pack(double soc, double temp, Time at = Time(0)) {
    t.set(id("pack1.soc"), soc, at);
    t.set(id("pack1.t_max"), temp, at);
    t.set(id("pack1.v"), 860, at);
    t.set(id("pack1.i_discharge_limit"), 95, at);
    t.set(id("pack1.i_charge_limit"), 60, at);
  }
  boost::asio::io_context io;
  SimulatedClock clock{io};
  StationConfig st;
  SignalTable t;
  Bench bench;
};
}  // namespace

TEST(SafetyEnvelope, StaleOrHotPackAllowsNoPower) {
  Table b("fixtures/stations/bench-1pack.yaml");
  SignalTable& t = b.t;
  SafetyEnvelope env(b.st, t);
  const SignalId p_set = b.id("inv1.p_set"), applied = b.id("inv1.p_set.applied");
  b.pack(0.5, 25);
  t.set(p_set, 50e3, Time(0));
  env.apply(t, Time(0));
  EXPECT_EQ(t.value(applied), 50e3);  // inside: let through
  b.pack(0.5, 55);
  env.apply(t, Time(0));
  EXPECT_EQ(t.value(applied), 0.0);  // too hot
  EXPECT_EQ(t.value(p_set), 50e3);   // what the core asked stays as it asked
  b.pack(0.5, 25);
  t.set_quality(b.id("pack1.soc"), Quality::stale);
  env.apply(t, Time(0));
  EXPECT_EQ(t.value(applied), 0.0);  // cannot see the pack
  b.pack(0.02, 25);
  env.apply(t, Time(0));
  EXPECT_EQ(t.value(applied), 0.0);  // empty: no discharge
  t.set(p_set, -50e3, Time(0));
  env.apply(t, Time(0));
  EXPECT_EQ(t.value(applied), -50e3);  // but charging is fine
}

TEST(SafetyEnvelope, ASetpointWrittenOnceIsAppliedWhenTheLimitsAllowIt) {
  // A Python core or an external EMS writes a setpoint once. While the pack is unknown (or its
  // limits are 0) nothing is applied; once they allow it, the request is applied, unchanged.
  Table b("fixtures/stations/bench-1pack.yaml");
  SignalTable& t = b.t;
  SafetyEnvelope env(b.st, t);
  t.set(b.id("inv1.p_set"), 40e3, Time(0));  // once, at t = 0
  for (int cycle = 0; cycle < 10; ++cycle) env.apply(t, Time(std::chrono::milliseconds(100 * cycle)));  // pack unread
  EXPECT_EQ(t.value(b.id("inv1.p_set.applied")), 0.0);
  b.pack(0.5, 25, Time(1s));
  env.apply(t, Time(1s));
  EXPECT_EQ(t.value(b.id("inv1.p_set.applied")), 40e3);
  EXPECT_EQ(t.value(b.id("inv1.p_set")), 40e3);
}

TEST(SafetyEnvelope, ARequestFromBeforeADevicesRecoveryIsNotReplayed) {
  // ros2_control's stale setpoint: after a device comes back, it must not jump to what the core
  // asked before the loss; the core must ask again.
  Table b("fixtures/stations/bench-1pack.yaml");
  SignalTable& t = b.t;
  Device* inv = nullptr;
  for (auto& d : b.bench.devices)
    if (d->name() == "inv1") inv = d.get();
  ASSERT_NE(inv, nullptr);
  SafetyEnvelope env(b.st, t, [&](const std::string& n) { return n == "inv1" ? &inv->health() : nullptr; });
  b.pack(0.5, 25);
  t.set(b.id("inv1.p_set"), 40e3, Time(5s));
  env.apply(t, Time(5s));
  EXPECT_EQ(t.value(b.id("inv1.p_set.applied")), 40e3);
  inv->health().commands_valid_since = Time(10s);  // lost, then answering again at 10 s
  env.apply(t, Time(10s));
  EXPECT_EQ(t.value(b.id("inv1.p_set.applied")), 0.0);
  t.set(b.id("inv1.p_set"), 30e3, Time(10100ms));  // the core speaks again
  env.apply(t, Time(10100ms));
  EXPECT_EQ(t.value(b.id("inv1.p_set.applied")), 30e3);
}

TEST(SafetyEnvelope, OnePackOutsideItsWindowStopsTheBusAndCurrentsStayPerPack) {
  const std::string dir = test::scratch_dir("envelope-bus");
  const std::string path = test::write_file(dir, "s.yaml", R"(station: two
core: {name: reference}
devices:
  - {name: grid, role: grid, model: grid-simulator}
  - name: inv1
    role: inverter
    model: inverter-simulator
    packs: [pack1, pack2]
    limits: {p_discharge_max: 500 kW, p_charge_max: 500 kW, s_max: 500 kVA}
  - {name: pack1, role: pack, model: pack-simulator, limits: {i_charge_max: 60 A, i_discharge_max: 50 A, soc_min: 5 %, soc_max: 97 %, t_max: 50 degC}}
  - {name: pack2, role: pack, model: pack-simulator, limits: {i_charge_max: 60 A, i_discharge_max: 95 A, soc_min: 5 %, soc_max: 97 %, t_max: 50 degC}}
)");
  StationConfig st = load_station(path);
  SignalTable t;
  auto add = [&](const std::string& n, const char* unit, SignalKind k) {
    SignalId id;
    ASSERT_TRUE(t.add(n, unit, k, "test", &id));
  };
  for (const char* p : {"pack1", "pack2"})
    for (const char* s : {"soc", "t_max", "v", "i_charge_limit", "i_discharge_limit"}) add(std::string(p) + "." + s, "1", SignalKind::measurement);
  auto command = [&](const std::string& n) {
    add(n, "1", SignalKind::command);
    add(n + ".applied", "1", SignalKind::applied);
    t.link_applied(t.find(n), t.find(n + ".applied"));
  };
  for (const char* p : {"pack1", "pack2"}) {
    for (const char* s : {"contactor_cmd", "strip_request"}) command(std::string(p) + "." + s);
    for (const char* s : {"i_charge_allowed", "i_discharge_allowed"}) add(std::string(p) + "." + s, "1", SignalKind::limit);
  }
  for (const char* s : {"p_set", "q_set", "grid_forming_enable"}) command(std::string("inv1.") + s);
  for (const char* s : {"p_limit_discharge", "p_limit_charge"}) add(std::string("inv1.") + s, "1", SignalKind::limit);
  add("inv1.p_ac", "W", SignalKind::measurement);
  t.freeze();
  t.set(t.find("inv1.p_ac"), 0, Time(0));
  auto id = [&](const std::string& n) { return t.find(n); };
  auto pack = [&](const char* p, double soc) {
    t.set(id(std::string(p) + ".soc"), soc, Time(0));
    t.set(id(std::string(p) + ".t_max"), 25, Time(0));
    t.set(id(std::string(p) + ".v"), 800, Time(0));
    t.set(id(std::string(p) + ".i_discharge_limit"), 95, Time(0));
    t.set(id(std::string(p) + ".i_charge_limit"), 60, Time(0));
  };
  SafetyEnvelope env(st, t);
  pack("pack1", 0.04);  // below its soc_min
  pack("pack2", 0.60);
  t.set(id("inv1.p_set"), 100e3, Time(0));
  t.set(id("inv1.grid_forming_enable"), 1, Time(0));
  env.apply(t, Time(0));
  EXPECT_EQ(t.value(id("inv1.p_set.applied")), 0.0);  // pack2 alone could, but pack1 would be drained too
  EXPECT_EQ(t.value(id("inv1.p_limit_discharge")), 0.0);
  EXPECT_EQ(t.value(id("inv1.grid_forming_enable.applied")), 0.0);
  t.set(id("inv1.p_set"), -100e3, Time(0));
  env.apply(t, Time(0));
  EXPECT_EQ(t.value(id("inv1.p_set.applied")), -96e3);  // charging it is fine, up to 2 x 60 A x 800 V
  EXPECT_EQ(t.value(id("pack1.i_discharge_allowed")), 0.0);
  EXPECT_EQ(t.value(id("pack1.i_charge_allowed")), 60.0);
  EXPECT_EQ(t.value(id("pack2.i_discharge_allowed")), 95.0);
  // Both in window: pack1's 50 A station limit binds. The bus shares by BMS limits (95 A each),
  // so pack1 carries half: the bus may give 2 x 50 A x 800 V = 80 kW DC, 0.95 x 80 kW AC.
  pack("pack1", 0.5);
  t.set(id("inv1.p_set"), 400e3, Time(0));
  env.apply(t, Time(0));
  EXPECT_NEAR(t.value(id("inv1.p_set.applied")), 0.95 * 80e3, 1e-6);
  EXPECT_NEAR(t.value(id("inv1.p_limit_discharge")), 0.95 * 80e3, 1e-6);
  EXPECT_NEAR(t.value(id("inv1.p_limit_charge")), 2 * 60 * 800, 1e-6);
  // The inverter itself lost (its readings at fault quality): no power either way.
  t.set_quality(id("inv1.p_ac"), Quality::fault);
  t.set(id("inv1.p_set"), -100e3, Time(0));
  env.apply(t, Time(0));
  EXPECT_EQ(t.value(id("inv1.p_set.applied")), 0.0);
  EXPECT_EQ(t.value(id("inv1.p_limit_discharge")), 0.0);
  EXPECT_EQ(t.value(id("inv1.p_limit_charge")), 0.0);
}
