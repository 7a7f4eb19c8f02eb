// Hardening (issue 6): results folders, whole-row time series with checked writes, the RUNNING
// record, regular files only, physical ranges and units, check semantics, bounded resources.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "devices/sim/site_simulator.hpp"
#include "devices/station_builder.hpp"
#include "harness/config/config_error.hpp"
#include "harness/config/config_node.hpp"
#include "harness/config/regular_file.hpp"
#include "harness/recording/output_folder.hpp"
#include "harness/recording/test_record.hpp"
#include "harness/recording/timeseries_writer.hpp"
#include "harness/run.hpp"
#include "harness/scenario/check.hpp"
#include "harness/scenario/measurement.hpp"
#include "lab/run_preparation.hpp"
#include "test_support.hpp"

using namespace zhil;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

std::string refusal_of_scenario(const std::string& name, const std::string& text) {
  const std::string dir = test::scratch_dir("hard-" + name);
  try {
    lab::PrepareRequest pr;
    pr.scenario_file = test::write_file(dir, name + ".yaml", text);
    pr.options.handle_signals = false;
    (void)lab::prepare_run(pr);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "ACCEPTED";
}

// A scenario on the 1-pack bench around one line under test.
std::string bench_scenario(const std::string& body) {
  return "scenario: t\nstation: bench-1pack\nduration: 20 s\n" + body;
}

}  // namespace

// ---- results folder

TEST(OutputFolder, ASecondClaimIsRefusedWhileTheFirstHoldsIt) {
  const std::string dir = test::scratch_dir("folder-lock") + "/out";
  auto first = OutputFolder::claim(dir, false);
  EXPECT_THROW(
      {
        try {
          OutputFolder::claim(dir, true);
        } catch (const OutputFolderError& e) {
          EXPECT_THAT(e.what(), HasSubstr("in use by another run"));
          throw;
        }
      },
      OutputFolderError);
  first.reset();
  EXPECT_NO_THROW(OutputFolder::claim(dir, false));  // released with the object
}

TEST(OutputFolder, EarlierResultsNeedOverwriteAndForeignFilesAreNeverTouched) {
  const std::string dir = test::scratch_dir("folder-earlier") + "/out";
  {
    auto f = OutputFolder::claim(dir, false);
    ASSERT_TRUE(f->replace("record.json", "{}\n"));
  }
  try {
    OutputFolder::claim(dir, false);
    FAIL() << "earlier results accepted";
  } catch (const OutputFolderError& e) {
    EXPECT_THAT(e.what(), HasSubstr("earlier run's results (record.json)"));
    EXPECT_THAT(e.what(), HasSubstr("--overwrite"));
  }
  EXPECT_NO_THROW(OutputFolder::claim(dir, true));
  EXPECT_FALSE(fs::exists(dir + "/record.json"));  // replaced: the old one is gone
  test::write_file(dir, "notes.txt", "mine");
  try {
    OutputFolder::claim(dir, true);
    FAIL() << "a folder with the user's files accepted";
  } catch (const OutputFolderError& e) {
    EXPECT_THAT(e.what(), HasSubstr("files zhil did not write (notes.txt)"));
  }
  EXPECT_EQ(test::read_file(dir + "/notes.txt"), "mine");
}

TEST(OutputFolder, APlantedLinkIsNeverWrittenThrough) {
  const std::string base = test::scratch_dir("folder-link");
  const std::string victim = test::write_file(base, "victim", "precious");
  const std::string dir = base + "/out";
  fs::create_directories(dir);
  fs::create_symlink(victim, dir + "/timeseries.csv");
  EXPECT_THROW(OutputFolder::claim(dir, false), OutputFolderError);  // a result name: earlier results
  auto f = OutputFolder::claim(dir, true);                           // the link itself is removed
  std::string error;
  const int fd = f->create("timeseries.csv", error);
  ASSERT_GE(fd, 0) << error;
  ASSERT_TRUE(write_all(fd, "t\n"));
  close(fd);
  EXPECT_EQ(test::read_file(victim), "precious");
  EXPECT_FALSE(fs::is_symlink(dir + "/timeseries.csv"));
  // A link put there during the run (after the claim) makes the create fail instead.
  fs::create_symlink(victim, dir + "/junit.xml");
  EXPECT_LT(f->create("junit.xml", error), 0);
  EXPECT_THAT(error, HasSubstr("exists"));
  // replace() renames over a link, never through it.
  ASSERT_TRUE(f->replace("junit.xml", "<x/>"));
  EXPECT_EQ(test::read_file(victim), "precious");
  EXPECT_EQ(test::read_file(dir + "/junit.xml"), "<x/>");
}

