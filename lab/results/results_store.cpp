#include "lab/results/results_store.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "harness/recording/sha256.hpp"
#include "harness/recording/test_record.hpp"
#include "lab/results/schema.hpp"

namespace zhil::lab {
namespace {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

// A process's start time (clock ticks since boot, /proc/PID/stat field 22): with the pid, it
// names one process even after the pid is reused. Empty if there is no such process.
std::string process_start(long pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(f, text)) return "";
  const auto close = text.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return "";
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  for (int k = 3; k <= 22; ++k)
    if (!(rest >> field)) return "";
  return field;
}

SqlParam opt(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return *v;
}
SqlParam text_or_null(const std::string& s) {
  if (s.empty()) return nullptr;
  return s;
}
std::string col(const SqlRow& r, std::size_t k) { return k < r.size() && r[k] ? *r[k] : ""; }

// The run's advisory-lock key on PostgreSQL: 64 bits of the run id's MD5, computed by the server.
const char* kRunLockKey = "('x' || substr(md5($1), 1, 16))::bit(64)::bigint";

std::string csv(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

}  // namespace

std::string default_results_location() {
  if (const char* e = std::getenv("ZHIL_DB"); e && *e) return e;
  return "zhil-results/results.db";
}

std::unique_ptr<ResultsStore> ResultsStore::open(const std::string& where, int schema_target) {
  auto store = std::make_unique<ResultsStore>(open_sql(where));
  migrate(store->sql(), schema_target);
  if (schema_target < 0) store->marked_aborted_ = store->mark_dead_runs_aborted();
  return store;
}

std::vector<std::string> ResultsStore::mark_dead_runs_aborted() {
  std::vector<std::string> dead;
  const auto rows = c_->query("SELECT run_id, host, pid, pid_start FROM runs WHERE verdict = 'RUNNING'");
  const std::string me = host_name();
  for (const auto& r : rows) {
    const std::string id = col(r, 0);
    bool gone = false;
    if (c_->dialect() == SqlDialect::postgresql) {
      // A running run's connection holds its lock; a lock that can be taken has no one behind it.
      try {
        const auto got = c_->query(std::string("SELECT pg_try_advisory_lock(") + kRunLockKey + ")", {id});
        gone = !got.empty() && col(got[0], 0) == "t";
        if (gone) c_->exec(std::string("SELECT pg_advisory_unlock(") + kRunLockKey + ")", {id});
      } catch (const SqlError&) {
        continue;  // left for the next opening
      }
    } else if (col(r, 1) == me) {
      // The pid alone if its start time could not be read when the run began (no /proc then).
      const long pid = std::atol(col(r, 2).c_str());
      const std::string start = process_start(pid);
      gone = pid <= 0 || start.empty() || (!col(r, 3).empty() && start != col(r, 3));
    }
    // Else a SQLite file written from another host (a shared folder): it cannot be told here.
    if (!gone) continue;
    // Only a run still RUNNING when the update takes its row: one that finished meanwhile (its
    // commit raced this check) keeps its verdicts. A failure here (a lock conflict with whoever
    // else is cleaning up) leaves the run for the next opening: it is no reason to refuse this one.
    try {
      SqlTransaction tx(*c_);
      const auto changed = c_->query(
          "UPDATE runs SET verdict = 'ABORTED', error = $2 WHERE run_id = $1 AND verdict = 'RUNNING' RETURNING run_id",
          {id, std::string("the process that ran it ended without finishing it (killed, or the machine stopped); "
                           "what it committed before is kept")});
      if (changed.empty()) continue;  // the transaction rolls back: nothing was changed
      c_->exec("UPDATE run_duts SET verdict = 'ABORTED' WHERE run_id = $1", {id});
      tx.commit();
      dead.push_back(id);
    } catch (const SqlError&) {
    }
  }
  return dead;
}

void ResultsStore::start_run(const TestRecord& r, const std::string& out_dir, const RunContext& ctx) {
  const long pid = static_cast<long>(getpid());
  c_->exec(
      "INSERT INTO stations (name, sha256, file, first_seen_utc) VALUES ($1, $2, $3, $4) "
      "ON CONFLICT (name, sha256) DO NOTHING",
      {r.station_name, r.station_sha256, r.station_file, r.started_utc});
  c_->exec(
      "INSERT INTO runs (run_id, kind, batch, scenario, scenario_file, scenario_sha256, station, station_file, "
      "station_sha256, core, seed, real_time, software_version, host, pid, pid_start, started_utc, verdict, out_dir, "
      "product, limit_set, limit_set_version, limit_set_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
      "$12, $13, $14, $15, $16, $17, 'RUNNING', $18, $19, $20, $21, $22) ON CONFLICT (run_id) DO NOTHING",
      {r.run_id, ctx.kind, text_or_null(ctx.batch), r.scenario_name, r.scenario_file, r.scenario_sha256, r.station_name,
       r.station_file, r.station_sha256, r.core, static_cast<std::int64_t>(r.seed), std::int64_t{r.real_time ? 1 : 0},
       r.software_version, host_name(), std::int64_t{pid}, process_start(pid), r.started_utc, out_dir,
       text_or_null(ctx.product), text_or_null(ctx.limit_set), text_or_null(ctx.limit_set_version),
       text_or_null(ctx.limit_set_sha256)});
  for (const DutRef& d : ctx.duts) {
    c_->exec(
        "INSERT INTO duts (serial, product, first_seen_utc, last_seen_utc) VALUES ($1, $2, $3, $3) "
        "ON CONFLICT (serial) DO UPDATE SET last_seen_utc = $3, product = COALESCE($2, duts.product)",
        {d.serial, text_or_null(d.product), r.started_utc});
    c_->exec(
        "INSERT INTO run_duts (run_id, serial, position, verdict) VALUES ($1, $2, $3, 'RUNNING') "
        "ON CONFLICT (run_id, serial) DO NOTHING",
        {r.run_id, d.serial, text_or_null(d.position)});
  }
}

void ResultsStore::add_event(const std::string& run_id, std::uint64_t seq, double t_s, const std::string& what) {
  c_->exec("INSERT INTO events (run_id, seq, t_s, what) VALUES ($1, $2, $3, $4) ON CONFLICT (run_id, seq) DO NOTHING",
           {run_id, static_cast<std::int64_t>(seq), t_s, what});
}

void ResultsStore::put_check(const std::string& run_id, const CheckResult& c) {
  SqlParam t = nullptr;
  std::string evidence;
  if (c.evidence) {
    t = c.evidence->t_s;
    nlohmann::json j;
    j["what"] = c.evidence->what;
    for (const auto& [n, v] : c.evidence->values) j["values"][n] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
    evidence = j.dump();
  }
  c_->exec(
      "INSERT INTO checks (run_id, name, kind, condition, outcome, t_s, evidence, location) VALUES ($1, $2, $3, $4, "
      "$5, $6, $7, $8) ON CONFLICT (run_id, name) DO UPDATE SET outcome = $5, t_s = $6, evidence = $7",
      {run_id, c.name, c.kind, c.condition, std::string(to_string(c.outcome)), t, text_or_null(evidence), c.where});
}

void ResultsStore::put_measurement(const std::string& run_id, const MeasurementResult& m, const std::string& dut) {
  c_->exec(
      "INSERT INTO measurements (run_id, name, dut_serial, signal, aggregate, value, unit, low, high, verdict, "
      "marginal_low, marginal_high, marginal) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
      "ON CONFLICT (run_id, name) DO UPDATE SET value = $6, verdict = $10, marginal = $13",
      {run_id, m.name, text_or_null(dut), m.signal, m.aggregate, opt(m.value), m.unit, opt(m.low), opt(m.high),
       m.outcome, opt(m.marginal_low), opt(m.marginal_high), std::int64_t{m.marginal ? 1 : 0}});
}

void ResultsStore::finish_run(const TestRecord& r, const RunContext& ctx, const std::vector<std::string>& dut_verdicts) {
  // A completed run is never resumed: its checkpoints go (a stopped one keeps them).
  if (r.verdict == Verdict::pass || r.verdict == Verdict::fail)
    c_->exec("DELETE FROM checkpoints WHERE run_id = $1", {r.run_id});
  for (const auto& c : r.checks) put_check(r.run_id, c);
  for (const auto& m : r.measurements) put_measurement(r.run_id, m, dut_of_signal(m.signal, ctx.duts));
  for (std::size_t k = 0; k < ctx.duts.size() && k < dut_verdicts.size(); ++k)
    c_->exec("UPDATE run_duts SET verdict = $3 WHERE run_id = $1 AND serial = $2",
             {r.run_id, ctx.duts[k].serial, dut_verdicts[k]});
  // The DUT's identity as its device reported it (the gate checked the serial).
  for (const DutRef& d : ctx.duts)
    for (const auto& dev : r.devices)
      if (dev.name == d.position && !dev.identity.empty())
        c_->exec("UPDATE duts SET firmware = $2 WHERE serial = $1", {d.serial, dev.identity});
  c_->exec(
      "UPDATE runs SET verdict = $2, error = $3, ended_utc = $4, sim_end_s = $5, record = $6, core = $7 "
      "WHERE run_id = $1",
      {r.run_id, std::string(to_string(r.verdict)), text_or_null(r.error), r.ended_utc, r.end_s, record_json_text(r),
       r.core});
}

void ResultsStore::add_artifact(const std::string& run_id, const std::string& kind, const std::string& path,
                                const std::string& sha256, std::uint64_t bytes) {
  c_->exec(
      "INSERT INTO artifacts (run_id, kind, path, sha256, bytes) VALUES ($1, $2, $3, $4, $5) "
      "ON CONFLICT (run_id, path) DO UPDATE SET sha256 = $4, bytes = $5",
      {run_id, kind, path, sha256, static_cast<std::int64_t>(bytes)});
}

namespace {

// Checkpoints are binary; both backends keep them as text (PostgreSQL's TEXT takes no NUL byte).
std::string to_hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (std::size_t k = 0; k < bytes.size(); ++k) {
    const auto b = static_cast<unsigned char>(bytes[k]);
    out[2 * k] = digits[b >> 4];
    out[2 * k + 1] = digits[b & 15];
  }
  return out;
}

bool from_hex(const std::string& hex, std::string& out) {
  if (hex.size() % 2) return false;
  out.assign(hex.size() / 2, '\0');
  auto nibble = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  for (std::size_t k = 0; k < out.size(); ++k) {
    const int hi = nibble(hex[2 * k]), lo = nibble(hex[2 * k + 1]);
    if (hi < 0 || lo < 0) return false;
    out[k] = static_cast<char>(hi << 4 | lo);
  }
  return true;
}

}  // namespace

