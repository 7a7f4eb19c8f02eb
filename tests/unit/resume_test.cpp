// Resumable runs: a simulated run stopped part-way (as Ctrl-C stops it: safe state, record
// ABORTED) and resumed from its last checkpoint writes the same time series, byte for byte, and
// the same verdict, checks and measurements as the run that went through. The kill -9 case, the
// store and `zhil resume` are tested end to end (tests/e2e/test_resume.py).
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "harness/checkpoint/run_checkpoint.hpp"
#include "harness/checkpoint/state_archive.hpp"
#include "harness/config/config_error.hpp"
#include "lab/run_preparation.hpp"
#include "test_support.hpp"

namespace zhil {
namespace {

// Keeps every checkpoint the run hands out, as the results store would.
class CheckpointKeeper final : public RunSink {
 public:
  Status on_checkpoint(const RunCheckpoint& cp) override {
    // Through the encoding the store keeps, so that it is tested too.
    kept.push_back(decode_checkpoint(encode_checkpoint(cp)));
    return Status::ok();
  }
  std::vector<RunCheckpoint> kept;
};

std::unique_ptr<lab::PreparedRun> prepare(const std::string& scenario, const std::string& out, Duration every,
                                          std::shared_ptr<const RunCheckpoint> resume = nullptr,
                                          const std::string& station = "") {
  lab::PrepareRequest pr;
  pr.scenario_file = test::source_path(scenario);
  if (!station.empty()) pr.station_file = test::source_path(station);
  pr.options.out_dir = out;
  pr.options.handle_signals = false;
  pr.options.checkpoint_every = every;
  pr.options.resume = std::move(resume);
  return lab::prepare_run(pr);
}

struct Case {
  const char* scenario;
  Duration every;
  double stop_fraction;  // of the scenario's duration
};

class ResumeTest : public ::testing::TestWithParam<Case> {};

TEST_P(ResumeTest, ResumedRunWritesTheSameBytesAsOneThatWentThrough) {
  const Case c = GetParam();
  const std::string dir = test::scratch_dir(std::string("resume-") + std::filesystem::path(c.scenario).stem().string());

  auto through = prepare(c.scenario, dir + "/through", c.every);
  const RunResult a = through->run->run_to_end();
  ASSERT_NE(a.verdict, Verdict::error) << a.error;

  auto first = prepare(c.scenario, dir + "/resumed", c.every);
  auto keeper = std::make_shared<CheckpointKeeper>();
  first->run->add_sink(keeper);
  const Time stop_at = Time{Duration{static_cast<std::int64_t>(first->scenario.duration.count() * c.stop_fraction)}};
  ASSERT_TRUE(first->run->until(stop_at));
  first->run->request_stop(Verdict::aborted, "interrupted by the test", StopCause::host);
  const RunResult stopped = first->run->finish();
  ASSERT_EQ(stopped.verdict, Verdict::aborted);
  ASSERT_FALSE(keeper->kept.empty());
  const RunCheckpoint cp = keeper->kept.back();
  EXPECT_LE(cp.at, stop_at);
  EXPECT_GT(cp.at, Time{0});
  // What the stopped run wrote after its checkpoint is cut: the file is longer now.
  EXPECT_GT(std::filesystem::file_size(dir + "/resumed/timeseries.csv"), cp.timeseries_bytes);
  first.reset();

  auto second = prepare(c.scenario, "", c.every, std::make_shared<RunCheckpoint>(cp));
  const RunResult b = second->run->run_to_end();
  EXPECT_EQ(b.verdict, a.verdict) << b.error;
  EXPECT_EQ(b.record.run_id, stopped.record.run_id);
  EXPECT_EQ(test::read_file(dir + "/resumed/timeseries.csv"), test::read_file(dir + "/through/timeseries.csv"));
  EXPECT_EQ(b.record.cycles, a.record.cycles);
  EXPECT_EQ(b.record.timeseries_rows, a.record.timeseries_rows);
  EXPECT_EQ(b.record.envelope_interventions, a.record.envelope_interventions);
  ASSERT_EQ(b.record.checks.size(), a.record.checks.size());
  for (std::size_t k = 0; k < a.record.checks.size(); ++k) {
    EXPECT_EQ(b.record.checks[k].outcome, a.record.checks[k].outcome) << a.record.checks[k].name;
    EXPECT_EQ(b.record.checks[k].evidence.has_value(), a.record.checks[k].evidence.has_value());
    if (a.record.checks[k].evidence) {
      EXPECT_EQ(b.record.checks[k].evidence->t_s, a.record.checks[k].evidence->t_s);
    }
  }
  ASSERT_EQ(b.record.measurements.size(), a.record.measurements.size());
  for (std::size_t k = 0; k < a.record.measurements.size(); ++k) {
    EXPECT_EQ(b.record.measurements[k].value, a.record.measurements[k].value) << a.record.measurements[k].name;
    EXPECT_EQ(b.record.measurements[k].outcome, a.record.measurements[k].outcome);
  }
  // The events up to the checkpoint are the stopped run's; then the resumption; then the rest.
  bool noted = false;
  for (const auto& e : b.record.events) noted = noted || e.what.rfind("resumed from checkpoint", 0) == 0;
  EXPECT_TRUE(noted);
}

// Timeline events (outage, frequency steps), AI-training profiles with their random periods, a
// learned forecast across days, a pack tripping on temperature: each resumed past its checkpoint.
INSTANTIATE_TEST_SUITE_P(Scenarios, ResumeTest,
                         ::testing::Values(Case{"scenarios/ai-training-swings.yaml", std::chrono::minutes(4), 0.7},
                                           Case{"scenarios/grid-outage-island.yaml", std::chrono::minutes(7), 0.5},
                                           Case{"scenarios/frequency-excursion-droop.yaml", std::chrono::minutes(3), 0.5},
                                           Case{"scenarios/pack-over-temperature.yaml", std::chrono::hours(2), 0.8},
                                           Case{"scenarios/peak-shaving-24h-1pack.yaml", std::chrono::hours(5), 0.6}),
                         [](const auto& info) {
                           std::string n = std::filesystem::path(info.param.scenario).stem().string();
                           for (char& ch : n) if (ch == '-') ch = '_';
                           return n;
                         });

TEST(Resume, ACheckpointOfAnotherScenarioIsRefused) {
  const std::string dir = test::scratch_dir("resume-other");
  auto first = prepare("scenarios/ai-training-swings.yaml", dir + "/a", std::chrono::minutes(2));
  auto keeper = std::make_shared<CheckpointKeeper>();
  first->run->add_sink(keeper);
  ASSERT_TRUE(first->run->until(Time{std::chrono::minutes(5)}));
  (void)first->run->finish();
  ASSERT_FALSE(keeper->kept.empty());
  auto other = prepare("scenarios/grid-outage-island.yaml", "", Duration{0}, std::make_shared<RunCheckpoint>(keeper->kept.back()));
  const RunResult r = other->run->run_to_end();
  EXPECT_EQ(r.verdict, Verdict::error);
  EXPECT_NE(r.error.find("has changed since run"), std::string::npos) << r.error;
}

TEST(Resume, DamagedCheckpointIsRefusedNotLoaded) {
  RunCheckpoint cp;
  cp.run_id = "x";
  cp.state = "state";
  const std::string bytes = encode_checkpoint(cp);
  EXPECT_EQ(decode_checkpoint(bytes).run_id, "x");
  EXPECT_THROW(decode_checkpoint(bytes.substr(0, bytes.size() - 3)), CheckpointError);
  EXPECT_THROW(decode_checkpoint("ZHILCKPX" + bytes.substr(8)), CheckpointError);
  std::string other_format = bytes;
  other_format[8] ^= 0x7f;  // the format number
  EXPECT_THROW(decode_checkpoint(other_format), CheckpointError);
}

TEST(Resume, CheckpointsOnAStationWhoseDevicesCannotSaveTheirStateAreRefusedBeforeTheRun) {
  try {
    (void)prepare("scenarios/modbus-faults/delay.yaml", "", std::chrono::minutes(1));
    FAIL() << "a simulated run on a Modbus station took checkpoints";
  } catch (const std::exception& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot save its state between cycles"), std::string::npos) << what;
    EXPECT_NE(what.find("modbus"), std::string::npos) << what;
  }
}

TEST(Resume, ACheckpointIntervalShorterThanACycleIsRefused) {
  EXPECT_THROW((void)prepare("scenarios/ai-training-swings.yaml", "", std::chrono::milliseconds(1)), std::exception);
}

}  // namespace
}  // namespace zhil