TEST(OutputFolder, ReplaceLeavesNoTemporaryFileBehind) {
  const std::string dir = test::scratch_dir("folder-tmp") + "/out";
  auto f = OutputFolder::claim(dir, false);
  ASSERT_TRUE(f->replace("record.json", "a"));
  ASSERT_TRUE(f->replace("record.json", "b"));
  fs::create_directory(dir + "/junit.xml");  // rename onto a folder fails
  EXPECT_FALSE(f->replace("junit.xml", "x"));
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"junit.xml", "record.json"}));
  EXPECT_EQ(test::read_file(dir + "/record.json"), "b");
}

// ---- time series

TEST(TimeseriesWriter, AFailedWriteIsReturnedAndTheFileCutBackToWholeRows) {
  // In a child process, with a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored): the write fails
  // with EFBIG part-way through a batch, as on a full disk.
  const std::string dir = test::scratch_dir("ts-full") + "/out";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    rlimit lim{300000, 300000};
    setrlimit(RLIMIT_FSIZE, &lim);
    auto folder = OutputFolder::claim(dir, false);
    SignalTable t;
    std::vector<SignalId> ids(20);
    for (int k = 0; k < 20; ++k)
      (void)t.add("s" + std::to_string(k), "1", SignalKind::measurement, "x", &ids[static_cast<std::size_t>(k)]);
    t.freeze();
    TimeseriesWriter w(folder);
    if (!w.on_started(RunInfo{}, t)) _exit(10);
    Status failed;
    std::uint64_t n = 0;
    for (; n < 200000 && failed; ++n) {
      for (int k = 0; k < 20; ++k) t.set(ids[static_cast<std::size_t>(k)], 0.123456789 * static_cast<double>(n + k), Time{0});
      failed = w.on_row(Time{std::chrono::milliseconds(100 * n)}, t);
    }
    if (failed) failed = w.flush();
    if (failed) _exit(11);  // never failed: the test is broken
    if (failed.message().find("File too large") == std::string::npos) _exit(12);
    TestRecord rec;
    (void)w.on_finished(rec);
    std::ofstream(dir + "/../rows") << rec.timeseries_rows;
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  const std::string csv = test::read_file(dir + "/timeseries.csv");
  ASSERT_FALSE(csv.empty());
  EXPECT_EQ(csv.back(), '\n');  // whole rows only
  const auto lines = static_cast<std::uint64_t>(std::count(csv.begin(), csv.end(), '\n'));
  EXPECT_EQ(std::to_string(lines - 1), test::read_file(dir + "/../rows"));  // the record's count is the file's
  std::istringstream in(csv);
  std::string line;
  while (std::getline(in, line)) EXPECT_EQ(std::count(line.begin(), line.end(), ','), 20) << line;
}

// ---- regular files only