void ResultsStore::put_checkpoint(const std::string& run_id, std::uint64_t seq, double t_s, std::uint64_t cycles,
                                  const std::string& encoded) {
  c_->exec(
      "INSERT INTO checkpoints (run_id, seq, t_s, cycles, created_utc, bytes, sha256, state) VALUES ($1, $2, $3, $4, "
      "$5, $6, $7, $8) ON CONFLICT (run_id, seq) DO UPDATE SET t_s = $3, cycles = $4, created_utc = $5, bytes = $6, "
      "sha256 = $7, state = $8",
      {run_id, static_cast<std::int64_t>(seq), t_s, static_cast<std::int64_t>(cycles), utc_timestamp(),
       static_cast<std::int64_t>(encoded.size()), sha256_hex(encoded), to_hex(encoded)});
  c_->exec("DELETE FROM checkpoints WHERE run_id = $1 AND seq < $2", {run_id, static_cast<std::int64_t>(seq) - 1});
}

void ResultsStore::resume_run(const std::string& run_id, std::uint64_t seq, std::uint64_t events_before, double t_s) {
  const long pid = static_cast<long>(getpid());
  // Only a stopped run: of two stations resuming one run at once, the second is refused.
  if (c_->query("UPDATE runs SET verdict = 'RUNNING', error = NULL, ended_utc = NULL, sim_end_s = NULL, record = NULL, "
                "host = $2, pid = $3, pid_start = $4, resumptions = COALESCE(resumptions, 0) + 1 WHERE run_id = $1 "
                "AND verdict IN ('ABORTED', 'ERROR') RETURNING run_id",
                {run_id, host_name(), std::int64_t{pid}, process_start(pid)})
          .empty())
    throw SqlError("results store " + describe() + ": run " + run_id +
                   " is not stopped (another zhil resumed or finished it meanwhile)");
  c_->exec("UPDATE run_duts SET verdict = 'RUNNING' WHERE run_id = $1", {run_id});
  c_->exec("DELETE FROM events WHERE run_id = $1 AND seq >= $2", {run_id, static_cast<std::int64_t>(events_before)});
  c_->exec("DELETE FROM checks WHERE run_id = $1 AND (t_s IS NULL OR t_s > $2)", {run_id, t_s});
  c_->exec("DELETE FROM measurements WHERE run_id = $1", {run_id});
  c_->exec("DELETE FROM artifacts WHERE run_id = $1", {run_id});
  c_->exec("DELETE FROM checkpoints WHERE run_id = $1 AND seq > $2", {run_id, static_cast<std::int64_t>(seq)});
}

