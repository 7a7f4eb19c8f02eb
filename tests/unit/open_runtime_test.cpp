// The open runtime: runs as objects (step, until, stop, finish), timeline events at their own
// time, exact times in the files, asynchronous device I/O with deadlines (late devices, write
// failures, lost devices), the safe state with the loop alive, registries, typed links, sinks and
// record selection, and a run that leaves its host program as it found it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sys/prctl.h>

#include <boost/asio/io_context.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "devices/sim/inverter_model.hpp"
#include "devices/station_builder.hpp"
#include "harness/config/config_error.hpp"
#include "harness/device_registry.hpp"
#include "harness/recording/signal_selection.hpp"
#include "harness/run.hpp"
#include "harness/in_process_device.hpp"
#include "harness/simulated_clock.hpp"
#include "test_support.hpp"

using namespace zhil;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

std::string read(const std::string& path) { return test::read_file(path); }

// The one-pack bench with fixtures named by absolute path, so the file may live anywhere; `hall`
// and `extra` let a test change the load or add keys to every device.
std::string bench_station(const std::string& dir, const std::string& extra_station = "",
                          const std::string& hall_params = "{power: 80 kW}", const std::string& device_extra = "",
                          const std::string& inverter_model = "inverter-simulator",
                          const std::string& pack_model = "pack-simulator", const std::string& pack_extra = "") {
  return test::write_file(dir, "station.yaml", "station: bench\ncycle: 100 ms\n" + extra_station + R"(
core:
  name: reference
  params: {grid_import_limit: 100 kW, import_margin: 1 kW, import_ramp_limit: 5 kW/s, charge_margin: 5 kW,
           soc_reserve: 30 %, soc_max: 95 %, pack_energy: 159 kWh}
devices:
  - {name: grid, role: grid, model: grid-simulator)" + (device_extra.empty() ? "" : ", " + device_extra) + R"(}
  - {name: hall, role: load, model: load-simulator, params: )" + hall_params + (device_extra.empty() ? "" : ", " + device_extra) + R"(}
  - name: inv1
    role: inverter
    model: )" + inverter_model + R"(
    params: {file: )" + test::source_path("fixtures/inverters/pcs-750kva.yaml") +
                                              R"(, s_rated: 100 kVA, p_rated: 100 kW, i_max: 130 A, ramp_rate: 1 MW/s, no_load_loss: 200 W}
    packs: [pack1]
    limits: {p_discharge_max: 100 kW, p_charge_max: 100 kW, s_max: 100 kVA, no_load_loss: 300 W})" +
                                              (device_extra.empty() ? "" : "\n    " + device_extra) + R"(
  - name: pack1
    role: pack
    model: )" + pack_model + R"(
    params: {file: )" + test::source_path("fixtures/packs/zh-160kwh-16s.yaml") + R"(, serial: ZH-T-1}
    limits: {i_charge_max: 60 A, i_discharge_max: 95 A, soc_min: 5 %, soc_max: 97 %, t_max: 50 degC})" +
                                              (device_extra.empty() ? "" : "\n    " + device_extra) + pack_extra + "\n");
}

struct Fixture {
  Fixture(const std::string& name, const std::string& scenario_text, const std::string& station_file = "")
      : dir(test::scratch_dir(name + "-run")),
        st(load_station(station_file.empty() ? bench_station(dir) : station_file)),
        sc(load_scenario(test::write_file(dir, "scenario.yaml", scenario_text))),
        bench(build_bench(st, sc.seed)) {
    opt.out_dir = dir + "/out";
    opt.handle_signals = false;
    opt.seed = sc.seed;
  }
  std::unique_ptr<Run> make(std::unique_ptr<ControlCore> core = nullptr) {
    if (!core) core = CoreRegistry::instance().create(st.core);
    return std::make_unique<Run>(st, sc, bench, std::move(core), opt);
  }
  RunResult run(std::unique_ptr<ControlCore> core = nullptr) {
    if (!core) core = CoreRegistry::instance().create(st.core);
    return execute_run(st, sc, bench, std::move(core), opt);
  }
  std::string csv() const { return read(opt.out_dir + "/timeseries.csv"); }
  std::string dir;
  StationConfig st;
  Scenario sc;
  Bench bench;
  RunOptions opt;
};

const char* kQuiet = R"(scenario: quiet
duration: 2 min
record_interval: 1 s
timeline:
  - at: 0 s
    load: {profile: ai_training, level: 90 kW, swing: 30 %, period: [0.5 s, 2 s]}
checks:
  - {name: no_unserved, always: "hall.p_unserved < 1"}
)";

// Discharges at a fixed setpoint: the inverter has power to ramp down when the run ends.
class SetpointCore final : public ControlCore {
 public:
  explicit SetpointCore(double p_w, bool once = false) : p_(p_w), once_(once) {}
  void configure(const CoreContext&, CoreIo& io) override {
    p_set_ = io.command("inv1.p_set");
    contactor_ = io.command("pack1.contactor_cmd");
  }
  void step(Time, CoreIo& io) override {
    if (once_ && written_) return;
    io.set(p_set_, p_);
    io.set(contactor_, 1);
    written_ = true;
  }

 private:
  double p_;
  bool once_, written_ = false;
  SignalId p_set_ = kNoSignal, contactor_ = kNoSignal;
};