TEST(RegularFiles, AFifoADeviceAndAProcFileAreRefusedAtOnce) {
  const std::string dir = test::scratch_dir("fifo");
  const std::string fifo = dir + "/scenario.yaml";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // Nobody ever writes the FIFO: a reader that blocked would hang this test.
  try {
    ConfigNode::load_file(fifo);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr(fifo + ":1:1: YAML file is a FIFO, not a regular file"));
  }
  EXPECT_THROW(read_regular_file("/dev/zero", 1 << 20), ConfigError);
  try {
    read_regular_file("/proc/self/status", 1 << 20);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("kernel pseudo-file"));
  }
  // A CSV trace naming /dev/zero: refused at the scenario's line.
  EXPECT_THAT(refusal_of_scenario("zero", bench_scenario(R"(timeline:
  - at: 0 s
    load: {profile: csv, file: /dev/zero}
checks: [{name: c, always: "hall.p_unserved < 1"}]
)")), HasSubstr("zero.yaml:6:"));
}

// ---- physical ranges and units, at file:line:column

TEST(Ranges, StimuliCoreParametersAndStationValuesOutsideTheirPhysicalRangeAreRefused) {
  auto refused = [](const std::string& name, const std::string& body) {
    return refusal_of_scenario(name, bench_scenario(body + "checks: [{name: c, always: \"hall.p_unserved < 1\"}]\n"));
  };
  EXPECT_THAT(refused("f", "timeline: [{at: 1 s, grid: {frequency: -60 Hz}}]\n"),
              HasSubstr("f.yaml:4:40: timeline[0].grid.frequency: '-60 Hz' is outside the physical range: must be "
                        "between 40 Hz and 70 Hz"));
  EXPECT_THAT(refused("v", "timeline: [{at: 1 s, grid: {voltage: -1 pu}}]\n"), HasSubstr("v.yaml:4:"));
  EXPECT_THAT(refused("amb", "timeline: [{at: 1 s, fault: {device: pack1, kind: ambient, temperature: -300 degC}}]\n"),
              HasSubstr("outside the physical range"));
  EXPECT_THAT(refused("load", "timeline: [{at: 1 s, load: {power: -100 kW}}]\n"), HasSubstr("load.yaml:4:"));
  EXPECT_THAT(refused("ramp", "timeline: [{at: 1 s, load: {ramp: {to: -1 MW, over: 10 s}}}]\n"),
              HasSubstr("ramp.yaml:4:"));
  // `set:` is no way around them.
  EXPECT_THAT(refused("set", "timeline: [{at: 1 s, set: {signal: grid.f_set, value: -60}}]\n"),
              HasSubstr("set.yaml:4:"));
  EXPECT_THAT(refused("reserve", "core_params: {soc_reserve: -5 %}\n"), HasSubstr("reserve.yaml:4:28:"));
  EXPECT_THAT(refused("socmax", "core_params: {soc_max: 200 %}\n"), HasSubstr("outside the physical range"));
  EXPECT_THAT(refused("import", "core_params: {grid_import_limit: -1 MW}\n"), HasSubstr("import.yaml:4:"));
  EXPECT_THAT(refused("ramp0", "core_params: {import_ramp_limit: 0 W/s}\n"), HasSubstr("ramp0.yaml:4:"));
  // Station values, at the station's line.
  const std::string dir = test::scratch_dir("hard-station");
  std::string station = test::read_file(test::source_path("fixtures/stations/bench-1pack.yaml"));
  const auto swap = [&](const std::string& from, const std::string& to) {
    std::string s = station;
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
    return s;
  };
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"nominal_voltage: 480 V", "nominal_voltage: 0 V"},
           {"nominal_voltage: 480 V", "nominal_voltage: 1e300 V"},
           {"t_max: 50 degC", "t_max: -400 degC"}}) {
    const std::string file = test::write_file(dir, "st.yaml", swap(from, to));
    try {
      (void)load_station(file);
      ADD_FAILURE() << to << " accepted";
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr(file + ":")) << to;
      EXPECT_THAT(e.what(), HasSubstr("outside the physical range")) << to;
    }
  }
}