std::vector<ResultsStore::StoredCheckpoint> ResultsStore::checkpoints(const std::string& run_id) {
  std::vector<StoredCheckpoint> out;
  for (const SqlRow& r : c_->query("SELECT seq, t_s, created_utc, sha256, state FROM checkpoints WHERE run_id = $1 "
                                   "ORDER BY seq DESC",
                                   {run_id})) {
    StoredCheckpoint cp;
    cp.seq = std::stoull(r[0].value_or("0"));
    cp.t_s = std::stod(r[1].value_or("0"));
    cp.created_utc = r[2].value_or("");
    if (!from_hex(r[4].value_or(""), cp.encoded) || sha256_hex(cp.encoded) != r[3].value_or(""))
      throw SqlError("results store " + describe() + ": checkpoint " + std::to_string(cp.seq) + " of run " + run_id +
                     " is damaged (its SHA-256 does not match)");
    out.push_back(std::move(cp));
  }
  return out;
}

std::optional<ResultsStore::StoredRun> ResultsStore::stored_run(const std::string& run_id) {
  const auto rows = c_->query(
      "SELECT verdict, kind, out_dir, batch, product, limit_set, limit_set_version, limit_set_sha256 FROM runs "
      "WHERE run_id = $1",
      {run_id});
  if (rows.empty()) return std::nullopt;
  StoredRun r;
  r.verdict = rows[0][0].value_or("");
  r.kind = rows[0][1].value_or("");
  r.out_dir = rows[0][2].value_or("");
  r.context.kind = r.kind;
  r.context.batch = rows[0][3].value_or("");
  r.context.product = rows[0][4].value_or("");
  r.context.limit_set = rows[0][5].value_or("");
  r.context.limit_set_version = rows[0][6].value_or("");
  r.context.limit_set_sha256 = rows[0][7].value_or("");
  for (const SqlRow& d : c_->query("SELECT rd.serial, rd.position, du.product FROM run_duts rd LEFT JOIN duts du ON "
                                   "du.serial = rd.serial WHERE rd.run_id = $1 ORDER BY rd.position, rd.serial",
                                   {run_id}))
    r.context.duts.push_back({d[0].value_or(""), d[1].value_or(""), d[2].value_or("")});
  return r;
}

