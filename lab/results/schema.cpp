#include "lab/results/schema.hpp"

#include "harness/recording/test_record.hpp"

namespace zhil::lab {
namespace {

// One SQL for both backends: TEXT, BIGINT, DOUBLE PRECISION and composite keys (no
// autoincrement, whose syntax differs). Times are ISO 8601 UTC text, which sorts as time does.
// A migration is only ever appended, never edited: stores out there are at every version.
const char* const kMigrations[] = {
    // 1: runs, what they tested, and what they left
    R"(
CREATE TABLE stations (
  name TEXT NOT NULL, sha256 TEXT NOT NULL, file TEXT, first_seen_utc TEXT,
  PRIMARY KEY (name, sha256));
CREATE TABLE duts (
  serial TEXT PRIMARY KEY, product TEXT, manufacturer TEXT, firmware TEXT, first_seen_utc TEXT, last_seen_utc TEXT);
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY, kind TEXT NOT NULL, batch TEXT,
  scenario TEXT, scenario_file TEXT, scenario_sha256 TEXT,
  station TEXT, station_file TEXT, station_sha256 TEXT,
  core TEXT, seed BIGINT, real_time BIGINT, software_version TEXT,
  host TEXT, pid BIGINT, pid_start TEXT,
  started_utc TEXT NOT NULL, ended_utc TEXT, verdict TEXT NOT NULL, error TEXT,
  out_dir TEXT, sim_end_s DOUBLE PRECISION, record TEXT);
CREATE INDEX runs_started ON runs (started_utc);
CREATE INDEX runs_verdict ON runs (verdict);
CREATE INDEX runs_station ON runs (station);
CREATE TABLE run_duts (
  run_id TEXT NOT NULL REFERENCES runs (run_id), serial TEXT NOT NULL, position TEXT, verdict TEXT,
  PRIMARY KEY (run_id, serial));
CREATE INDEX run_duts_serial ON run_duts (serial);
CREATE TABLE checks (
  run_id TEXT NOT NULL REFERENCES runs (run_id), name TEXT NOT NULL, kind TEXT, condition TEXT, outcome TEXT,
  t_s DOUBLE PRECISION, evidence TEXT, location TEXT,
  PRIMARY KEY (run_id, name));
CREATE TABLE measurements (
  run_id TEXT NOT NULL REFERENCES runs (run_id), name TEXT NOT NULL, dut_serial TEXT, signal TEXT, aggregate TEXT,
  value DOUBLE PRECISION, unit TEXT, low DOUBLE PRECISION, high DOUBLE PRECISION, verdict TEXT,
  PRIMARY KEY (run_id, name));
CREATE TABLE events (
  run_id TEXT NOT NULL REFERENCES runs (run_id), seq BIGINT NOT NULL, t_s DOUBLE PRECISION, what TEXT,
  PRIMARY KEY (run_id, seq));
CREATE TABLE artifacts (
  run_id TEXT NOT NULL REFERENCES runs (run_id), kind TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT, bytes BIGINT,
  PRIMARY KEY (run_id, path));
)",
    // 2: acceptance: products and limit sets, marginal bands, attempts
    R"(
ALTER TABLE runs ADD COLUMN product TEXT;
ALTER TABLE runs ADD COLUMN limit_set TEXT;
ALTER TABLE runs ADD COLUMN limit_set_version TEXT;
ALTER TABLE runs ADD COLUMN limit_set_sha256 TEXT;
ALTER TABLE measurements ADD COLUMN marginal_low DOUBLE PRECISION;
ALTER TABLE measurements ADD COLUMN marginal_high DOUBLE PRECISION;
ALTER TABLE measurements ADD COLUMN marginal BIGINT;
CREATE INDEX measurements_serial ON measurements (dut_serial);
CREATE INDEX duts_product ON duts (product);
)",
    // 3: resumable runs: checkpoints (the newest of each run), and how often a run was resumed
    R"(
CREATE TABLE checkpoints (
  run_id TEXT NOT NULL REFERENCES runs (run_id), seq BIGINT NOT NULL, t_s DOUBLE PRECISION, cycles BIGINT,
  created_utc TEXT, bytes BIGINT, sha256 TEXT, state TEXT NOT NULL,
  PRIMARY KEY (run_id, seq));
ALTER TABLE runs ADD COLUMN resumptions BIGINT;
)",
};
constexpr int kLatest = static_cast<int>(sizeof kMigrations / sizeof kMigrations[0]);

bool has_version_table(SqlConnection& c) {
  const char* sql = c.dialect() == SqlDialect::sqlite
                        ? "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
                        : "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND "
                          "table_name = 'schema_migrations'";
  return !c.query(sql).empty();
}

}  // namespace

int latest_schema_version() { return kLatest; }

int schema_version(SqlConnection& c) {
  if (!has_version_table(c)) return 0;
  const auto rows = c.query("SELECT MAX(version) FROM schema_migrations");
  return rows.empty() || !rows[0][0] ? 0 : std::stoi(*rows[0][0]);
}

void migrate(SqlConnection& c, int target) {
  if (target < 0) target = kLatest;
  // Cheap check first: a store that is up to date takes no write lock.
  if (schema_version(c) == target) return;
  SqlTransaction tx(c);
  c.lock_for_migration();
  c.exec_script("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_utc TEXT NOT NULL)");
  const int at = schema_version(c);
  if (at > kLatest)
    throw SqlError("results store " + c.describe() + " is at schema version " + std::to_string(at) +
                   ", newer than this zhil knows (" + std::to_string(kLatest) + "): use a newer zhil");
  for (int v = at + 1; v <= target; ++v) {
    c.exec_script(kMigrations[v - 1]);
    c.exec("INSERT INTO schema_migrations (version, applied_utc) VALUES ($1, $2)",
           {std::int64_t{v}, utc_timestamp()});
  }
  tx.commit();
}

}  // namespace zhil::lab