TEST(Ranges, ErrorsThatNameAFileNameTheLine) {
  const std::string dir = test::scratch_dir("hard-core");
  std::string station = test::read_file(test::source_path("fixtures/stations/bench-1pack.yaml"));
  const auto at = station.find("name: reference");
  ASSERT_NE(at, std::string::npos);
  station.replace(at, 15, "name: skynet");
  const std::string file = test::write_file(dir, "st.yaml", station);
  lab::PrepareRequest pr;
  pr.scenario_file = test::write_file(dir, "s.yaml", "scenario: s\nstation: st.yaml\nduration: 10 s\n"
                                                     "checks: [{name: c, always: \"hall.p_unserved < 1\"}]\n");
  try {
    (void)lab::prepare_run(pr);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), ::testing::MatchesRegex(".*st\\.yaml:[0-9]+:[0-9]+: unknown control core 'skynet'.*"));
  }
  // A station the scenario names that does not exist: at the scenario's `station:` line.
  EXPECT_THAT(refusal_of_scenario("nost", "scenario: s\nstation: nowhere\nduration: 10 s\n"
                                          "checks: [{name: c, always: \"hall.p_unserved < 1\"}]\n"),
              HasSubstr("nost.yaml:2:10: station 'nowhere'"));
}

TEST(Units, AUnitThatDoesNotFitItsSignalOrIsUnknownIsRefused) {
  EXPECT_THAT(refusal_of_scenario("mu", bench_scenario(
                                           "measurements: [{name: m, signal: pack1.t_max, aggregate: max, unit: W}]\n")),
              HasSubstr("unit 'W' does not fit max of pack1.t_max [degC]"));
  EXPECT_THAT(refusal_of_scenario("pc", bench_scenario("measurements: [{name: m, signal: pack1.t_max, aggregate: max, "
                                                       "unit: parsecs}]\n")),
              HasSubstr("pc.yaml:4:69: measurements[0].unit: unknown unit 'parsecs'"));
  EXPECT_THAT(refusal_of_scenario("su", bench_scenario(
                                           "checks: [{name: s, settles: {signal: pack1.t_max, value: 20, tolerance: 5, "
                                           "unit: W}, within: 5 s}]\n")),
              HasSubstr("value in W but pack1.t_max is in degC"));
  EXPECT_THAT(refusal_of_scenario("su2", bench_scenario(
                                            "checks: [{name: s, settles: {signal: pack1.t_max, value: 20 W, "
                                            "tolerance: 5 W}, within: 5 s}]\n")),
              HasSubstr("value in W but pack1.t_max is in degC"));
  EXPECT_EQ(refusal_of_scenario("ok", bench_scenario("checks: [{name: s, settles: {signal: pack1.t_max, value: 20 degC, "
                                                     "tolerance: 30 degC}, within: 5 s}]\n")),
            "ACCEPTED");
}

// ---- check semantics

TEST(CheckSemantics, ImpossibleWindowsAreRefusedAtLoad) {
  EXPECT_THAT(refusal_of_scenario("win", bench_scenario(
                                            "checks: [{name: c, always: \"hall.p_unserved < 1\", from: 10.01 s, "
                                            "until: 10.09 s}]\n")),
              HasSubstr("holds no cycle of 0.1 s"));
  EXPECT_THAT(refusal_of_scenario("set", bench_scenario("checks: [{name: s, settles: {signal: pack1.soc, value: 0.5, "
                                                        "tolerance: 0.5}, within: 5 s, from: 1 s, until: 3 s}]\n")),
              HasSubstr("'until' is before the deadline"));
  EXPECT_THAT(refusal_of_scenario("k", bench_scenario("checks: [{name: c, always: \"0/0\"}]\n")),
              HasSubstr("'0/0' reads no signal"));
  EXPECT_THAT(refusal_of_scenario("comma", bench_scenario("checks: [{name: c, always: \"hall.p_unserved > 1e9, 1\"}]\n")),
              HasSubstr("a condition is one expression"));
  EXPECT_THAT(refusal_of_scenario("short", "scenario: t\nstation: bench-1pack\nduration: 50 ms\n"
                                           "checks: [{name: c, always: \"hall.p_unserved < 1\"}]\n"),
              HasSubstr("short.yaml:3:11: the scenario's duration (0.05 s) is shorter than one cycle"));
}