void ResultsStore::hold_run_lock(const std::string& run_id) {
  if (c_->dialect() != SqlDialect::postgresql) return;
  c_->exec(std::string("SELECT pg_advisory_lock(") + kRunLockKey + ")", {run_id});
  held_locks_.push_back(run_id);
}
void ResultsStore::release_run_lock(const std::string& run_id) {
  if (c_->dialect() != SqlDialect::postgresql) return;
  c_->exec(std::string("SELECT pg_advisory_unlock(") + kRunLockKey + ")", {run_id});
  held_locks_.erase(std::remove(held_locks_.begin(), held_locks_.end(), run_id), held_locks_.end());
}
void ResultsStore::recover() {
  if (!c_->reconnect_if_broken()) return;
  // A new session holds no locks: take the runs' again (their rows still say RUNNING; another
  // station that found the lock free meanwhile marked the run ABORTED, and its end will say so).
  for (const auto& id : held_locks_) c_->exec(std::string("SELECT pg_advisory_lock(") + kRunLockKey + ")", {id});
}

// ---------------------------------------------------------------------------------------------
// queries

namespace {

// WHERE clause and parameters for a filter over `runs`.
std::string where_clause(const ResultsFilter& f, std::vector<SqlParam>& params) {
  std::string w;
  auto add = [&](const std::string& cond, const std::string& value) {
    params.push_back(value);
    std::string c = cond;
    const std::string n = "$" + std::to_string(params.size());
    for (std::size_t p; (p = c.find("$?")) != std::string::npos;) c.replace(p, 2, n);
    w += (w.empty() ? " WHERE " : " AND ") + c;
  };
  if (!f.serial.empty()) add("runs.run_id IN (SELECT run_id FROM run_duts WHERE serial = $?)", f.serial);
  if (!f.product.empty())
    add("(runs.product = $? OR runs.run_id IN (SELECT rd.run_id FROM run_duts rd JOIN duts d ON d.serial = rd.serial "
        "WHERE d.product = $?))",
        f.product);
  if (!f.station.empty()) add("runs.station = $?", f.station);
  if (!f.since.empty()) add("runs.started_utc >= $?", f.since);
  if (!f.verdict.empty()) add("runs.verdict = $?", f.verdict);
  if (!f.kind.empty()) add("runs.kind = $?", f.kind);
  if (!f.scenario.empty()) add("runs.scenario = $?", f.scenario);
  return w;
}

}  // namespace

