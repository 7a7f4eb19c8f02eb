// Results store benchmark: ingest rate (runs per second, written as the run sink writes them) and
// query times with 100,000 runs stored, on SQLite or PostgreSQL.
//
//   zhil_store_bench --db FILE|postgresql://... [--ingest 2000] [--stored 100000]
//
// lab/store-bench.sh runs it on both backends (a throwaway PostgreSQL cluster, as the tests use).
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "lab/reports/spc_command.hpp"
#include "lab/results/results_store.hpp"

using namespace zhil;
using namespace zhil::lab;
using clk = std::chrono::steady_clock;

namespace {

double since(clk::time_point t) { return std::chrono::duration<double>(clk::now() - t).count(); }

// A run as a real one writes it: started, 20 events, 7 checks, 10 measurements, 4 artifacts.
void ingest_one(ResultsStore& s, int k) {
  TestRecord r;
  char id[64];
  std::snprintf(id, sizeof id, "bench-%08d", k);
  r.run_id = id;
  r.started_utc = r.ended_utc = "2026-11-26T10:00:00Z";
  r.station_name = "station-" + std::to_string(k % 8);
  r.station_sha256 = "0";
  r.scenario_name = "acceptance";
  r.verdict = Verdict::pass;
  RunContext ctx{"accept", "", {{"ING-" + std::to_string(k), "pack1", "zh-160kwh-16s"}}, "zh-160kwh-16s", "l", "1", "0"};
  {
    SqlTransaction tx(s.sql());
    s.start_run(r, "/tmp", ctx);
    tx.commit();
  }
  {
    SqlTransaction tx(s.sql());
    for (int e = 0; e < 20; ++e) s.add_event(r.run_id, static_cast<std::uint64_t>(e), e, "timeline: event");
    tx.commit();
  }
  for (int c = 0; c < 7; ++c) {
    CheckResult cr;
    cr.name = "check" + std::to_string(c);
    cr.kind = "always";
    cr.condition = "pack1.soc > 0";
    cr.outcome = CheckOutcome::pass;
    r.checks.push_back(cr);
  }
  for (int m = 0; m < 10; ++m)
    r.measurements.push_back({"pack1.m" + std::to_string(m), "pack1.p", "max", "W", 1.0 * m, 0.0, 100.0, "PASS", "",
                              std::nullopt, std::nullopt, false});
  SqlTransaction tx(s.sql());
  s.finish_run(r, ctx, dut_verdicts(r, ctx.duts));
  for (const char* a : {"record.json", "junit.xml", "timeseries.csv", "can-can0.log"})
    s.add_artifact(r.run_id, "file", std::string("/tmp/") + id + "/" + a, "0", 1);
  tx.commit();
}

// Synthetic runs in bulk, straight in SQL: serial SN-nnnnnn for every run (each pack tested on
// three stations over time: three runs per serial), 5 measurements each.
void fill(SqlConnection& c, long n) {
  const bool pg = c.dialect() == SqlDialect::postgresql;
  const std::string series = pg ? "SELECT generate_series(1, " + std::to_string(n) + ") AS k"
                                : "WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < " +
                                      std::to_string(n) + ") SELECT k FROM s";
  const std::string pad = pg ? "lpad(CAST(k / 3 AS TEXT), 6, '0')" : "printf('%06d', k / 3)";
  const std::string day = pg ? "lpad(CAST(1 + k % 28 AS TEXT), 2, '0')" : "printf('%02d', 1 + k % 28)";
  c.exec_script("BEGIN");
  c.exec_script("INSERT INTO runs (run_id, kind, scenario, station, started_utc, verdict, product) SELECT 'syn-' || k, "
                "'accept', 'acceptance', 'station-' || (k % 8), '2026-10-' || " + day + " || 'T08:00:00Z', CASE WHEN k % 17 = 0 "
                "THEN 'FAIL' ELSE 'PASS' END, 'zh-160kwh-16s' FROM (" + series + ") AS t");
  c.exec_script("INSERT INTO run_duts (run_id, serial, position, verdict) SELECT 'syn-' || k, 'SN-' || " + pad +
                ", 'pack1', 'PASS' FROM (" + series + ") AS t");
  c.exec_script("INSERT INTO duts (serial, product) SELECT DISTINCT 'SN-' || " + pad + ", 'zh-160kwh-16s' FROM (" +
                series + ") AS t WHERE true ON CONFLICT (serial) DO NOTHING");  // WHERE: SQLite's upsert-after-SELECT rule
  for (int m = 0; m < 5; ++m)
    c.exec_script("INSERT INTO measurements (run_id, name, dut_serial, value, unit, verdict) SELECT 'syn-' || k, 'm" +
                  std::to_string(m) + "', 'SN-' || " + pad + ", k * 1.5, 'Wh', 'PASS' FROM (" + series + ") AS t");
  c.exec_script("COMMIT");
  c.exec_script(pg ? "ANALYZE" : "ANALYZE");
}

template <class F>
double best_of(int n, F f) {
  double best = 1e9;
  for (int k = 0; k < n; ++k) {
    const auto t = clk::now();
    f();
    best = std::min(best, since(t));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db;
  long ingest = 2000, stored = 100000;
  for (int k = 1; k + 1 < argc; k += 2) {
    if (!std::strcmp(argv[k], "--db")) db = argv[k + 1];
    else if (!std::strcmp(argv[k], "--ingest")) ingest = std::atol(argv[k + 1]);
    else if (!std::strcmp(argv[k], "--stored")) stored = std::atol(argv[k + 1]);
  }
  if (db.empty()) {
    std::fprintf(stderr, "usage: zhil_store_bench --db FILE|postgresql://... [--ingest N] [--stored N]\n");
    return 2;
  }
  try {
    auto s = ResultsStore::open(db);
    if (!s->sql().query("SELECT 1 FROM runs LIMIT 1").empty()) {
      std::fprintf(stderr, "zhil_store_bench: %s is not empty: give it a store of its own\n", db.c_str());
      return 2;
    }
    auto t = clk::now();
    for (long k = 0; k < ingest; ++k) ingest_one(*s, static_cast<int>(k));
    const double ingest_s = since(t);
    std::printf("%s\n  ingest: %ld runs in %.2f s = %.0f runs/s (each: start, 20 events, 7 checks, 10 measurements, "
                "4 artifacts; 3 commits)\n",
                s->describe().c_str(), ingest, ingest_s, ingest / ingest_s);
    t = clk::now();
    fill(s->sql(), stored - ingest);
    std::printf("  filled to %ld runs in %.1f s (bulk SQL)\n", stored, since(t));
    ResultsFilter bySerial;
    bySerial.serial = "SN-012345";
    std::size_t found = 0;
    const double q_serial = best_of(5, [&] { found = s->list_runs(bySerial).size(); });
    std::printf("  zhil results list --serial SN-012345: %zu runs in %.1f ms\n", found, q_serial * 1e3);
    ResultsFilter summary;
    summary.since = "2026-10-01";
    std::ostringstream sink;
    const double q_summary = best_of(5, [&] { sink.str(""); s->summary(summary, sink); });
    std::printf("  zhil results summary --since 2026-10-01 (%ld runs by product, station, verdict): %.1f ms\n", stored,
                q_summary * 1e3);
    ResultsFilter recent;
    const double q_list = best_of(5, [&] { found = s->list_runs(recent).size(); });
    std::printf("  zhil results list (newest 50): %.1f ms\n", q_list * 1e3);
    const double q_export = best_of(3, [&] { sink.str(""); found = s->export_csv(bySerial, sink); });
    std::printf("  zhil results export --serial SN-012345: %zu rows in %.1f ms\n", found, q_export * 1e3);
    // zhil spc over every stored run's m0 (100,000 values on 8 stations): query, statistics, rules,
    // and the chart page.
    SpcRequest spc;
    spc.db = db;
    spc.measurement = "m0";
    spc.product = "zh-160kwh-16s";
    spc.html = "/tmp/zhil-store-bench-spc.html";
    spc.json = true;
    std::fflush(stdout);
    const int saved = dup(1);
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);  // the figures it prints are not the benchmark's
    const double q_spc = best_of(3, [&] { (void)run_spc(spc); std::cout.flush(); });
    dup2(saved, 1);
    close(null);
    close(saved);
    std::remove(spc.html.c_str());
    std::printf("  zhil spc m0 --product zh-160kwh-16s (%ld values, 8 stations, with its chart page): %.0f ms\n", stored,
                q_spc * 1e3);
    return q_serial < 1.0 && q_summary < 1.0 && q_spc < 2.0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zhil_store_bench: %s\n", e.what());
    return 2;
  }
}