TEST(CheckSemantics, AConditionThatComputesNaNOrInfinityIsAViolation) {
  SignalTable t;
  SignalId x, y;
  ASSERT_TRUE(t.add("a.x", "1", SignalKind::measurement, "a", &x));
  ASSERT_TRUE(t.add("a.y", "1", SignalKind::measurement, "a", &y));
  t.freeze();
  t.set(x, 1.0, Time{0});
  t.set(y, 0.0, Time{0});
  // Each would be "true" (non-zero) to a check that only asked whether it is 0.
  for (const char* text : {"a.y / a.y", "a.x / a.y", "sqrt(-a.x)", "log(a.y)", "a.x * 1e308 * 10"}) {
    CheckSpec spec;
    spec.name = "c";
    spec.kind = CheckKind::always;
    spec.expression = text;
    Check c(spec, t);
    c.evaluate(Time{0});
    CheckResult r = c.result(Time{0}, true);
    EXPECT_EQ(r.outcome, CheckOutcome::fail) << text;
    ASSERT_TRUE(r.evidence) << text;
    EXPECT_THAT(r.evidence->what, HasSubstr("condition evaluates to")) << text;
  }
  // A guarded division is not wrong: muParser evaluates both sides of &&, the guard still holds.
  CheckSpec guarded;
  guarded.name = "g";
  guarded.kind = CheckKind::never;
  guarded.expression = "a.y > 0 && a.x / a.y > 5";
  Check g(guarded, t);
  g.evaluate(Time{0});
  EXPECT_EQ(g.result(Time{0}, true).outcome, CheckOutcome::pass);
}

TEST(CheckSemantics, TheMeanOfAHeldValueIsThatValue) {
  SignalTable t;
  SignalId f;
  ASSERT_TRUE(t.add("grid.f", "Hz", SignalKind::measurement, "grid", &f));
  t.freeze();
  MeasurementSpec spec;
  spec.name = "m";
  spec.signal = "grid.f";
  spec.aggregate = Aggregate::mean;
  spec.unit = "Hz";
  spec.high = 60.2;
  Measurement m(spec, t);
  for (int k = 0; k <= 864000; ++k) {  // 24 h at 100 ms
    t.set(f, 60.2, Time{std::chrono::milliseconds(100 * k)});
    m.sample(Time{std::chrono::milliseconds(100 * k)});
  }
  MeasurementResult r = m.result(Time{std::chrono::hours(24)}, true);
  ASSERT_TRUE(r.value);
  EXPECT_EQ(*r.value, 60.2);  // exactly: the naive running sum gave 60.20000000000125
  EXPECT_EQ(r.outcome, "PASS");
}

// ---- what protects the hardware when the harness dies