std::vector<RunSummaryRow> ResultsStore::list_runs(const ResultsFilter& f) {
  std::vector<SqlParam> params;
  const std::string agg = c_->dialect() == SqlDialect::sqlite ? "group_concat(serial, ',')" : "string_agg(serial, ',')";
  std::string sql = "SELECT run_id, started_utc, kind, scenario, station, verdict, (SELECT " + agg +
                    " FROM run_duts WHERE run_duts.run_id = runs.run_id), product FROM runs" + where_clause(f, params) +
                    " ORDER BY started_utc DESC, run_id DESC";
  if (f.limit) sql += " LIMIT " + std::to_string(f.limit);
  std::vector<RunSummaryRow> out;
  for (const auto& r : c_->query(sql, params))
    out.push_back({col(r, 0), col(r, 1), col(r, 2), col(r, 3), col(r, 4), col(r, 5), col(r, 6), col(r, 7)});
  return out;
}

std::optional<std::string> ResultsStore::find_run(const std::string& id) {
  if (!c_->query("SELECT 1 FROM runs WHERE run_id = $1", {id}).empty()) return id;
  // A prefix, as people type them: escape LIKE's own wildcards.
  std::string pattern;
  for (char ch : id) {
    if (ch == '%' || ch == '_' || ch == '\\') pattern += '\\';
    pattern += ch;
  }
  const auto rows = c_->query("SELECT run_id FROM runs WHERE run_id LIKE $1 ESCAPE '\\' LIMIT 2", {pattern + "%"});
  if (rows.empty()) return std::nullopt;
  if (rows.size() > 1) throw SqlError("run id '" + id + "' is the start of more than one run: give more of it");
  return col(rows[0], 0);
}

