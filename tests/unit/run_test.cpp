// A whole run in-process: deterministic records, and abort safety (stop request, exception, failing
// device): the bench ends in its safe state, verified, and the record says ABORTED or ERROR with
// the time series flushed.
#include <gtest/gtest.h>

#include <algorithm>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "devices/station_builder.hpp"
#include "harness/run.hpp"
#include "test_support.hpp"

using namespace zhil;
using namespace std::chrono_literals;

namespace {

std::string read(const std::string& path) { return test::read_file(path); }

std::size_t lines(const std::string& path) {
  std::string t = read(path);
  return static_cast<std::size_t>(std::count(t.begin(), t.end(), '\n'));
}

RunResult run(const std::string& scenario_text, const std::string& name, std::uint64_t seed,
              std::unique_ptr<ControlCore> core = nullptr, Time stop_after = Time(-1),
              const std::string& station = "fixtures/stations/bench-1pack.yaml") {
  // One scenario file per text, so that two runs of the same text name the same file.
  const std::string sdir = test::scratch_dir("scenario-" + std::to_string(std::hash<std::string>{}(scenario_text)));
  const std::string dir = test::scratch_dir(name);
  Scenario sc = load_scenario(test::write_file(sdir, "s.yaml", scenario_text));
  StationConfig st = load_station(test::source_path(station));
  Bench bench = build_bench(st, seed);
  RunOptions opt;
  opt.out_dir = dir + "/out";
  opt.seed = seed;
  opt.handle_signals = false;
  if (!core) core = CoreRegistry::instance().create(st.core);
  if (stop_after < Time(0)) return execute_run(st, sc, bench, std::move(core), opt);
  // As Ctrl-C would: a stop requested between cycles.
  Run r(st, sc, bench, std::move(core), opt);
  r.until(stop_after - Time(1ns));
  r.request_stop(Verdict::aborted, "stop requested");
  return r.finish();
}

const char* kScenario = R"(scenario: determinism
duration: 2 h
record_interval: 10 s
timeline:
  - at: 0 s
    load: {profile: ai_training, level: 90 kW, swing: 30 %, period: [0.5 s, 2 s]}
  - at: 1 h
    grid: {frequency: 59.7 Hz}
checks:
  - {name: no_unserved, always: "hall.p_unserved < 1"}
measurements:
  - {name: peak, signal: grid.p_import, aggregate: max, unit: W}
)";

nlohmann::json without_run(const std::string& record_path) {
  auto j = nlohmann::json::parse(read(record_path));
  j.erase("run");
  return j;
}

class ThrowingCore final : public ControlCore {
 public:
  void configure(const CoreContext& c, CoreIo& io) override {
    p_set_ = io.command(c.station.with_role("inverter").front()->name + ".p_set");
  }
  void step(Time now, CoreIo& io) override {
    io.set(p_set_, -40e3);  // charging when it dies: the safe state must stop that
    if (now >= Time(30s)) throw std::runtime_error("core crashed on purpose");
  }

 private:
  SignalId p_set_ = kNoSignal;
};

}  // namespace

TEST(Run, SameSeedGivesByteIdenticalRecords) {
  RunResult a = run(kScenario, "det-a", 5);
  RunResult b = run(kScenario, "det-b", 5);
  ASSERT_EQ(a.verdict, Verdict::pass) << a.error;
  const std::string da = std::filesystem::path(a.record_path).parent_path();
  const std::string db = std::filesystem::path(b.record_path).parent_path();
  const std::string ta = read(da + "/timeseries.csv"), tb = read(db + "/timeseries.csv");
  EXPECT_GT(ta.size(), 10000u);
  EXPECT_EQ(ta, tb);
  EXPECT_EQ(without_run(a.record_path).dump(), without_run(b.record_path).dump());
  EXPECT_NE(nlohmann::json::parse(read(a.record_path))["run"]["id"], nlohmann::json::parse(read(b.record_path))["run"]["id"]);
  RunResult c = run(kScenario, "det-c", 6);
  EXPECT_NE(read(std::filesystem::path(c.record_path).parent_path().string() + "/timeseries.csv"), ta);
}