TEST(Watchdog, WhenTheHarnessDiesTheSimulatedDevicesGoSafeOnTheirOwn) {
  const std::string dir = test::scratch_dir("watchdog");
  StationConfig st = load_station(test::source_path("fixtures/stations/bench-1pack.yaml"));
  Scenario sc = load_scenario(test::write_file(dir, "s.yaml", R"(scenario: w
station: bench-1pack
duration: 10 min
timeline: [{at: 0 s, load: {power: 130 kW}}]
checks: [{name: c, always: "run.overruns >= 0"}]
)"));
  Bench bench = build_bench(st, 1);
  RunOptions opt;
  opt.out_dir = dir + "/out";
  opt.handle_signals = false;
  auto run = std::make_unique<zhil::Run>(st, sc, bench, CoreRegistry::instance().create(st.core), opt);
  ASSERT_TRUE(run->until(Time(std::chrono::seconds(60))));
  auto& site = dynamic_cast<sim::SiteSimulator&>(*bench.plant);
  sim::PackModel& pack = *site.pack("pack1");
  sim::InverterModel& inv = *site.inverter(0);
  ASSERT_TRUE(pack.contactor_closed());
  ASSERT_GT(inv.p_ac(), 20e3);  // shaving the 130 kW load down to the 100 kW limit
  for (const auto& d : bench.devices)
    if (d->role() == "pack" || d->role() == "inverter") {
      EXPECT_EQ(d->watchdog_armed(), std::chrono::seconds(5));
    }
  // The harness dies here: nothing calls the devices any more, but the plant's time goes on.
  const Time last = run->now();
  ASSERT_TRUE(bench.plant->advance_to(last + std::chrono::milliseconds(4900)));
  EXPECT_TRUE(pack.contactor_closed());  // within the 5 s timeout: nothing happens
  EXPECT_GT(inv.p_ac(), 20e3);
  ASSERT_TRUE(bench.plant->advance_to(last + std::chrono::milliseconds(5100)));
  ASSERT_TRUE(bench.plant->advance_to(last + std::chrono::milliseconds(6500)));
  EXPECT_FALSE(pack.contactor_closed());  // the BMS opened its contactor on its own
  EXPECT_LT(std::fabs(inv.p_ac()), 1.0);   // the inverter ramped its output to zero
  run.reset();
}

TEST(Watchdog, TheStationSaysHowLongAndItMustOutlastFaultAfter) {
  const std::string dir = test::scratch_dir("watchdog-station");
  std::string station = test::read_file(test::source_path("fixtures/stations/bench-1pack.yaml"));
  station.replace(station.find("cycle: 100 ms"), 13, "cycle: 100 ms\nfault_after: 3 s\nwatchdog: 2 s");
  fs::copy_file(test::source_path("fixtures/packs/zh-160kwh-16s.yaml"), dir + "/p.yaml");
  try {
    (void)load_station(test::write_file(dir, "st.yaml", station));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("st.yaml:7:11: watchdog: the device watchdog (2.000000 s) must outlast fault_after"));
  }
}

// ---- bounded resources

TEST(Resources, AStationIsBoundedAsAWholeNotPerEntry) {
  const std::string dir = test::scratch_dir("bounded");
  const std::string pack = test::source_path("fixtures/packs/zh-160kwh-16s.yaml");
  const std::string inverter = test::source_path("fixtures/inverters/pcs-750kva.yaml");
  auto station = [&](int entries, int packs_each, const std::string& modules) {
    std::string s = "station: big\ncore: {name: reference}\ndevices:\n  - {name: grid, role: grid, model: grid-simulator}\n"
                    "  - {name: hall, role: load, model: load-simulator, params: {power: 1 MW}}\n";
    for (int e = 0; e < entries; ++e) {
      s += "  - {name: inv" + std::to_string(e) + ", role: inverter, model: inverter-simulator, params: {file: " +
           inverter + "}, packs_each: " + std::to_string(packs_each) +
           ", limits: {p_discharge_max: 750 kW, p_charge_max: 750 kW, s_max: 750 kVA}}\n";
      s += "  - {name: \"p" + std::to_string(e) + "_{i}\", count: " + std::to_string(packs_each) +
           ", role: pack, model: pack-simulator, params: {file: " + pack + modules +
           "}, limits: {i_charge_max: 60 A, i_discharge_max: 95 A, soc_min: 5 %, soc_max: 97 %, t_max: 50 degC}}\n";
    }
    return test::write_file(dir, "st.yaml", s);
  };
  try {
    (void)load_station(station(8, 1000, ""));
    FAIL() << "8 x 1,000 packs accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("a station has at most 2048 devices in all"));
  }
  // 70 packs of 1,000 modules: within the device bound, over the site's module bound; refused at
  // the pack entry, before the 66th pack is built.
  const StationConfig st = load_station(station(1, 70, ", modules: 1000"));
  try {
    (void)build_bench(st, 1);
    FAIL() << "70,000 modules built";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("st.yaml:7:5:"));
    EXPECT_THAT(e.what(), HasSubstr("more than 65536 pack modules in all"));
  }
}