void ResultsStore::show_run(const std::string& id, std::ostream& o) {
  const auto runs = c_->query(
      "SELECT run_id, kind, batch, scenario, scenario_file, station, station_file, core, seed, real_time, "
      "software_version, host, started_utc, ended_utc, verdict, error, out_dir, sim_end_s, product, limit_set, "
      "limit_set_version, limit_set_sha256 FROM runs WHERE run_id = $1",
      {id});
  if (runs.empty()) throw SqlError("no run " + id + " in " + describe());
  const auto& r = runs[0];
  static const char* names[] = {"run",         "kind",     "batch",      "scenario",     "scenario file", "station",
                                "station file", "core",     "seed",       "real time",    "software",      "host",
                                "started",     "ended",    "verdict",    "error",        "results folder", "simulated end (s)",
                                "product",     "limit set", "limit set version", "limit set sha256"};
  for (std::size_t k = 0; k < r.size(); ++k)
    if (r[k] && !r[k]->empty()) o << std::left << std::setw(20) << names[k] << *r[k] << "\n";
  const auto duts = c_->query(
      "SELECT rd.serial, rd.position, rd.verdict, d.product, d.firmware FROM run_duts rd LEFT JOIN duts d ON "
      "d.serial = rd.serial WHERE rd.run_id = $1 ORDER BY rd.position, rd.serial",
      {id});
  if (!duts.empty()) o << "DUTs:\n";
  for (const auto& d : duts)
    o << "  " << std::setw(8) << col(d, 2) << " " << col(d, 0) << "  at " << col(d, 1) << "  product " << col(d, 3)
      << (col(d, 4).empty() ? "" : "  identity " + col(d, 4)) << "\n";
  const auto checks = c_->query("SELECT outcome, name, kind, condition, t_s, evidence FROM checks WHERE run_id = $1 ORDER BY name", {id});
  if (!checks.empty()) o << "checks:\n";
  for (const auto& c : checks) {
    o << "  " << std::setw(10) << col(c, 0) << " " << col(c, 1) << " (" << col(c, 2) << " " << col(c, 3) << ")";
    if (c[4]) o << " at t=" << *c[4] << " s " << col(c, 5);
    o << "\n";
  }
  const auto ms = c_->query(
      "SELECT verdict, name, value, unit, low, high, marginal, dut_serial FROM measurements WHERE run_id = $1 ORDER BY name",
      {id});
  if (!ms.empty()) o << "measurements:\n";
  for (const auto& m : ms) {
    o << "  " << std::setw(10) << (col(m, 6) == "1" ? col(m, 0) + "*" : col(m, 0)) << " " << col(m, 1) << " = "
      << (m[2] ? *m[2] : "none") << " " << col(m, 3);
    if (m[4] || m[5]) o << "  limits [" << (m[4] ? *m[4] : "") << ", " << (m[5] ? *m[5] : "") << "]";
    if (m[7]) o << "  DUT " << *m[7];
    o << "\n";
  }
  const auto ev = c_->query("SELECT t_s, what FROM events WHERE run_id = $1 ORDER BY seq", {id});
  if (!ev.empty()) o << "events:\n";
  for (const auto& e : ev) o << "  t=" << col(e, 0) << " s  " << col(e, 1) << "\n";
  const auto art = c_->query("SELECT kind, path, sha256, bytes FROM artifacts WHERE run_id = $1 ORDER BY path", {id});
  if (!art.empty()) o << "artifacts:\n";
  for (const auto& a : art) o << "  " << std::setw(11) << col(a, 0) << " " << col(a, 1) << "  " << col(a, 3) << " bytes  sha256 " << col(a, 2) << "\n";
}

