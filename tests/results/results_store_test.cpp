// The results store on both backends: the same tests on a SQLite file and on a real PostgreSQL
// server (the cluster ctest starts under the build folder; ZHIL_TEST_POSTGRES_URI_FILE says where).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "lab/results/results_store.hpp"
#include "lab/results/schema.hpp"
#include "lab/acceptance/acceptance_gate.hpp"

using namespace zhil;
using namespace zhil::lab;
namespace fs = std::filesystem;

namespace {

std::string postgres_uri() {
  const char* f = std::getenv("ZHIL_TEST_POSTGRES_URI_FILE");
  if (!f) return "";
  std::ifstream in(f);
  std::string uri;
  std::getline(in, uri);
  return uri;
}

// A store of the test's own: a fresh SQLite file, or a fresh schema on the PostgreSQL server.
class Backend : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    const std::string tag = std::to_string(getpid()) + "_" + std::to_string(n++);
    if (GetParam() == "sqlite") {
      dir_ = fs::temp_directory_path() / ("zhil-store-" + tag);
      fs::remove_all(dir_);
      where_ = (dir_ / "results.db").string();
      return;
    }
    const std::string uri = postgres_uri();
    if (uri.empty()) {
      if (std::getenv("ZHIL_TEST_POSTGRES_REQUIRED")) FAIL() << "ZHIL_TEST_POSTGRES_URI_FILE names no server";
      GTEST_SKIP() << "no PostgreSQL server for the tests (ctest starts one)";
    }
    schema_ = "t" + tag;
    open_sql(uri)->exec_script("CREATE SCHEMA " + schema_);
    where_ = uri + "?options=-csearch_path%3D" + schema_;
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
    if (!schema_.empty()) open_sql(postgres_uri())->exec_script("DROP SCHEMA " + schema_ + " CASCADE");
  }

  TestRecord record(const std::string& id, const std::string& started = "2026-11-20T10:00:00Z") {
    TestRecord r;
    r.run_id = id;
    r.started_utc = started;
    r.ended_utc = started;
    r.station_name = "bench-1pack";
    r.station_sha256 = "abc";
    r.scenario_name = "acceptance";
    r.core = "reference";
    r.verdict = Verdict::pass;
    return r;
  }

  fs::path dir_;
  std::string schema_, where_;
};

ResultsFilter filter(std::string serial, std::string product = "", std::string station = "", std::string since = "",
                     std::string verdict = "", std::size_t limit = 50) {
  ResultsFilter f;
  f.serial = std::move(serial);
  f.product = std::move(product);
  f.station = std::move(station);
  f.since = std::move(since);
  f.verdict = std::move(verdict);
  f.limit = limit;
  return f;
}

std::string show(ResultsStore& s, const std::string& id) {
  std::ostringstream o;
  s.show_run(id, o);
  return o.str();
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Store, Backend, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

TEST_P(Backend, MigratesAStoreOfTheFirstSchemaAndKeepsItsRuns) {
  {
    auto old = ResultsStore::open(where_, 1);
    EXPECT_EQ(schema_version(old->sql()), 1);
    old->sql().exec("INSERT INTO runs (run_id, kind, started_utc, verdict, station) VALUES ('old-run', 'run', "
                    "'2026-01-01T00:00:00Z', 'PASS', 'bench')");
    // Version 1 has no marginal bands.
    EXPECT_THROW(old->sql().exec("SELECT marginal FROM measurements"), SqlError);
  }
  auto store = ResultsStore::open(where_);
  EXPECT_EQ(schema_version(store->sql()), latest_schema_version());
  EXPECT_GE(latest_schema_version(), 2);
  const auto runs = store->list_runs({});
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].run_id, "old-run");
  MeasurementResult m{"capacity", "pack1.p", "negative_integral", "Wh", 150000.0, 140000.0, std::nullopt, "PASS", "x:1:1",
                      145000.0, std::nullopt, false};
  store->put_measurement("old-run", m, "");
  EXPECT_EQ(store->sql().query("SELECT marginal_low FROM measurements")[0][0], "145000");
  // Opening again migrates nothing twice.
  EXPECT_EQ(schema_version(ResultsStore::open(where_)->sql()), latest_schema_version());
}

TEST_P(Backend, RefusesAStoreNewerThanItKnows) {
  { auto s = ResultsStore::open(where_); s->sql().exec("INSERT INTO schema_migrations VALUES (999, 'x')"); }
  try {
    (void)ResultsStore::open(where_);
    FAIL() << "a newer store was opened";
  } catch (const SqlError& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 999"), std::string::npos) << e.what();
  }
}

