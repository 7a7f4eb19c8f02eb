// Malformed and hostile scenario/station files are refused before anything runs, with
// file:line:column and the offending key; hostile ones without a crash, a hang or unbounded memory.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/config/config_error.hpp"
#include "harness/config/station_config.hpp"
#include "harness/config/yaml_guard.hpp"
#include "harness/scenario/scenario.hpp"
#include "test_support.hpp"

using namespace zhil;
using ::testing::HasSubstr;

namespace {

std::string refusal(const std::string& name, const std::string& text) {
  const std::string dir = test::scratch_dir("yaml");
  const std::string path = test::write_file(dir, name, text);
  try {
    load_scenario(path);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "ACCEPTED";
}

const char* kGood = R"(scenario: ok
duration: 10 s
checks:
  - name: c
    always: "1 > 0"
)";

}  // namespace

TEST(YamlErrors, GoodFileLoads) { EXPECT_EQ(refusal("good.yaml", kGood), "ACCEPTED"); }

TEST(YamlErrors, SyntaxErrorNamesFileLineColumn) {
  std::string e = refusal("bad.yaml", "scenario: x\nduration: [10 s\nchecks: []\n");
  EXPECT_THAT(e, HasSubstr("bad.yaml:"));
  EXPECT_THAT(e, ::testing::MatchesRegex(".*bad\\.yaml:[0-9]+:[0-9]+: .*"));
}

TEST(YamlErrors, UnknownKeySuggestsTheRightOne) {
  std::string e = refusal("typo.yaml", "scenario: x\nduraton: 10 s\nchecks: []\n");
  EXPECT_THAT(e, HasSubstr("typo.yaml:2:1:"));
  EXPECT_THAT(e, HasSubstr("unknown key 'duraton'"));
  EXPECT_THAT(e, HasSubstr("did you mean 'duration'"));
}

TEST(YamlErrors, MissingKeyAndBadValueAreLocated) {
  EXPECT_THAT(refusal("m.yaml", "scenario: x\nchecks: []\n"), HasSubstr("missing required key 'duration'"));
  std::string e = refusal("v.yaml", "scenario: x\nduration: 10 parsecs\nchecks: []\n");
  EXPECT_THAT(e, HasSubstr("v.yaml:2:11:"));
  EXPECT_THAT(e, HasSubstr("unknown unit 'parsecs'"));
  e = refusal("w.yaml", "scenario: x\nduration: 10 kW\nchecks: []\n");
  EXPECT_THAT(e, HasSubstr("is in W but s is expected"));
}

TEST(YamlErrors, CheckExpressionErrorsAreLocated) {
  std::string e = refusal("expr.yaml", "scenario: x\nduration: 10 s\nchecks:\n  - name: c\n    always: \"grid.p_import <= \"\n");
  EXPECT_THAT(e, HasSubstr("expr.yaml:5:13:"));
  e = refusal("assign.yaml", "scenario: x\nduration: 10 s\nchecks:\n  - name: c\n    always: \"a = 3\"\n");
  EXPECT_THAT(e, HasSubstr("compare with '=='"));
}

TEST(YamlErrors, EventsAfterTheEndAndBadWindowsAreRefused) {
  std::string e = refusal("late.yaml", std::string(kGood) + "timeline:\n  - at: 20 s\n    grid: {outage: true}\n");
  EXPECT_THAT(e, HasSubstr("late.yaml:7:9:"));
  EXPECT_THAT(e, HasSubstr("after the end of the scenario"));
}

TEST(YamlErrors, NanAndInfiniteNumbersAreRefused) {
  for (const char* v : {".nan", ".inf", "-.inf", "nan", "1e999"}) {
    std::string e = refusal("n.yaml", std::string("scenario: x\nduration: 10 s\nseed: 1\ntimeline:\n  - at: 1 s\n    load: {power: ") +
                                          v + "}\nchecks: [{name: c, always: \"1\"}]\n");
    EXPECT_THAT(e, HasSubstr("n.yaml:6:")) << v;
    EXPECT_THAT(e, HasSubstr("finite")) << v;
  }
}

TEST(YamlErrors, DeepNestingIsRefused) {
  std::string deep = "scenario: x\nduration: 1 s\ncore_params: ";
  for (int i = 0; i < 100000; ++i) deep += (i % 50 == 0) ? "[\n" : "[";
  EXPECT_THAT(refusal("deep.yaml", deep), HasSubstr("nesting"));
  std::string deep_maps = "scenario: x\nduration: 1 s\ncore_params: ";
  for (int i = 0; i < 5000; ++i) deep_maps += (i % 50 == 0) ? "{a:\n" : "{a: ";
  EXPECT_THAT(refusal("deepmap.yaml", deep_maps), HasSubstr("nesting"));
}

TEST(YamlErrors, AliasBombIsRefusedBeforeExpansion) {
  // Each level doubles: 2^40 nodes if expanded.
  std::string bomb = "a0: &a0 [x, x]\n";
  for (int i = 1; i <= 40; ++i)
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) + ", *a" +
            std::to_string(i - 1) + "]\n";
  std::string e = refusal("bomb.yaml", bomb);
  EXPECT_THAT(e, HasSubstr("alias bomb"));
  EXPECT_THAT(e, HasSubstr("bomb.yaml:"));
}

