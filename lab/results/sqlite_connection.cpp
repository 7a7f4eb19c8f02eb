// The results store on SQLite: one file, WAL mode (readers do not block the run that writes, and
// a commit survives the process being killed), a busy timeout so that two stations writing to one
// file queue rather than fail.
#include <sqlite3.h>

#include <charconv>
#include <filesystem>

#include "lab/results/sql_connection.hpp"

namespace zhil::lab {
namespace {

class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(const std::string& path) : path_(path) {
    std::error_code ec;
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
      const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw SqlError("results store " + describe() + ": cannot open: " + why);
    }
    sqlite3_busy_timeout(db_, 30000);
    // WAL with synchronous=NORMAL: a commit is durable when the process dies (kill -9); only a
    // power loss may take the last commits back, never corrupt the file.
    exec_script("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON");
  }
  ~SqliteConnection() override { sqlite3_close(db_); }

  SqlDialect dialect() const override { return SqlDialect::sqlite; }
  std::string describe() const override { return "sqlite:" + path_; }

  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlParam>& params) override {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &st, nullptr) != SQLITE_OK)
      fail("prepare", sql);
    struct Finalize {
      sqlite3_stmt* s;
      ~Finalize() { sqlite3_finalize(s); }
    } fin{st};
    // $1, $2... as PostgreSQL writes them: SQLite takes them as named parameters.
    for (std::size_t k = 0; k < params.size(); ++k) {
      const int idx = sqlite3_bind_parameter_index(st, ("$" + std::to_string(k + 1)).c_str());
      if (idx == 0) continue;  // a parameter the statement does not use
      int rc = SQLITE_OK;
      const SqlParam& p = params[k];
      if (std::holds_alternative<std::nullptr_t>(p)) rc = sqlite3_bind_null(st, idx);
      else if (auto* i = std::get_if<std::int64_t>(&p)) rc = sqlite3_bind_int64(st, idx, *i);
      else if (auto* d = std::get_if<double>(&p)) rc = sqlite3_bind_double(st, idx, *d);
      else {
        const std::string& s = std::get<std::string>(p);
        rc = sqlite3_bind_text(st, idx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      }
      if (rc != SQLITE_OK) fail("bind", sql);
    }
    std::vector<SqlRow> rows;
    for (;;) {
      const int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) fail("run", sql);
      const int n = sqlite3_column_count(st);
      SqlRow row(static_cast<std::size_t>(n));
      for (int c = 0; c < n; ++c) {
        const int type = sqlite3_column_type(st, c);
        if (type == SQLITE_NULL) continue;
        if (type == SQLITE_FLOAT) {
          // As PostgreSQL writes them (shortest exact: 145000, 0.1), not SQLite's 145000.0.
          char buf[32];
          auto r = std::to_chars(buf, buf + sizeof buf, sqlite3_column_double(st, c));
          row[static_cast<std::size_t>(c)] = std::string(buf, r.ptr);
          continue;
        }
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
        row[static_cast<std::size_t>(c)] = std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(st, c)));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  void exec_script(const std::string& sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string why = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      throw SqlError("results store " + describe() + ": " + why + " (in: " + first_line(sql) + ")");
    }
  }

  void begin() override { exec_script("BEGIN IMMEDIATE"); }
  void lock_for_migration() override {}  // BEGIN IMMEDIATE already holds the file's write lock

 private:
  static std::string first_line(const std::string& sql) {
    const auto s = sql.find_first_not_of(" \n");
    const std::string t = s == std::string::npos ? sql : sql.substr(s);
    const auto nl = t.find('\n');
    return nl == std::string::npos ? t : t.substr(0, nl) + " ...";
  }
  [[noreturn]] void fail(const char* what, const std::string& sql) {
    throw SqlError("results store " + describe() + ": cannot " + what + " statement: " + sqlite3_errmsg(db_) +
                   " (in: " + first_line(sql) + ")");
  }

  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<SqlConnection> open_sqlite(const std::string& path) { return std::make_unique<SqliteConnection>(path); }

}  // namespace zhil::lab
