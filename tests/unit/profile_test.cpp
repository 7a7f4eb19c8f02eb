#include <gtest/gtest.h>

#include <cmath>

#include "harness/scenario/profile.hpp"
#include "harness/scenario/scenario.hpp"
#include "test_support.hpp"

using namespace zhil;

TEST(AiTrainingProfile, SwingsBetweenLevelsWithTheDuty) {
  AiTrainingShape s;
  s.job_ramp_s = 0;
  s.level_w = 1e6;
  s.swing = 0.4;
  s.period_min_s = s.period_max_s = 1.0;
  s.duty = 0.5;
  s.ramp_s = 0.05;
  s.idle_level = 0.4;
  auto p = make_ai_training_profile(s, 1);
  double lo = 1e18, hi = 0, high_time = 0;
  const double dt = 0.001;
  for (int i = 0; i < 10000; ++i) {  // 10 s at 1 ms
    double v = p->at(from_seconds(i * dt));
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    if (v > 1.3e6) high_time += dt;
  }
  EXPECT_DOUBLE_EQ(hi, 1.4e6);
  EXPECT_DOUBLE_EQ(lo, 0.6e6);
  EXPECT_NEAR(high_time / 10.0, 0.5, 0.05);  // duty, less the edges
}

TEST(AiTrainingProfile, RandomPeriodsAreReproducibleFromTheSeed) {
  AiTrainingShape s;
  s.job_ramp_s = 0;
  s.period_min_s = 0.5;
  s.period_max_s = 2.0;
  auto sample = [&](std::uint64_t seed) {
    auto p = make_ai_training_profile(s, seed);
    std::vector<double> v;
    for (int i = 0; i < 2000; ++i) v.push_back(p->at(from_seconds(i * 0.02)));
    return v;
  };
  EXPECT_EQ(sample(9), sample(9));
  EXPECT_NE(sample(9), sample(10));
  // Count swings in 40 s: with periods in [0.5, 2] s there are between 20 and 80 rising edges.
  auto v = sample(3);
  int rises = 0;
  for (std::size_t i = 1; i < v.size(); ++i) rises += (v[i - 1] < 1e6 && v[i] >= 1e6);
  EXPECT_GE(rises, 20);
  EXPECT_LE(rises, 80);
}

TEST(AiTrainingProfile, CheckpointsAndJobStop) {
  AiTrainingShape s;
  s.job_ramp_s = 0;
  s.level_w = 1e6;
  s.checkpoint_every_s = 60;
  s.checkpoint_duration_s = 10;
  s.checkpoint_level = 0.3;
  s.job_stop_s = 200;
  s.idle_level = 0.2;
  auto p = make_ai_training_profile(s, 1);
  EXPECT_DOUBLE_EQ(p->at(from_seconds(65)), 0.3e6);   // inside the first checkpoint
  EXPECT_DOUBLE_EQ(p->at(from_seconds(250)), 0.2e6);  // after the job stopped
}

TEST(ScenarioProfiles, DiurnalAndRampFromYaml) {
  const std::string dir = test::scratch_dir("profiles");
  const std::string path = test::write_file(dir, "p.yaml", R"(scenario: p
duration: 2 d
timeline:
  - at: 0 s
    load: {profile: diurnal, min: 100 kW, max: 300 kW, peak_at: "15:00"}
  - at: 1 h
    grid: {frequency: {ramp: {to: 59 Hz, over: 10 s}}}
checks: [{name: c, always: "1"}]
)");
  Scenario sc = load_scenario(path);
  ASSERT_EQ(sc.timeline.size(), 2u);
  auto diurnal = sc.timeline[0].sources[0].factory(ProfileContext{1, 0, 0});
  EXPECT_NEAR(diurnal->at(from_seconds(15 * 3600)), 300e3, 1e-6);
  EXPECT_NEAR(diurnal->at(from_seconds(27 * 3600)), 100e3, 1e-6);
  auto ramp = sc.timeline[1].sources[0].factory(ProfileContext{1, 60.0, 0});
  EXPECT_DOUBLE_EQ(ramp->at(from_seconds(0)), 60.0);
  EXPECT_DOUBLE_EQ(ramp->at(from_seconds(5)), 59.5);
  EXPECT_DOUBLE_EQ(ramp->at(from_seconds(20)), 59.0);
}

TEST(ScenarioProfiles, CsvTraceInterpolatesAndReportsBadRows) {
  const std::string dir = test::scratch_dir("csv");
  test::write_file(dir, "trace.csv", "t,p\n0,100\n10,200\n");
  const std::string path = test::write_file(dir, "c.yaml", R"(scenario: c
duration: 1 h
timeline:
  - at: 0 s
    load: {profile: csv, file: trace.csv, scale: 1000}
checks: [{name: c, always: "1"}]
)");
  Scenario sc = load_scenario(path);
  auto p = sc.timeline[0].sources[0].factory(ProfileContext{});
  EXPECT_DOUBLE_EQ(p->at(from_seconds(5)), 150e3);
  EXPECT_DOUBLE_EQ(p->at(from_seconds(50)), 200e3);
  test::write_file(dir, "trace.csv", "t,p\n0,100\n10,abc\n");
  try {
    load_scenario(path);
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("trace.csv:3:1"), std::string::npos) << e.what();
  }
}
