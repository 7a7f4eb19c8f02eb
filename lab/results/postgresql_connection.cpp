// The results store on PostgreSQL, for a lab whose stations share one server: libpq's C API
// (Debian's libpq-dev; libpqxx is not needed for a handful of parameterised statements).
#include <libpq-fe.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "lab/results/sql_connection.hpp"

namespace zhil::lab {
namespace {

// Where the server is, for messages: user, host, port and database as libpq reads the URI, never
// its password (in the authority or as ?password=).
std::string redact(const std::string& uri) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(uri.c_str(), &err);
  if (!opts) {
    PQfreemem(err);
    return "postgresql://(a URI libpq cannot read)";
  }
  std::string user, host, port, db;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val) continue;
    const std::string k = o->keyword;
    if (k == "user") user = o->val;
    else if (k == "host" || (k == "hostaddr" && host.empty())) host = o->val;
    else if (k == "port") port = o->val;
    else if (k == "dbname") db = o->val;
  }
  PQconninfoFree(opts);
  return "postgresql://" + (user.empty() ? "" : user + "@") + host + (port.empty() ? "" : ":" + port) + "/" + db;
}

class PostgresConnection final : public SqlConnection {
 public:
  explicit PostgresConnection(const std::string& uri) : shown_(redact(uri)), readable_(shown_.find("(a URI") == std::string::npos) {
    // Timeouts so that a server that stops answering fails the run's store, never hangs it: 10 s to
    // connect, TCP keepalives and a 30 s limit on unacknowledged data, 30 s per statement. The
    // URI's own settings win (it comes last); the environment's (PGCONNECT_TIMEOUT, PGOPTIONS)
    // are kept, as libpq would use them.
    const char* env_timeout = std::getenv("PGCONNECT_TIMEOUT");
    const char* env_options = std::getenv("PGOPTIONS");
    const std::string options = std::string(env_options ? env_options : "") + " -c statement_timeout=30000";
    const char* keys[] = {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
                          "tcp_user_timeout", "options", "dbname", nullptr};
    const char* values[] = {env_timeout ? env_timeout : "10", "1", "10", "5", "3", "30000", options.c_str(), uri.c_str(),
                            nullptr};
    conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK) {
      // libpq's words about a URI it cannot read may quote the password: not repeated then.
      std::string why = !readable_ ? "the URI cannot be read (check its percent-encoding)"
                        : conn_    ? PQerrorMessage(conn_) : "out of memory";
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      PQfinish(conn_);
      conn_ = nullptr;
      throw SqlError("results store " + shown_ + ": cannot connect: " + why);
    }
    exec_script("SET client_min_messages = warning");
  }
  ~PostgresConnection() override { PQfinish(conn_); }

  SqlDialect dialect() const override { return SqlDialect::postgresql; }
  std::string describe() const override { return shown_; }

  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlParam>& params) override {
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    for (std::size_t k = 0; k < params.size(); ++k) {
      const SqlParam& p = params[k];
      if (std::holds_alternative<std::nullptr_t>(p)) continue;
      if (auto* i = std::get_if<std::int64_t>(&p)) text[k] = std::to_string(*i);
      else if (auto* d = std::get_if<double>(&p)) {
        char buf[32];
        auto r = std::to_chars(buf, buf + sizeof buf, *d);  // shortest exact: the value reads back the same
        text[k].assign(buf, r.ptr);
      } else text[k] = std::get<std::string>(p);
      values[k] = text[k].c_str();
    }
    PGresult* res = PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr, values.data(), nullptr,
                                 nullptr, 0);
    struct Clear {
      PGresult* r;
      ~Clear() { PQclear(r); }
    } clear{res};
    const auto st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail(res, sql);
    std::vector<SqlRow> rows;
    const int n = PQntuples(res), m = PQnfields(res);
    rows.reserve(static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r) {
      SqlRow row(static_cast<std::size_t>(m));
      for (int c = 0; c < m; ++c)
        if (!PQgetisnull(res, r, c)) row[static_cast<std::size_t>(c)] = std::string(PQgetvalue(res, r, c), PQgetlength(res, r, c));
      rows.push_back(std::move(row));
    }
    return rows;
  }

  void exec_script(const std::string& sql) override {
    PGresult* res = PQexec(conn_, sql.c_str());
    struct Clear {
      PGresult* r;
      ~Clear() { PQclear(r); }
    } clear{res};
    const auto st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) fail(res, sql);
  }

  void begin() override { exec_script("BEGIN"); }
  bool reconnect_if_broken() override {
    if (PQstatus(conn_) == CONNECTION_OK) return false;
    PQreset(conn_);
    if (PQstatus(conn_) != CONNECTION_OK) throw SqlError("results store " + shown_ + ": connection lost, and not made again");
    return true;
  }
  // Two stations opening a fresh database at once: one migrates, the other waits and finds it done.
  void lock_for_migration() override { exec_script("SELECT pg_advisory_xact_lock(7142531)"); }

 private:
  [[noreturn]] void fail(PGresult* res, const std::string& sql) {
    std::string why = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
    if (why.empty()) why = PQerrorMessage(conn_);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    auto s = sql.find_first_not_of(" \n");
    std::string line = s == std::string::npos ? sql : sql.substr(s);
    if (auto nl = line.find('\n'); nl != std::string::npos) line = line.substr(0, nl) + " ...";
    throw SqlError("results store " + shown_ + ": " + why + " (in: " + line + ")");
  }

  std::string shown_;
  bool readable_ = true;  // libpq could parse the URI
  PGconn* conn_ = nullptr;
};

}  // namespace

std::unique_ptr<SqlConnection> open_postgresql(const std::string& uri) { return std::make_unique<PostgresConnection>(uri); }

}  // namespace zhil::lab