TEST_P(Backend, ARunIsQueryableBySerialProductStationDateAndVerdict) {
  auto s = ResultsStore::open(where_);
  RunContext a{"accept", "attempt-1", {{"ZH-0001", "pack1", "zh-160kwh-16s"}}, "zh-160kwh-16s", "zh-160kwh-16s", "2", "f00"};
  TestRecord r = record("run-a", "2026-11-20T10:00:00Z");
  s->start_run(r, "/tmp/a", a);
  s->add_event("run-a", 0, 1.5, "timeline: pack1.fault.internal_short = 1");
  EXPECT_EQ(s->list_runs(filter("", "", "", "", "RUNNING")).size(), 1u);
  r.measurements.push_back({"capacity", "pack1.p", "negative_integral", "Wh", 120000.0, 140000.0, std::nullopt, "FAIL",
                            "l.yaml:3:5", std::nullopt, std::nullopt, false});
  r.verdict = Verdict::fail;
  s->finish_run(r, a, dut_verdicts(r, a.duts));
  RunContext b{"run", "", {{"ZH-0002", "", ""}}, "", "", "", ""};
  TestRecord r2 = record("run-b", "2026-11-24T08:00:00Z");
  r2.station_name = "bench-2";
  s->start_run(r2, "/tmp/b", b);
  s->finish_run(r2, b, dut_verdicts(r2, b.duts));

  auto ids = [&](ResultsFilter f) {
    std::string out;
    for (const auto& row : s->list_runs(f)) out += row.run_id + " ";
    return out;
  };
  EXPECT_EQ(ids(filter("")), "run-b run-a ");  // newest first
  EXPECT_EQ(ids(filter("ZH-0001")), "run-a ");
  EXPECT_EQ(ids(filter("", "zh-160kwh-16s")), "run-a ");
  EXPECT_EQ(ids(filter("", "", "bench-2")), "run-b ");
  EXPECT_EQ(ids(filter("", "", "", "2026-11-21")), "run-b ");
  EXPECT_EQ(ids(filter("", "", "", "", "FAIL")), "run-a ");
  EXPECT_EQ(ids(filter("nobody")), "");
  const std::string text = show(*s, "run-a");
  EXPECT_NE(text.find("FAIL     ZH-0001"), std::string::npos) << text;
  EXPECT_NE(text.find("capacity = 120000 Wh  limits [140000, ]  DUT ZH-0001"), std::string::npos) << text;
  EXPECT_NE(text.find("internal_short"), std::string::npos) << text;
  EXPECT_NE(text.find("limit set version   2"), std::string::npos) << text;
  EXPECT_THROW((void)s->find_run("run-"), SqlError);  // two runs start so
  EXPECT_EQ(s->find_run("run-a").value(), "run-a");
  std::ostringstream csv;
  EXPECT_EQ(s->export_csv(filter("ZH-0001"), csv), 1u);
  EXPECT_NE(csv.str().find("run-a,2026-11-20T10:00:00Z,accept,bench-1pack,acceptance,FAIL,zh-160kwh-16s,2,ZH-0001,"
                           "capacity,120000,Wh,140000,,,,FAIL,0"),
            std::string::npos)
      << csv.str();
}