std::size_t column(const std::string& csv, const std::string& name) {
  std::istringstream in(csv);
  std::string header;
  std::getline(in, header);
  std::istringstream h(header);
  std::size_t k = 0;
  for (std::string c; std::getline(h, c, ','); ++k)
    if (c == name) return k;
  return std::string::npos;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Runs are objects

TEST(RunObject, SteppingIsTheSamePathAsRunningToTheEnd) {
  Fixture a("steps-a", kQuiet);
  RunResult whole = a.run();
  ASSERT_EQ(whole.verdict, Verdict::pass) << whole.error;

  Fixture b("steps-b", kQuiet);
  auto run = b.make();
  ASSERT_TRUE(run->setup());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(run->step());
  EXPECT_EQ(run->cycles(), 10u);
  EXPECT_EQ(run->last_cycle_time(), Time(900ms));
  ASSERT_TRUE(run->until(Time(60s)));
  EXPECT_EQ(run->last_cycle_time(), Time(60s));
  EXPECT_EQ(run->signals().quality(run->signals().find("pack1.soc")), Quality::good);
  while (run->step()) {
  }
  RunResult stepped = run->finish();
  EXPECT_EQ(stepped.verdict, Verdict::pass) << stepped.error;
  EXPECT_EQ(a.csv(), b.csv());
  EXPECT_EQ(stepped.record.cycles, whole.record.cycles);
  EXPECT_EQ(run->finish().verdict, Verdict::pass);  // idempotent
}

TEST(RunObject, AStopRequestEndsAfterTheCycleAndTheBenchIsSafe) {
  Fixture f("stop", kQuiet);
  auto run = f.make(std::make_unique<SetpointCore>(60e3));
  ASSERT_TRUE(run->until(Time(30s)));
  run->request_stop(Verdict::aborted, "operator stop");
  EXPECT_FALSE(run->step());
  RunResult r = run->finish();
  EXPECT_EQ(r.verdict, Verdict::aborted);
  EXPECT_EQ(r.error, "operator stop");
  EXPECT_EQ(r.record.end_s, 30.0);
  for (const auto& s : r.record.safe_state) EXPECT_TRUE(s.commanded && s.verified) << s.device << ": " << s.detail;
  EXPECT_EQ(nlohmann::json::parse(read(r.record_path))["checks"][0]["verdict"], "INCOMPLETE");
}

TEST(RunObject, AHostThatLetsGoOfARunStillGetsTheSafeStateAndTheRecord) {
  Fixture f("dropped", kQuiet);
  {
    auto run = f.make(std::make_unique<SetpointCore>(60e3));
    ASSERT_TRUE(run->until(Time(5s)));
  }  // destroyed mid-run
  auto j = nlohmann::json::parse(read(f.opt.out_dir + "/record.json"));
  EXPECT_EQ(j["verdict"], "ABORTED");
  for (const auto& s : j["safe_state"]) EXPECT_TRUE(s["verified"].get<bool>()) << s.dump();
}

// ---------------------------------------------------------------------------------------------
// Timeline events at their own time

namespace {
std::string sag(double at_s, double length_s, const std::string& check) {
  std::ostringstream o;
  o << "scenario: sag\nduration: 30 s\nrecord_interval: 1 s\ntimeline:\n  - at: 0 s\n    load: {power: 60 kW}\n"
    << "  - at: " << at_s << " s\n    grid: {voltage: 0.5}\n  - at: " << at_s + length_s
    << " s\n    grid: {voltage: 1}\nchecks:\n  - " << check << "\n";
  return o.str();
}
}  // namespace

TEST(TimelineEvents, A50msSagBetweenCyclesReachesTheLoad) {
  // 0.5 pu for 50 ms is outside the ITIC curve (0 % only to 20 ms, 70 % to 0.5 s): IT power
  // supplies drop out and the load leaves for its backup. With events applied at the next cycle,
  // the sag at 10.01 s and its end at 10.06 s both landed at 10.1 s and the load never saw it.
  const std::string dir = test::scratch_dir("sag50");
  Fixture f("sag50", sag(10.01, 0.05, "{name: transfers, eventually: \"hall.on_backup == 1\", from: 10 s, within: 1 s}"),
            bench_station(dir, "", "{power: 80 kW, itic: true}"));
  RunResult r = f.run();
  EXPECT_EQ(r.verdict, Verdict::pass) << r.error;
}

TEST(TimelineEvents, A10msSagOnACycleBoundaryIsNotStretchedToACycle) {
  // 10 ms at 0.5 pu rides through the ITIC curve; stretched to the 100 ms cycle it would not.
  const std::string dir = test::scratch_dir("sag10");
  Fixture f("sag10", sag(10.0, 0.01, "{name: rides_through, never: \"hall.on_backup\"}"),
            bench_station(dir, "", "{power: 80 kW, itic: true}"));
  RunResult r = f.run();
  EXPECT_EQ(r.verdict, Verdict::pass) << r.error;
  // And the same sag for 30 ms does transfer: the test can tell the two apart.
  const std::string dir2 = test::scratch_dir("sag30");
  Fixture g("sag30", sag(10.0, 0.03, "{name: rides_through, never: \"hall.on_backup\"}"),
            bench_station(dir2, "", "{power: 80 kW, itic: true}"));
  EXPECT_EQ(g.run().verdict, Verdict::fail);
}

TEST(ExactTimes, TimesAreWrittenAsTheScenarioWroteThem) {
  Fixture f("exact", R"(scenario: exact
duration: 40 s
timeline:
  - at: 29.4 s
    grid: {voltage: 0.8}
checks:
  - {name: sag_seen, never: "grid.v_pu < 0.9"}
)");
  RunResult r = f.run();
  EXPECT_EQ(r.verdict, Verdict::fail);
  const std::string csv = f.csv();
  EXPECT_NE(csv.find("\n29.4,"), std::string::npos);
  EXPECT_NE(csv.find("\n0.3,"), std::string::npos);
  EXPECT_EQ(csv.find("29.400000000000002"), std::string::npos);
  EXPECT_EQ(csv.find("0.30000000000000004"), std::string::npos);
  ASSERT_TRUE(r.record.checks[0].evidence);
  EXPECT_EQ(r.record.checks[0].evidence->t_s, 29.4);
  EXPECT_NE(read(r.record_path).find("\"t\": 29.4,"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Asynchronous device I/O

TEST(AsyncIo, DevicesThatTake10msAreReadAndWrittenTogetherAndRepeatably) {
  const char* text = R"(scenario: latency
duration: 2 min
record_interval: 1 s
timeline:
  - at: 0 s
    load: {profile: ai_training, level: 90 kW, swing: 30 %, period: [0.5 s, 2 s]}
checks:
  - {name: on_time, always: "run.late_devices == 0 && run.overruns == 0"}
  - {name: no_unserved, always: "hall.p_unserved < 1"}
)";
  std::string a_csv, b_csv;
  for (int k = 0; k < 2; ++k) {
    const std::string dir = test::scratch_dir("latency" + std::to_string(k));
    Fixture f("latency" + std::to_string(k), text,
              bench_station(dir, "", "{power: 80 kW}", "link: {type: in-process, latency: 10 ms}"));
    Time core_ran_at{-1};
    f.opt.after_cycle = [&](Time, const SignalTable& t) {
      if (core_ran_at < Time(0)) core_ran_at = t.stamp(t.find("pack1.soc"));
    };
    RunResult r = f.run();
    EXPECT_EQ(r.verdict, Verdict::pass) << r.error;
    EXPECT_EQ(r.record.overruns, 0u);
    EXPECT_EQ(r.record.late_device_io, 0u);
    // All four devices answered 10 ms after they were asked, together: the readings of the first
    // cycle are stamped 10 ms, not 40 ms.
    EXPECT_EQ(core_ran_at, Time(10ms));
    (k == 0 ? a_csv : b_csv) = f.csv();
  }
  EXPECT_EQ(a_csv, b_csv);
}

TEST(AsyncIo, ALateDeviceTurnsStaleWithoutHoldingUpTheOthersAndIsLostAfterFaultAfter) {
  const std::string dir = test::scratch_dir("late");
  // pack1's link slows to 60 ms; the station gives it 30 ms. (A station that asked for 60 ms at
  // once is refused before the run: see AStationLinkSlowerThanItsDeadlineIsRefusedBeforeTheRun.)
  Fixture f("late", R"(scenario: late
duration: 1 min
checks:
  - {name: late_seen, never: "run.late_devices > 0"}
)",
            bench_station(dir, "fault_after: 3 s\n", "{power: 80 kW}", "", "inverter-simulator", "pack-simulator",
                          "\n    link: {type: in-process, latency: 20 ms}\n    deadline: 30 ms"));
  for (auto& d : f.bench.devices)
    if (d->name() == "pack1") dynamic_cast<InProcessDevice&>(*d).set_latency(std::chrono::milliseconds(60));
  std::vector<std::pair<Time, Quality>> pack, grid;
  f.opt.after_cycle = [&](Time t, const SignalTable& s) {
    pack.emplace_back(t, s.quality(s.find("pack1.soc")));
    grid.emplace_back(t, s.quality(s.find("grid.v_pu")));
  };
  RunResult r = f.run();
  EXPECT_EQ(r.verdict, Verdict::error);
  EXPECT_NE(r.error.find("pack1"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("within 30 ms"), std::string::npos) << r.error;
  EXPECT_EQ(r.record.end_s, 3.0);  // fault_after from the station
  ASSERT_FALSE(pack.empty());
  for (const auto& [t, q] : grid) EXPECT_EQ(q, Quality::good) << to_seconds(t);  // the others were not held up
  EXPECT_EQ(pack.front().second, Quality::stale);
  EXPECT_EQ(pack.back().second, Quality::fault);
  EXPECT_EQ(r.record.checks[0].outcome, CheckOutcome::fail);  // a scenario can check lateness
}

namespace {
// Fails the writes (or reads) of the device it wraps while the clock is inside [from, to).
class FlakyDevice final : public test::DeviceDecorator {
 public:
  FlakyDevice(std::unique_ptr<Device> inner, DeviceOp op, Time from, Time to)
      : DeviceDecorator(std::move(inner)), op_(op), from_(from), to_(to) {}
  static inline std::uint64_t refused = 0;

 protected:
  void on_write(Time now, const SignalTable& t) override {
    if (op_ == DeviceOp::write && now >= from_ && now < to_) {
      ++refused;
      complete(Status::error("refused (test)"));
      return;
    }
    DeviceDecorator::on_write(now, t);
  }

 private:
  DeviceOp op_;
  Time from_, to_;
};
}  // namespace

TEST(AsyncIo, AStationLinkSlowerThanItsDeadlineIsRefusedBeforeTheRun) {
  const std::string dir = test::scratch_dir("late-refused");
  Fixture f("late-refused", "scenario: late\nduration: 1 min\nchecks: [{name: c, always: \"run.late_devices == 0\"}]\n",
            bench_station(dir, "", "{power: 80 kW}", "", "inverter-simulator", "pack-simulator",
                          "\n    link: {type: in-process, latency: 60 ms}\n    deadline: 30 ms"));
  auto run = f.make();
  Status s = run->prepare();
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("station.yaml:"));
  EXPECT_THAT(s.message(), HasSubstr("link latency 0.06 s is not below its I/O deadline of 0.03 s"));
  EXPECT_FALSE(std::filesystem::exists(f.opt.out_dir));  // nothing created
}

TEST(AsyncIo, FailedWritesAreSentAgainAndOnlyAFaultAfterLongerThanFaultAfter) {
  for (const auto& [to, expected] : {std::pair<Time, Verdict>{Time(11s), Verdict::pass}, {Time(14s), Verdict::error}}) {
    test::ScopedDecoratedModel flaky("flaky-inverter", "inverter-simulator", [to = to](std::unique_ptr<Device> d) {
      return std::make_unique<FlakyDevice>(std::move(d), DeviceOp::write, Time(10s), to);
    });
    const std::string dir = test::scratch_dir("flaky");
    Fixture f("flaky", kQuiet, bench_station(dir, "", "{power: 80 kW}", "", "flaky-inverter"));
    FlakyDevice::refused = 0;
    RunResult r = f.run(std::make_unique<SetpointCore>(50e3));
    EXPECT_EQ(r.verdict, expected) << r.error;
    if (expected == Verdict::pass) {
      EXPECT_EQ(FlakyDevice::refused, 10u);  // every cycle of the second was tried again
      bool failed = false, again = false;
      for (const auto& e : r.record.events) {
        failed = failed || (e.t_s == 10.0 && e.what.find("inv1: write: refused (test)") != std::string::npos);
        again = again || (e.t_s == 11.0 && e.what.find("inv1: writes answered again") != std::string::npos);
      }
      EXPECT_TRUE(failed && again);
    } else {
      EXPECT_NE(r.error.find("inv1: write: refused (test)"), std::string::npos) << r.error;
      EXPECT_EQ(r.record.end_s, 12.0);  // 2 s of failed writes
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Safe state with the loop alive

namespace {
std::vector<std::string> g_safe_order;
class OrderRecorder final : public test::DeviceDecorator {
 public:
  using DeviceDecorator::DeviceDecorator;

 protected:
  void on_safe_state() override {
    g_safe_order.push_back(name());
    DeviceDecorator::on_safe_state();
  }
};
}  // namespace

TEST(SafeState, PowerFirstContactorsLastAndTheInverterRampIsWaitedFor) {
  std::vector<std::unique_ptr<test::ScopedDecoratedModel>> models;
  for (const char* m : {"grid-simulator", "load-simulator", "inverter-simulator", "pack-simulator"})
    models.push_back(std::make_unique<test::ScopedDecoratedModel>(
        std::string("ordered-") + m, m, [](std::unique_ptr<Device> d) { return std::make_unique<OrderRecorder>(std::move(d)); }));
  const std::string dir = test::scratch_dir("order");
  std::string station = read(bench_station(dir));
  for (const char* m : {"grid-simulator", "load-simulator", "inverter-simulator", "pack-simulator"})
    station.replace(station.find(std::string("model: ") + m), 7 + std::strlen(m), std::string("model: ordered-") + m);
  // Devices listed pack first, grid first: the order of the file must not matter.
  Fixture f("order", kQuiet, test::write_file(dir, "ordered.yaml", station));
  g_safe_order.clear();
  auto run = f.make(std::make_unique<SetpointCore>(90e3));
  ASSERT_TRUE(run->until(Time(20s)));
  EXPECT_GT(run->signals().value(run->signals().find("inv1.p_ac")), 50e3);  // power flowing at the stop
  run->request_stop(Verdict::aborted, "stop");
  RunResult r = run->finish();
  EXPECT_EQ(g_safe_order, (std::vector<std::string>{"inv1", "hall", "pack1", "grid"}));
  for (const auto& s : r.record.safe_state) EXPECT_TRUE(s.commanded && s.verified) << s.device << ": " << s.detail;
}

TEST(SafeState, ASettleTimeShorterThanTheInverterNeedsIsRefusedBeforeTheRun) {
  const std::string dir = test::scratch_dir("nosettle-refused");
  Fixture f("nosettle-refused", kQuiet, bench_station(dir, "safe_state_settle: 0 s\n"));
  auto run = f.make(std::make_unique<SetpointCore>(90e3));
  Status s = run->prepare();
  ASSERT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("station.yaml:3:"));
  EXPECT_THAT(s.message(), HasSubstr("device inv1: safe_state_settle 0 s is shorter than the device takes"));
}

// A driver that does not know how long its device takes (it declares no safe_state_time).
class UnknownRampDevice final : public DeviceDecorator {
 public:
  using DeviceDecorator::DeviceDecorator;
  Duration safe_state_time() const override { return Duration{0}; }
};

TEST(SafeState, WithNoSettleTimeARampingInverterIsNotVerified) {
  // The same stop with no time allowed to settle, on a driver that cannot say how long its device
  // ramps: the inverter is still ramping down (1 MW/s from 90 kW) when it is read back, and the
  // record says so instead of assuming.
  test::ScopedDecoratedModel unknown("unknown-ramp-inverter", "inverter-simulator", [](std::unique_ptr<Device> d) {
    return std::make_unique<UnknownRampDevice>(std::move(d));
  });
  const std::string dir = test::scratch_dir("nosettle");
  Fixture f("nosettle", kQuiet, bench_station(dir, "safe_state_settle: 0 s\n", "{power: 80 kW}", "",
                                              "unknown-ramp-inverter"));
  auto run = f.make(std::make_unique<SetpointCore>(90e3));
  ASSERT_TRUE(run->until(Time(20s)));
  run->request_stop(Verdict::aborted, "stop");
  RunResult r = run->finish();
  EXPECT_EQ(r.verdict, Verdict::aborted);
  bool seen = false;
  for (const auto& s : r.record.safe_state)
    if (s.device == "inv1") {
      seen = true;
      EXPECT_TRUE(s.commanded);
      EXPECT_FALSE(s.verified) << s.detail;
    }
  EXPECT_TRUE(seen);
}

// ---------------------------------------------------------------------------------------------
// Defects found by trying the skeleton

TEST(Defects, ACoreThatWritesOnceKeepsItsSetpoint) {
  // Written once at t = 0, when the pack has not been read and its allowed currents are 0.
  Fixture f("once", kQuiet);
  double applied_late = -1, requested_late = -1;
  f.opt.after_cycle = [&](Time t, const SignalTable& s) {
    if (t == Time(60s)) {
      applied_late = s.value(s.find("inv1.p_set.applied"));
      requested_late = s.value(s.find("inv1.p_set"));
    }
  };
  RunResult r = f.run(std::make_unique<SetpointCore>(40e3, /*once=*/true));
  EXPECT_EQ(r.verdict, Verdict::pass) << r.error;
  EXPECT_EQ(requested_late, 40e3);
  EXPECT_EQ(applied_late, 40e3);
  const std::string csv = f.csv();
  EXPECT_NE(column(csv, "inv1.p_set"), std::string::npos);  // both are recorded
  EXPECT_NE(column(csv, "inv1.p_set.applied"), std::string::npos);
}

TEST(Defects, ALostPacksContactorIsOpenedInTheCycleItIsLost) {
  Fixture f("lost", std::string(kQuiet) + "");
  Scenario& sc = f.sc;
  TimelineEvent ev;
  ev.at = Time(30s);
  ev.where = "test";
  ev.steps.push_back({"pack1", "", "fault.comm_loss", 1.0});
  sc.timeline.push_back(ev);
  double contactor = -1, p_set = -1, limit = -1;
  f.opt.after_cycle = [&](Time, const SignalTable& s) {
    contactor = s.value(s.find("pack1.contactor_cmd.applied"));
    p_set = s.value(s.find("inv1.p_set.applied"));
    limit = s.value(s.find("inv1.p_limit_discharge"));
  };
  RunResult r = f.run(std::make_unique<SetpointCore>(60e3));
  EXPECT_EQ(r.verdict, Verdict::error);
  EXPECT_EQ(r.record.end_s, 32.0);
  // The last cycle, with pack1 lost: contactor opened, no power on its bus, whatever the core asks.
  EXPECT_EQ(contactor, 0.0);
  EXPECT_EQ(p_set, 0.0);
  EXPECT_EQ(limit, 0.0);
}

TEST(Defects, SimulatorsDoNotLatchTheirSafeState) {
  Fixture f("relatch", kQuiet);
  boost::asio::io_context io;
  SimulatedClock clock(io);
  SignalTable t;
  DeviceContext ctx{t, clock};
  for (auto& d : f.bench.devices) ASSERT_TRUE(d->configure(ctx));
  t.freeze();
  Device& inv = *f.bench.devices[2];
  ASSERT_EQ(inv.name(), "inv1");
  for (auto& d : f.bench.devices) {
    ASSERT_TRUE(d->start_activate(Time(0)));
    d->apply_stimuli(Time(0), t);
  }
  ASSERT_TRUE(inv.start_safe_state());
  inv.deactivate();
  ASSERT_TRUE(inv.start_activate(Time(0)));
  ASSERT_EQ(inv.state(), DeviceState::active);
  // Pack ready, inverter told to discharge 50 kW within its limits.
  Device& pack = *f.bench.devices[3];
  t.set(t.find("pack1.contactor_cmd.applied"), 1, Time(0));
  t.set(t.find("pack1.i_charge_allowed"), 60, Time(0));
  t.set(t.find("pack1.i_discharge_allowed"), 95, Time(0));
  ASSERT_TRUE(pack.start_write(Time(0)));
  t.set(t.find("inv1.p_set.applied"), 50e3, Time(0));
  t.set(t.find("inv1.p_limit_discharge"), 100e3, Time(0));
  t.set(t.find("inv1.p_limit_charge"), 100e3, Time(0));
  ASSERT_TRUE(inv.start_write(Time(0)));
  for (int k = 1; k <= 10; ++k) ASSERT_TRUE(f.bench.plant->advance_to(Time(std::chrono::milliseconds(100 * k))));
  ASSERT_TRUE(inv.start_read(Time(1s)));
  inv.publish(Time(1s), t);
  EXPECT_NEAR(t.value(t.find("inv1.p_ac")), 50e3, 1.0);
}

TEST(Defects, SimulatedCommunicationLossBlocksCommandsToo) {
  Fixture f("commloss", kQuiet);
  boost::asio::io_context io;
  SimulatedClock clock(io);
  SignalTable t;
  DeviceContext ctx{t, clock};
  struct Observer : DeviceObserver {
    std::vector<std::pair<DeviceOp, bool>> done;
    void device_done(Device&, DeviceOp op, const Status& s) override { done.emplace_back(op, s.is_ok()); }
  } obs;
  for (auto& d : f.bench.devices) ASSERT_TRUE(d->configure(ctx));
  t.freeze();
  Device& pack = *f.bench.devices[3];
  pack.set_observer(&obs, 3);
  ASSERT_TRUE(pack.start_activate(Time(0)));
  t.set(t.find("pack1.fault.comm_loss"), 1, Time(0));
  pack.apply_stimuli(Time(0), t);
  t.set(t.find("pack1.contactor_cmd.applied"), 1, Time(0));
  t.set(t.find("pack1.i_discharge_allowed"), 95, Time(0));
  ASSERT_TRUE(pack.start_write(Time(0)));
  ASSERT_TRUE(pack.start_read(Time(0)));
  ASSERT_EQ(obs.done.size(), 3u);
  EXPECT_EQ(obs.done[1], std::make_pair(DeviceOp::write, false));
  EXPECT_EQ(obs.done[2], std::make_pair(DeviceOp::read, false));
  // The command did not reach the pack: its contactor is still open once communication is back.
  t.set(t.find("pack1.fault.comm_loss"), 0, Time(0));
  pack.apply_stimuli(Time(0), t);
  ASSERT_TRUE(pack.start_read(Time(0)));
  pack.publish(Time(0), t);
  EXPECT_EQ(t.value(t.find("pack1.contactor")), 0.0);
}

TEST(Defects, RecordNamesFilesRelativeToTheProjectSoTwoCheckoutsCompare) {
  // The same scenario and station in two folders ("checkouts"), each run with its own base.
  std::vector<nlohmann::json> records;
  for (const char* checkout : {"checkout-a", "checkout-b"}) {
    const std::string root = test::scratch_dir(checkout);
    fs::create_directories(root + "/fixtures/stations");
    fs::create_directories(root + "/scenarios");
    fs::copy_file(bench_station(test::scratch_dir(std::string(checkout) + "-tmp")), root + "/fixtures/stations/bench.yaml");
    const std::string sc = test::write_file(root + "/scenarios", "quiet.yaml", kQuiet);
    Fixture f(std::string(checkout) + "-run", kQuiet, root + "/fixtures/stations/bench.yaml");
    f.sc = load_scenario(sc);
    f.opt.path_base = root;
    RunResult r = f.run();
    auto j = nlohmann::json::parse(read(r.record_path));
    EXPECT_EQ(j["station"]["file"], "fixtures/stations/bench.yaml");
    EXPECT_EQ(j["scenario"]["file"], "scenarios/quiet.yaml");
    j.erase("run");
    records.push_back(j);
  }
  // Fixtures outside both checkouts are named as given, the same in both.
  EXPECT_EQ(records[0], records[1]);
}

// ---------------------------------------------------------------------------------------------
// Registries and typed links

TEST(Registries, AModelIsANewRegistrationAndGoesAwayWithIt) {
  const std::string dir = test::scratch_dir("registry");
  const std::string station = bench_station(dir, "", "{power: 80 kW}", "", "inverter-simulator", "my-pack");
  EXPECT_THROW(
      {
        try {
          build_bench(load_station(station), 1);
        } catch (const ConfigError& e) {
          EXPECT_NE(std::string(e.what()).find("station.yaml:"), std::string::npos) << e.what();
          EXPECT_NE(std::string(e.what()).find("unknown model 'my-pack'"), std::string::npos) << e.what();
          EXPECT_NE(std::string(e.what()).find("pack-simulator"), std::string::npos) << e.what();  // lists known
          throw;
        }
      },
      ConfigError);
  {
    test::ScopedDecoratedModel mine("my-pack", "pack-simulator",
                                    [](std::unique_ptr<Device> d) { return std::make_unique<OrderRecorder>(std::move(d)); });
    Bench b = build_bench(load_station(station), 1);
    EXPECT_EQ(b.devices.size(), 4u);
    EXPECT_EQ(b.devices[3]->name(), "pack1");
  }
  EXPECT_EQ(DeviceRegistry::instance().find("my-pack"), nullptr);
}

TEST(Links, UnknownKeysAndTypesAreRefusedWhereTheyAreWritten) {
  const std::string dir = test::scratch_dir("links");
  const std::string typo = bench_station(dir, "", "{power: 80 kW}", "link: {type: in-process, latncy: 10 ms}");
  try {
    load_station(typo);
    FAIL() << "a typo in a link passed";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("station.yaml:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("unknown key 'latncy'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("did you mean 'latency'"), std::string::npos) << e.what();
  }
  const std::string unknown = bench_station(dir, "", "{power: 80 kW}", "link: {type: profibus, host: 127.0.0.1}");
  try {
    load_station(unknown);
    FAIL() << "an unknown link type passed";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown link type 'profibus'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("in-process"), std::string::npos) << e.what();
  }
  StationConfig ok = load_station(bench_station(dir, "", "{power: 80 kW}", "link: {type: in-process, latency: 7 ms}"));
  ASSERT_EQ(ok.devices[0].link_type, "in-process");
  EXPECT_EQ(static_cast<const InProcessLink&>(*ok.devices[0].link).latency, Time(7ms));
}

TEST(Links, ADeadlineThatLeavesNoRoomForBothPhasesIsRefusedAtItsLine) {
  const std::string dir = test::scratch_dir("deadline");
  Fixture f("deadline", kQuiet, bench_station(dir, "deadline: 60 ms\n"));
  RunResult r = f.run();
  EXPECT_EQ(r.verdict, Verdict::error);
  EXPECT_NE(r.error.find("station.yaml:3:"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("at most half the cycle"), std::string::npos) << r.error;
  EXPECT_EQ(r.record.cycles, 0u);
}

// ---------------------------------------------------------------------------------------------
// Sinks and what is recorded

namespace {
struct CountingSink final : RunSink {
  std::vector<std::string> calls;
  std::size_t rows = 0, signals = 0;
  Status on_started(const RunInfo& info, const SignalTable& t) override {
    calls.push_back("started " + std::string(info.real_time ? "rt" : "sim"));
    signals = t.size();
    return Status::ok();
  }
  Status on_row(Time, const SignalTable&) override {
    ++rows;
    return Status::ok();
  }
  void on_event(Time, const std::string& what) override { calls.push_back("event " + what); }
  Status on_finished(TestRecord& r) override {
    calls.push_back(std::string("finished ") + to_string(r.verdict) + " rows " + std::to_string(r.timeseries_rows));
    return Status::ok();
  }
};
}  // namespace

TEST(Sinks, ASinkSeesTheRunStartRowsEventsAndTheRecordBeforeItIsWritten) {
  Fixture f("sink", kQuiet);
  Scenario& sc = f.sc;
  TimelineEvent ev;
  ev.at = Time(30s);
  ev.where = "test";
  ev.steps.push_back({"pack1", "", "fault.comm_loss", 1.0});
  sc.timeline.push_back(ev);
  auto sink = std::make_shared<CountingSink>();
  auto run = f.make();
  run->add_sink(sink);
  RunResult r = run->run_to_end();
  EXPECT_EQ(r.verdict, Verdict::error);
  ASSERT_GE(sink->calls.size(), 3u);
  EXPECT_EQ(sink->calls.front(), "started sim");
  // The timeline's fault as it happens, then what it did.
  const auto at = [&](const std::string& text) {
    return std::find_if(sink->calls.begin(), sink->calls.end(),
                        [&](const std::string& c) { return c.rfind(text, 0) == 0; }) - sink->calls.begin();
  };
  const auto fault = at("event timeline: pack1.fault.comm_loss = 1"), lost = at("event device pack1: read: no reply from the BMS");
  EXPECT_LT(fault, lost);
  EXPECT_LT(lost, static_cast<std::ptrdiff_t>(sink->calls.size()) - 1);
  EXPECT_EQ(sink->calls.back(), "finished ERROR rows 33");  // the time series sink ran before it
  EXPECT_EQ(sink->rows, 33u);
  EXPECT_EQ(sink->signals, run->signals().size());
}

TEST(RecordSelection, GlobsStayInASegmentUnlessDoubled) {
  EXPECT_TRUE(glob_match("pack*.soc", "pack12.soc"));
  EXPECT_FALSE(glob_match("pack*.soc", "pack12.m01.soc"));
  EXPECT_TRUE(glob_match("pack1.**", "pack1.m01.soc"));
  EXPECT_TRUE(glob_match("**.soc", "pack1.m01.soc"));
  EXPECT_TRUE(glob_match("grid.*", "grid.v_pu"));
  EXPECT_FALSE(glob_match("grid.*", "grid"));
  EXPECT_TRUE(glob_match("inv?.p_ac", "inv1.p_ac"));
  EXPECT_FALSE(glob_match("inv?.p_ac", "inv12.p_ac"));
  EXPECT_TRUE(glob_match("inv1.p_set*", "inv1.p_set"));
  EXPECT_FALSE(glob_match("inv1.p_set*", "inv1.p_set.applied"));
  EXPECT_TRUE(glob_match("inv1.p_set.*", "inv1.p_set.applied"));
  EXPECT_TRUE(glob_match("*", "run"));
  EXPECT_FALSE(glob_match("", "a"));
}

TEST(RecordSelection, AScenarioRecordsTheSignalsItNamesAndATypoIsRefused) {
  Fixture f("select", std::string(kQuiet) + "record: [grid.*, pack*.soc, inv1.p_ac, \"pack1.m0?.t\"]\n");
  RunResult r = f.run();
  ASSERT_EQ(r.verdict, Verdict::pass) << r.error;
  const std::string csv = f.csv();
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "t,grid.v_pu,grid.f,grid.available,grid.p_import,grid.v_pu_set,grid.f_set,grid.outage,inv1.p_ac,pack1.soc,"
            "pack1.m01.t,pack1.m02.t,pack1.m03.t,pack1.m04.t,pack1.m05.t,pack1.m06.t,pack1.m07.t,pack1.m08.t,pack1.m09.t");
  EXPECT_EQ(r.record.timeseries_columns, 18u);
  Fixture g("select-typo", std::string(kQuiet) + "record: [grid.*, pakc*.soc]\n");
  RunResult bad = g.run();
  EXPECT_EQ(bad.verdict, Verdict::error);
  EXPECT_NE(bad.error.find("scenario.yaml:9:18:"), std::string::npos) << bad.error;
  EXPECT_NE(bad.error.find("'pakc*.soc' matches no signal"), std::string::npos) << bad.error;
}

// ---------------------------------------------------------------------------------------------
// A run leaves its host as it found it

namespace {
volatile std::sig_atomic_t g_host_saw = 0;
void host_handler(int) { g_host_saw = g_host_saw + 1; }
}  // namespace

TEST(Embedding, TheHostsSignalHandlersAreBackAfterARun) {
  struct sigaction mine {}, before_int {}, before_term {};
  mine.sa_handler = host_handler;
  sigemptyset(&mine.sa_mask);
  ASSERT_EQ(sigaction(SIGINT, &mine, &before_int), 0);
  ASSERT_EQ(sigaction(SIGTERM, &mine, &before_term), 0);
  Fixture f("signals", kQuiet);
  f.opt.handle_signals = true;
  RunResult r = f.run();
  EXPECT_EQ(r.verdict, Verdict::pass) << r.error;
  struct sigaction now {};
  ASSERT_EQ(sigaction(SIGINT, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, host_handler);
  ASSERT_EQ(sigaction(SIGTERM, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, host_handler);
  g_host_saw = 0;
  std::raise(SIGINT);  // Ctrl-C after the run reaches the host, not a dead default
  EXPECT_EQ(g_host_saw, 1);
  sigaction(SIGINT, &before_int, nullptr);
  sigaction(SIGTERM, &before_term, nullptr);
}

TEST(Embedding, RealTimeTuningIsScopedToTheRun) {
  const int policy = sched_getscheduler(0);
  sched_param param{};
  sched_getparam(0, &param);
  const int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
  Fixture f("rt-scope", "scenario: rt\nduration: 300 ms\ncycle: 10 ms\nchecks: [{name: ok, always: \"run.overruns >= 0\"}]\n");
  f.opt.real_time = true;
  RunResult r = f.run();
  EXPECT_EQ(r.verdict, Verdict::pass) << r.error;
  EXPECT_FALSE(r.record.rt_tuning.empty());
  EXPECT_EQ(sched_getscheduler(0), policy);
  sched_param after{};
  sched_getparam(0, &after);
  EXPECT_EQ(after.sched_priority, param.sched_priority);
  EXPECT_EQ(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), slack);
}

TEST(AsyncIo, SixtyFourPacksThatTake10msAreDeterministicInSimulatedTime) {
  const char* text = R"(scenario: sixty-four
station: large-64pack-latency
duration: 20 s
record_interval: 1 s
timeline:
  - at: 0 s
    load: {profile: ai_training, level: 3.6 MW, swing: 15 %, period: [0.5 s, 2 s]}
checks:
  - {name: on_time, always: "run.late_devices == 0 && run.overruns == 0"}
)";
  std::string csv[2];
  for (int k = 0; k < 2; ++k) {
    Fixture f("sixty-four-" + std::to_string(k), text, test::source_path("fixtures/stations/large-64pack-latency.yaml"));
    RunResult r = f.run();
    EXPECT_EQ(r.verdict, Verdict::pass) << r.error;
    EXPECT_EQ(r.record.cycles, 201u);
    csv[k] = f.csv();
  }
  EXPECT_GT(csv[0].size(), 100000u);
  EXPECT_EQ(csv[0], csv[1]);
}

// ---------------------------------------------------------------------------------------------
// Found in review

TEST(Review, ADriverThatWrapsAnotherHasAllItsSignalsTurnStaleAndFault) {
  // A driver built on another device (a decorator, as the example plugin is) registers its inner
  // device's signals under the same name: they must turn stale and fault with the device.
  test::ScopedDecoratedModel wrapped("wrapped-pack", "pack-simulator",
                                     [](std::unique_ptr<Device> d) { return std::make_unique<test::DeviceDecorator>(std::move(d)); });
  const std::string dir = test::scratch_dir("wrapped");
  Fixture f("wrapped", kQuiet, bench_station(dir, "", "{power: 80 kW}", "", "inverter-simulator", "wrapped-pack"));
  TimelineEvent ev;
  ev.at = Time(30s);
  ev.where = "test";
  ev.steps.push_back({"pack1", "", "fault.comm_loss", 1.0});
  f.sc.timeline.push_back(ev);
  std::vector<Quality> soc;
  double contactor = -1;
  f.opt.after_cycle = [&](Time t, const SignalTable& s) {
    if (t >= Time(30s)) soc.push_back(s.quality(s.find("pack1.soc")));
    contactor = s.value(s.find("pack1.contactor_cmd.applied"));
  };
  RunResult r = f.run(std::make_unique<SetpointCore>(60e3));
  EXPECT_EQ(r.verdict, Verdict::error);
  ASSERT_GE(soc.size(), 2u);
  EXPECT_EQ(soc.front(), Quality::stale);
  EXPECT_EQ(soc.back(), Quality::fault);
  EXPECT_EQ(contactor, 0.0);
}

TEST(Review, ACoreThatWritesOnceKeepsItsSetpointOnASlowLinkAndInRealTime) {
  for (bool real_time : {false, true}) {
    const std::string dir = test::scratch_dir(real_time ? "once-rt" : "once-slow");
    Fixture f(real_time ? "once-rt" : "once-slow",
              "scenario: once\nduration: 2 s\nchecks: [{name: ok, always: \"run.overruns >= 0\"}]\n",
              bench_station(dir, "", "{power: 80 kW}", "link: {type: in-process, latency: 10 ms}"));
    f.opt.real_time = real_time;
    double applied = -1;
    f.opt.after_cycle = [&](Time, const SignalTable& s) { applied = s.value(s.find("inv1.p_set.applied")); };
    RunResult r = f.run(std::make_unique<SetpointCore>(40e3, /*once=*/true));
    EXPECT_EQ(r.verdict, Verdict::pass) << r.error;
    EXPECT_EQ(applied, 40e3) << (real_time ? "real time" : "simulated");
  }
}

namespace {
// Fails (or throws in) its activation.
class FailingActivation final : public test::DeviceDecorator {
 public:
  FailingActivation(std::unique_ptr<Device> inner, bool throws) : DeviceDecorator(std::move(inner)), throws_(throws) {}

 protected:
  void on_activate(Time) override {
    if (throws_) throw std::runtime_error("driver threw while connecting (test)");
    complete(Status::error("connection refused (test)"));
  }

 private:
  bool throws_;
};
}  // namespace

TEST(Review, WhenActivationFailsHalfwayEveryDeviceThatGotItIsMadeSafe) {
  for (bool throws : {false, true}) {
    // pack1 (last in the station) fails; grid, hall and inv1 were activated before it.
    test::ScopedDecoratedModel bad("bad-pack", "pack-simulator", [throws](std::unique_ptr<Device> d) {
      return std::make_unique<FailingActivation>(std::move(d), throws);
    });
    std::vector<std::unique_ptr<test::ScopedDecoratedModel>> recorded;
    for (const char* m : {"grid-simulator", "load-simulator", "inverter-simulator"})
      recorded.push_back(std::make_unique<test::ScopedDecoratedModel>(
          std::string("ordered-") + m, m, [](std::unique_ptr<Device> d) { return std::make_unique<OrderRecorder>(std::move(d)); }));
    const std::string dir = test::scratch_dir(throws ? "act-throw" : "act-fail");
    std::string station = read(bench_station(dir, "", "{power: 80 kW}", "", "inverter-simulator", "bad-pack"));
    for (const char* m : {"grid-simulator", "load-simulator", "inverter-simulator"})
      station.replace(station.find(std::string("model: ") + m), 7 + std::strlen(m), std::string("model: ordered-") + m);
    Fixture f(throws ? "act-throw" : "act-fail", kQuiet, test::write_file(dir, "s2.yaml", station));
    g_safe_order.clear();
    RunResult r = f.run();
    EXPECT_EQ(r.verdict, Verdict::error);
    EXPECT_NE(r.error.find(throws ? "driver threw while connecting" : "connection refused"), std::string::npos) << r.error;
    EXPECT_EQ(r.record.cycles, 0u);
    EXPECT_EQ(g_safe_order, (std::vector<std::string>{"inv1", "hall", "grid"}));
    for (const auto& s : r.record.safe_state) {
      if (s.device == "pack1") continue;
      EXPECT_TRUE(s.commanded && s.verified) << s.device << ": " << s.detail;
    }
  }
}

TEST(Review, AProfileInstalledDuringACyclesReadsIsNeverEvaluatedBeforeItsStart) {
  // Devices answer after 10 ms: the cycle due at 0.1 s reads until 0.11 s. A ramp that starts at
  // 0.105 s (from 80 kW up) is then evaluated for the cycle's instant, 5 ms before it began: that
  // must give its first value, not one extrapolated below it.
  const std::string dir = test::scratch_dir("ramp-early");
  Fixture f("ramp-early", R"(scenario: ramp
duration: 1 s
timeline:
  - at: 0 s
    load: {power: 80 kW}
  - at: 105 ms
    load: {ramp: {to: 100 kW, over: 10 s}}
checks: [{name: ok, always: "run.overruns >= 0"}]
)",
            bench_station(dir, "", "{power: 80 kW}", "link: {type: in-process, latency: 10 ms}"));
  std::vector<std::pair<Time, double>> demand;
  f.opt.after_cycle = [&](Time t, const SignalTable& s) { demand.emplace_back(t, s.value(s.find("hall.p_demand_set"))); };
  RunResult r = f.run();
  ASSERT_EQ(r.verdict, Verdict::pass) << r.error;
  ASSERT_GE(demand.size(), 3u);
  EXPECT_EQ(demand[1].first, Time(100ms));
  EXPECT_EQ(demand[1].second, 80e3);
  EXPECT_GT(demand[2].second, 80e3);
}

namespace {
// A pack driver with a command of its own (a cooling fan, in percent), with or without a range.
class PackWithFan final : public test::DeviceDecorator {
 public:
  PackWithFan(std::unique_ptr<Device> inner, bool ranged) : DeviceDecorator(std::move(inner)), ranged_(ranged) {}
  static inline double received = -1;

 protected:
  Status on_configure(DeviceContext& c) override {
    if (auto s = DeviceDecorator::on_configure(c); !s) return s;
    return ranged_ ? add_command(c.signals, "fan", "1", &fan_, {0, 100}) : add_command(c.signals, "fan", "1", &fan_);
  }
  void on_write(Time now, const SignalTable& t) override {
    received = t.value(fan_);
    DeviceDecorator::on_write(now, t);
  }

 private:
  bool ranged_;
  SignalId fan_ = kNoSignal;
};

class FanCore final : public ControlCore {
 public:
  void configure(const CoreContext&, CoreIo& io) override { fan_ = io.command("pack1.fan"); }
  void step(Time, CoreIo& io) override { io.set(fan_, 150); }

 private:
  SignalId fan_ = kNoSignal;
};
}  // namespace

TEST(Review, EveryCommandIsBoundedByARuleOrByItsDeclaredRange) {
  for (bool ranged : {true, false}) {
    test::ScopedDecoratedModel fan("fan-pack", "pack-simulator", [ranged](std::unique_ptr<Device> d) {
      return std::make_unique<PackWithFan>(std::move(d), ranged);
    });
    const std::string dir = test::scratch_dir(ranged ? "fan-ranged" : "fan-unranged");
    Fixture f(ranged ? "fan-ranged" : "fan-unranged", kQuiet,
              bench_station(dir, "", "{power: 80 kW}", "", "inverter-simulator", "fan-pack"));
    PackWithFan::received = -1;
    RunResult r = f.run(std::make_unique<FanCore>());
    if (ranged) {
      EXPECT_EQ(r.verdict, Verdict::pass) << r.error;
      EXPECT_EQ(PackWithFan::received, 100.0);  // the core asked 150 %
    } else {
      // A command nothing can bound is refused before anything runs.
      EXPECT_EQ(r.verdict, Verdict::error);
      EXPECT_NE(r.error.find("'pack1.fan'"), std::string::npos) << r.error;
      EXPECT_NE(r.error.find("no range"), std::string::npos) << r.error;
      EXPECT_EQ(r.record.cycles, 0u);
      EXPECT_EQ(PackWithFan::received, -1.0);
    }
  }
}

namespace {
// From 5 s on, its reads go out over "a socket" (a hold is taken) and no reply ever comes.
class SilentPeer final : public test::DeviceDecorator {
 public:
  using DeviceDecorator::DeviceDecorator;

 protected:
  void on_read(Time now) override {
    if (now >= Time(5s)) {
      hold_ = clock()->hold("pack1 read over loopback");
      return;  // never completes
    }
    DeviceDecorator::on_read(now);
  }

 private:
  IoHold hold_;  // outlives the run's clock with the bench: must release nothing, safely
};
}  // namespace

TEST(Review, APeerThatNeverAnswersInSimulatedTimeIsAnErrorAndTheRestIsMadeSafe) {
  test::ScopedDecoratedModel silent("silent-pack", "pack-simulator",
                                    [](std::unique_ptr<Device> d) { return std::make_unique<SilentPeer>(std::move(d)); });
  const std::string dir = test::scratch_dir("silent");
  Fixture f("silent", kQuiet, bench_station(dir, "", "{power: 80 kW}", "", "inverter-simulator", "silent-pack"));
  f.opt.stall_limit = std::chrono::milliseconds(100);
  RunResult r = f.run(std::make_unique<SetpointCore>(60e3));
  EXPECT_EQ(r.verdict, Verdict::error);
  EXPECT_NE(r.error.find("simulated time stalled at t=5"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("pack1 read over loopback"), std::string::npos) << r.error;
  EXPECT_EQ(r.record.end_s, 5.0);
  // The stalled read is given up: the safe state still reaches every device, pack1 included.
  for (const auto& s : r.record.safe_state) EXPECT_TRUE(s.commanded && s.verified) << s.device << ": " << s.detail;
}

namespace {
// Its driver throws from the safe-state command (as an Asio call can) or while publishing.
class ThrowingDriver final : public test::DeviceDecorator {
 public:
  using DeviceDecorator::DeviceDecorator;

 protected:
  void on_safe_state() override { throw std::runtime_error("socket closed (test)"); }
};
}  // namespace

TEST(Review, ADriverThatThrowsDoesNotKeepTheOthersFromTheSafeState) {
  // inv1 and inv2 on one station: the first inverter's driver throws; the second must still be
  // commanded and verified, and the first recorded as not commanded with the reason.
  test::ScopedDecoratedModel bad("throwing-inverter", "inverter-simulator",
                                 [](std::unique_ptr<Device> d) { return std::make_unique<ThrowingDriver>(std::move(d)); });
  const std::string dir = test::scratch_dir("throwing");
  std::string station = read(bench_station(dir));
  station.replace(station.find("  - name: inv1"), std::string("  - name: inv1").size(), "  - name: inv0");
  station.replace(station.find("model: inverter-simulator"), 25, "model: throwing-inverter");
  station.replace(station.find("packs: [pack1]"), 14, "packs: [pack0]");
  // a second inverter and pack, in-tree models
  station += R"(  - name: inv1
    role: inverter
    model: inverter-simulator
    params: {file: )" + test::source_path("fixtures/inverters/pcs-750kva.yaml") +
             R"(, s_rated: 100 kVA, p_rated: 100 kW, i_max: 130 A, ramp_rate: 1 MW/s, no_load_loss: 200 W}
    packs: [pack1]
    limits: {p_discharge_max: 100 kW, p_charge_max: 100 kW, s_max: 100 kVA, no_load_loss: 300 W}
  - name: pack0
    role: pack
    model: pack-simulator
    params: {file: )" + test::source_path("fixtures/packs/zh-160kwh-16s.yaml") + R"(}
    limits: {i_charge_max: 60 A, i_discharge_max: 95 A, soc_min: 5 %, soc_max: 97 %, t_max: 50 degC}
)";
  Fixture f("throwing", kQuiet, test::write_file(dir, "two.yaml", station));
  auto run = f.make();
  ASSERT_TRUE(run->until(Time(10s)));
  run->request_stop(Verdict::aborted, "stop");
  RunResult r = run->finish();
  for (const auto& s : r.record.safe_state) {
    if (s.device == "inv0") {
      EXPECT_FALSE(s.commanded);
      EXPECT_NE(s.detail.find("socket closed (test)"), std::string::npos) << s.detail;
      continue;
    }
    EXPECT_TRUE(s.commanded && s.verified) << s.device << ": " << s.detail;
  }
  EXPECT_EQ(r.verdict, Verdict::aborted);
}