std::size_t ResultsStore::export_csv(const ResultsFilter& f, std::ostream& o) {
  std::vector<SqlParam> params;
  std::string sql =
      "SELECT runs.run_id, runs.started_utc, runs.kind, runs.station, runs.scenario, runs.verdict, runs.product, "
      "runs.limit_set_version, m.dut_serial, m.name, m.value, m.unit, m.low, m.high, m.marginal_low, m.marginal_high, "
      "m.verdict, m.marginal FROM runs JOIN measurements m ON m.run_id = runs.run_id" +
      where_clause(f, params) + " ORDER BY runs.started_utc, runs.run_id, m.name";
  o << "run_id,started_utc,kind,station,scenario,run_verdict,product,limit_set_version,dut_serial,measurement,value,unit,"
       "low,high,marginal_low,marginal_high,verdict,marginal\n";
  std::size_t n = 0;
  for (const auto& r : c_->query(sql, params)) {
    for (std::size_t k = 0; k < r.size(); ++k) o << (k ? "," : "") << csv(col(r, k));
    o << "\n";
    ++n;
  }
  return n;
}

void ResultsStore::summary(const ResultsFilter& f, std::ostream& o) {
  std::vector<SqlParam> params;
  const std::string sql = "SELECT COALESCE(runs.product, ''), runs.station, runs.verdict, COUNT(*) FROM runs" +
                          where_clause(f, params) + " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";
  o << std::left << std::setw(20) << "product" << std::setw(24) << "station" << std::setw(10) << "verdict" << "runs\n";
  for (const auto& r : c_->query(sql, params))
    o << std::setw(20) << (col(r, 0).empty() ? "-" : col(r, 0)) << std::setw(24) << col(r, 1) << std::setw(10) << col(r, 2)
      << col(r, 3) << "\n";
}

// ---------------------------------------------------------------------------------------------
// DUTs

std::string dut_of_signal(const std::string& text, const std::vector<DutRef>& duts) {
  std::string found;
  int hits = 0;
  auto names = [&](const std::string& device) {
    if (device.empty()) return false;
    const std::string key = device + ".";
    for (std::size_t p = text.find(key); p != std::string::npos; p = text.find(key, p + 1))
      // A whole name: pack1. is not inside pack11. or xpack1.
      if (p == 0 || !(std::isalnum(static_cast<unsigned char>(text[p - 1])) || text[p - 1] == '_')) return true;
    return false;
  };
  for (const DutRef& d : duts) {
    bool named = names(d.position);
    for (const auto& dev : d.devices) named = named || names(dev);
    if (named && found != d.serial) {
      ++hits;
      found = d.serial;
    }
  }
  if (hits == 1) return found;
  if (hits == 0 && duts.size() == 1) return duts[0].serial;
  return "";
}

std::vector<std::string> dut_verdicts(const TestRecord& r, const std::vector<DutRef>& duts) {
  std::vector<std::string> out(duts.size(), "PASS");
  if (r.verdict == Verdict::error || r.verdict == Verdict::aborted) {
    std::fill(out.begin(), out.end(), to_string(r.verdict));
    return out;
  }
  auto fail = [&](const std::string& owner) {
    for (std::size_t k = 0; k < duts.size(); ++k)
      if (owner.empty() || duts[k].serial == owner) out[k] = "FAIL";
  };
  for (const auto& c : r.checks)
    if (c.outcome == CheckOutcome::fail) fail(dut_of_signal(c.condition, duts));
  for (const auto& m : r.measurements)
    if (m.outcome == "FAIL") fail(dut_of_signal(m.signal, duts));
  return out;
}

}  // namespace zhil::lab