TEST_P(Backend, RunsOfAProcessThatWasKilledAreMarkedAbortedAndKeepWhatTheyCommitted) {
  // A run of this process, still going, is left alone.
  auto live = ResultsStore::open(where_);
  live->start_run(record("live-run"), "/tmp/l", {});
  live->hold_run_lock("live-run");
  const pid_t child = fork();
  if (child == 0) {
    // The child starts a run, commits an event, and is killed outright.
    auto s = ResultsStore::open(where_);
    RunContext ctx{"run", "", {{"ZH-9", "", ""}}, "", "", "", ""};
    s->start_run(record("killed-run"), "/tmp/k", ctx);
    s->hold_run_lock("killed-run");
    s->add_event("killed-run", 0, 3.0, "committed before the kill");
    raise(SIGKILL);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  // PostgreSQL notices the killed client's connection close on its own time: wait for that
  // (a condition, with a deadline), not for a fixed delay.
  std::vector<std::string> marked;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       marked.empty() && std::chrono::steady_clock::now() < deadline;) {
    marked = ResultsStore::open(where_)->marked_aborted();
    if (marked.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(marked, std::vector<std::string>{"killed-run"});
  auto s = ResultsStore::open(where_);
  EXPECT_TRUE(s->marked_aborted().empty());  // once
  const std::string text = show(*s, "killed-run");
  EXPECT_NE(text.find("verdict             ABORTED"), std::string::npos) << text;
  EXPECT_NE(text.find("committed before the kill"), std::string::npos) << text;
  EXPECT_NE(text.find("ABORTED  ZH-9"), std::string::npos) << text;
  EXPECT_EQ(s->list_runs(filter("", "", "", "", "RUNNING")).size(), 1u);  // live-run
}

TEST_P(Backend, TwoStationsWritingAtOnceLoseNothing) {
  (void)ResultsStore::open(where_);
  constexpr int kRuns = 60, kEvents = 20;
  std::function<void(const std::string&)> write_station;
  // Each station writes as the run sink does, holding its run's lock while the run goes (so the
  // other, opening the store meanwhile, does not take its runs for dead).
  std::vector<std::string> errors;
  std::mutex errors_m;
  auto station = [&](const std::string& name) {
    try {
      write_station(name);
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> l(errors_m);
      errors.push_back(name + ": " + e.what());
    }
  };
  write_station = [&](const std::string& name) {
    auto s = ResultsStore::open(where_);
    for (int k = 0; k < kRuns; ++k) {
      const std::string id = name + "-" + std::to_string(k);
      RunContext ctx{"run", "", {{name + "-SN-" + std::to_string(k), "pack1", "p"}}, "p", "", "", ""};
      TestRecord r = record(id);
      r.station_name = name;
      {
        SqlTransaction tx(s->sql());
        s->start_run(r, "/tmp", ctx);
        s->hold_run_lock(id);
        tx.commit();
      }
      for (int e = 0; e < kEvents; ++e) {
        SqlTransaction tx(s->sql());
        s->add_event(id, static_cast<std::uint64_t>(e), e, "event");
        tx.commit();
      }
      r.measurements.push_back({"m", "pack1.p", "max", "W", 1.0 * k, std::nullopt, std::nullopt, "PASS", "", std::nullopt,
                                std::nullopt, false});
      SqlTransaction tx(s->sql());
      s->finish_run(r, ctx, dut_verdicts(r, ctx.duts));
      tx.commit();
      s->release_run_lock(id);
    }
  };
  std::thread a(station, "station-a"), b(station, "station-b");
  a.join();
  b.join();
  ASSERT_TRUE(errors.empty()) << errors.front();
  auto s = ResultsStore::open(where_);
  EXPECT_EQ(s->sql().query("SELECT COUNT(*) FROM runs WHERE verdict = 'PASS'")[0][0], std::to_string(2 * kRuns));
  EXPECT_EQ(s->sql().query("SELECT COUNT(*) FROM events")[0][0], std::to_string(2 * kRuns * kEvents));
  EXPECT_EQ(s->sql().query("SELECT COUNT(*) FROM measurements")[0][0], std::to_string(2 * kRuns));
  EXPECT_EQ(s->list_runs(filter("", "", "station-b", "", "", 0)).size(), static_cast<std::size_t>(kRuns));
}

TEST(DutVerdicts, OneFailingPackFailsOnlyItselfAndABenchErrorDecidesNone) {
  const std::vector<DutRef> duts{{"SN1", "pack1", ""}, {"SN2", "pack2", ""}, {"SN3", "pack11", ""}};
  TestRecord r;
  r.verdict = Verdict::fail;
  r.measurements.push_back({"pack2.capacity", "pack2.p", "negative_integral", "Wh", 1.0, 2.0, std::nullopt, "FAIL", "",
                            std::nullopt, std::nullopt, false});
  r.measurements.push_back({"pack1.capacity", "pack1.p", "negative_integral", "Wh", 3.0, 2.0, std::nullopt, "PASS", "",
                            std::nullopt, std::nullopt, false});
  EXPECT_EQ(dut_verdicts(r, duts), (std::vector<std::string>{"PASS", "FAIL", "PASS"}));
  // A check on pack11 is not pack1's.
  CheckResult c;
  c.condition = "pack11.contactor == 0";
  c.outcome = CheckOutcome::fail;
  r.checks.push_back(c);
  EXPECT_EQ(dut_verdicts(r, duts), (std::vector<std::string>{"PASS", "FAIL", "FAIL"}));
  // A bench-level check fails everyone; a bench error decides no one.
  c.condition = "grid.p_import < 1e6";
  r.checks.push_back(c);
  EXPECT_EQ(dut_verdicts(r, duts), (std::vector<std::string>{"FAIL", "FAIL", "FAIL"}));
  r.verdict = Verdict::error;
  EXPECT_EQ(dut_verdicts(r, duts), (std::vector<std::string>{"ERROR", "ERROR", "ERROR"}));
  EXPECT_EQ(dut_of_signal("pack1.p / pack1.p", duts), "SN1");
  // A device that serves one pack alone speaks of that pack.
  std::vector<DutRef> with_inverters = duts;
  with_inverters[1].devices = {"inv2"};
  EXPECT_EQ(dut_of_signal("inv2.tripped == 0", with_inverters), "SN2");
  EXPECT_EQ(dut_of_signal("inv2.tripped == 0", duts), "");
  EXPECT_EQ(dut_of_signal("hall.p", {{"ONLY", "", ""}}), "ONLY");
}

TEST(AcceptanceIdentity, OnlyTheSerialItselfMatches) {
  EXPECT_TRUE(zhil::lab::identity_names_serial("zhil ZH-0001 2.6", "ZH-0001"));
  EXPECT_TRUE(zhil::lab::identity_names_serial("ZH-0001", "ZH-0001"));
  EXPECT_FALSE(zhil::lab::identity_names_serial("zhil ZH-00011 2.6", "ZH-0001"));
  EXPECT_FALSE(zhil::lab::identity_names_serial("", "ZH-0001"));
  // The HV CAN map: the serial as a number first, then the firmware major.
  EXPECT_TRUE(zhil::lab::identity_names_serial("1 2", "ZH-BENCH-0001"));
  EXPECT_FALSE(zhil::lab::identity_names_serial("1 2", "ZH-BENCH-0002"));  // 2 is the firmware, not a serial
  EXPECT_FALSE(zhil::lab::identity_names_serial("zhil 7", "ZH-7"));        // a number elsewhere is not a serial
}