TEST(Run, RecordHasTheRequiredFields) {
  RunResult a = run(kScenario, "fields", 5);
  auto j = nlohmann::json::parse(read(a.record_path));
  for (const char* k : {"run", "verdict", "software", "station", "scenario", "seed", "checks", "measurements", "dut",
                        "safe_state", "time"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["scenario"]["sha256"].get<std::string>().size(), 64u);
  std::vector<std::string> inputs;
  for (const auto& in : j["inputs"]) inputs.push_back(std::filesystem::path(in["file"].get<std::string>()).filename());
  for (const char* f : {"s.yaml", "bench-1pack.yaml", "zh-160kwh-16s.yaml", "pcs-750kva.yaml", "ieee1547-2018-cat-ii-60hz.yaml"})
    EXPECT_NE(std::find(inputs.begin(), inputs.end(), f), inputs.end()) << f;
  EXPECT_EQ(j["dut"][0]["serial"], "ZH-BENCH-0001");
  EXPECT_EQ(j["measurements"][0]["unit"], "W");
  EXPECT_EQ(j["time"]["cycles"], 72001);
  const std::string dir = std::filesystem::path(a.record_path).parent_path();
  EXPECT_EQ(lines(dir + "/timeseries.csv"), 1u + 721u);  // header + every 10 s for 2 h
  EXPECT_NE(read(dir + "/junit.xml").find("<testsuite name=\"determinism\""), std::string::npos);
}

TEST(Run, StopRequestAbortsIntoTheSafeStateAndFlushesTheRecord) {
  RunResult r = run(kScenario, "abort", 5, nullptr, Time(600s));
  EXPECT_EQ(r.verdict, Verdict::aborted);
  EXPECT_EQ(exit_code(r.verdict), 2);
  ASSERT_FALSE(r.record.safe_state.empty());
  for (const auto& s : r.record.safe_state) {
    EXPECT_TRUE(s.commanded) << s.device;
    EXPECT_TRUE(s.verified) << s.device << ": " << s.detail;
  }
  const std::string dir = std::filesystem::path(r.record_path).parent_path();
  EXPECT_EQ(lines(dir + "/timeseries.csv"), 1u + 60u);  // 0..590 s every 10 s: nothing lost
  auto j = nlohmann::json::parse(read(r.record_path));
  EXPECT_EQ(j["verdict"], "ABORTED");
  EXPECT_EQ(j["checks"][0]["verdict"], "INCOMPLETE");
}

TEST(Run, ExceptionInTheCoreIsAnErrorWithTheBenchSafe) {
  RunResult r = run(kScenario, "throw", 5, std::make_unique<ThrowingCore>());
  EXPECT_EQ(r.verdict, Verdict::error);
  EXPECT_NE(r.error.find("core crashed on purpose"), std::string::npos);
  for (const auto& s : r.record.safe_state) EXPECT_TRUE(s.verified) << s.device << ": " << s.detail;
  auto j = nlohmann::json::parse(read(r.record_path));
  EXPECT_EQ(j["verdict"], "ERROR");
  EXPECT_NEAR(j["time"]["end_s"].get<double>(), 30.0, 1e-9);
}

TEST(Run, FailingDeviceEndsTheRunWithAnErrorNamingIt) {
  const std::string text = std::string(kScenario) + "  - at: 5 min\n    fault: {device: pack1, kind: comm_loss}\n";
  std::string t = text;
  // put the fault event inside the timeline (before checks)
  const std::string fault = "  - at: 5 min\n    fault: {device: pack1, kind: comm_loss}\n";
  t = std::string(kScenario);
  t.insert(t.find("checks:"), fault);
  RunResult r = run(t, "comm", 5);
  EXPECT_EQ(r.verdict, Verdict::error);
  EXPECT_NE(r.error.find("pack1"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("no reply from the BMS"), std::string::npos) << r.error;
  // It failed after its tolerance (2 s of failed reads), not at the first.
  EXPECT_NEAR(r.record.end_s, 302.0, 0.25);
  // The lost BMS takes no command either (its communication is gone): the record says so; every
  // other device is commanded and verified.
  for (const auto& s : r.record.safe_state) {
    if (s.device == "pack1") {
      EXPECT_FALSE(s.commanded);
      EXPECT_FALSE(s.verified);
      EXPECT_NE(s.detail.find("no reply from the BMS"), std::string::npos) << s.detail;
    } else {
      EXPECT_TRUE(s.commanded && s.verified) << s.device << ": " << s.detail;
    }
  }
  const auto device_event = std::find_if(r.record.events.begin(), r.record.events.end(),
                                         [](const RunEvent& e) { return e.what.rfind("device", 0) == 0; });
  ASSERT_NE(device_event, r.record.events.end());
  EXPECT_NE(device_event->what.find("pack1"), std::string::npos);
}

TEST(Run, ScenarioNamingAMissingDeviceIsAnErrorBeforeAnyCycle) {
  std::string t = kScenario;
  t.insert(t.find("checks:"), "  - at: 1 s\n    fault: {device: pack7, kind: cooling_loss}\n");
  RunResult r = run(t, "missing", 5);
  EXPECT_EQ(r.verdict, Verdict::error);
  EXPECT_NE(r.error.find("s.yaml:"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("no device 'pack7'"), std::string::npos) << r.error;
  EXPECT_EQ(r.record.cycles, 0u);
}

TEST(Run, RealTimeRunRecordsJitter) {
  const char* text = R"(scenario: rt
duration: 1 s
cycle: 10 ms
checks: [{name: ok, always: "run.overruns >= 0"}]
)";
  const std::string dir = test::scratch_dir("rt");
  Scenario sc = load_scenario(test::write_file(dir, "s.yaml", text));
  StationConfig st = load_station(test::source_path("fixtures/stations/bench-1pack.yaml"));
  Bench bench = build_bench(st, 1);
  RunOptions opt;
  opt.out_dir = dir + "/out";
  opt.real_time = true;
  opt.handle_signals = false;
  RunResult r = execute_run(st, sc, bench, CoreRegistry::instance().create("reference"), opt);
  EXPECT_EQ(r.verdict, Verdict::pass) << r.error;
  EXPECT_GE(r.record.wall_seconds, 1.0);  // a real-time run cannot finish early
  auto j = nlohmann::json::parse(read(r.record_path));
  EXPECT_TRUE(j["run"].contains("real_time"));
  EXPECT_EQ(j["mode"], "real-time");
  EXPECT_EQ(r.record.cycles + r.record.rt_skipped, 101u);
}