TEST(YamlErrors, ModestAliasesAreFine) {
  std::string text = std::string(kGood) + "core_params: &p {a: 1}\n";
  // core_params keys are checked by the core at run time, not here; the file loads.
  EXPECT_EQ(refusal("alias.yaml", text), "ACCEPTED");
}

TEST(YamlErrors, HugeLineBinaryAndHugeFileAreRefused) {
  EXPECT_THAT(refusal("line.yaml", "scenario: " + std::string(100000, 'x') + "\n"), HasSubstr("line longer than"));
  EXPECT_THAT(refusal("bin.yaml", std::string("scenario: x\n\x01\x02\x00\xff", 16)), HasSubstr("binary content"));
  EXPECT_THAT(refusal("utf.yaml", "scenario: \xc3\x28\n"), HasSubstr("invalid UTF-8"));
  std::string big;
  while (big.size() < (3u << 20)) big += "# padding padding padding padding padding padding\n";
  EXPECT_THAT(refusal("big.yaml", big), HasSubstr("larger than"));
}

TEST(YamlErrors, MultipleDocumentsAndEmptyFilesAreRefused) {
  EXPECT_THAT(refusal("two.yaml", std::string(kGood) + "---\nscenario: y\n"), HasSubstr("more than one YAML document"));
  EXPECT_THAT(refusal("empty.yaml", ""), HasSubstr("empty"));
  EXPECT_THAT(refusal("list.yaml", "- a\n- b\n"), HasSubstr("expected a mapping"));
}

TEST(YamlErrors, StationErrorsAreLocated) {
  const std::string dir = test::scratch_dir("station");
  const std::string path = test::write_file(dir, "s.yaml", R"(station: s
core: {name: reference}
devices:
  - {name: grid, role: grid, model: grid-simulator}
  - name: inv1
    role: inverter
    model: inverter-simulator
    packs: [pack9]
    limits: {p_discharge_max: 1 kW, p_charge_max: 1 kW, s_max: 1 kVA}
)");
  try {
    load_station(path);
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("s.yaml:5:5:"));
    EXPECT_THAT(e.what(), HasSubstr("'pack9', which is not a pack"));
  }
}

TEST(YamlErrors, EveryShippedScenarioAndStationLoads) {
  for (const char* f : {"scenarios/peak-shaving-24h.yaml", "scenarios/grid-outage-island.yaml",
                        "scenarios/frequency-excursion-droop.yaml", "scenarios/ai-training-swings.yaml",
                        "scenarios/pack-over-temperature.yaml", "scenarios/negative/undersized-battery.yaml",
                        "scenarios/strip-cycle-placement.yaml", "scenarios/peak-shaving-24h-1pack.yaml"})
    EXPECT_NO_THROW(load_scenario(test::source_path(f))) << f;
  for (const char* f : {"fixtures/stations/simulated.yaml", "fixtures/stations/bench-1pack.yaml",
                        "fixtures/stations/large-64pack.yaml", "fixtures/stations/bench-1pack-strip-due.yaml"})
    EXPECT_NO_THROW(load_station(test::source_path(f))) << f;
}

TEST(YamlErrors, ReviewFindingsAreRefused) {
  // duplicate keys: the second would silently lose
  EXPECT_THAT(refusal("dup.yaml", "scenario: x\nduration: 1 s\nduration: 2 s\nchecks: [{name: c, always: \"1\"}]\n"),
              HasSubstr("dup.yaml:3:1: key 'duration' given twice"));
  // overlong UTF-8 and surrogates
  EXPECT_THAT(refusal("ovl.yaml", "scenario: \"bad\xC0\x80name\"\n"), HasSubstr("invalid UTF-8"));
  EXPECT_THAT(refusal("sur.yaml", "scenario: \"\xED\xA0\x80\"\n"), HasSubstr("invalid UTF-8"));
  // a finite number times its unit that overflows
  EXPECT_THAT(refusal("big.yaml", std::string(kGood) + "timeline: [{at: 1 s, load: {power: 1e303 GW}}]\n"),
              HasSubstr("too large"));
  // out-of-range integers are refused before any cast
  EXPECT_THAT(refusal("seed.yaml", std::string(kGood) + "seed: 1e30\n"), HasSubstr("whole number"));
  // a scenario name becomes a folder: no paths
  EXPECT_THAT(refusal("path.yaml", "scenario: ../../tmp/x\nduration: 1 s\nchecks: [{name: c, always: \"1\"}]\n"),
              HasSubstr("a scenario name is"));
  // a CSV profile must be a regular file
  EXPECT_THAT(refusal("dev.yaml", std::string(kGood) + "timeline: [{at: 0 s, load: {profile: csv, file: /dev/zero}}]\n"),
              HasSubstr("not a regular file"));
  // absurd periods would cost unbounded draws per cycle
  EXPECT_THAT(refusal("per.yaml", std::string(kGood) +
                                      "timeline: [{at: 0 s, load: {profile: ai_training, level: 1 MW, swing: 10 %, period: 0.1 ms}}]\n"),
              HasSubstr("1 ms"));
}
