#pragma once
// One connection to the database behind the results store: SQLite (a file, the default) or
// PostgreSQL (a lab's shared server). The store speaks one SQL that both accept (TEXT, BIGINT,
// DOUBLE PRECISION, `$1` parameters, INSERT ... ON CONFLICT); the little that differs is asked of
// the connection (dialect(), lock_for_migration()).
//
// Errors are returned as exceptions of one type, SqlError, whose message names the database and
// the statement that failed: a store's caller turns them into a run's or a command's error.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace zhil::lab {

class SqlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using SqlParam = std::variant<std::nullptr_t, std::int64_t, double, std::string>;
// A row's columns as text (as PostgreSQL returns them); nullopt for NULL.
using SqlRow = std::vector<std::optional<std::string>>;

enum class SqlDialect { sqlite, postgresql };

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual SqlDialect dialect() const = 0;
  virtual std::string describe() const = 0;  // for messages: "sqlite:zhil-results/results.db"
  // One statement with $1.. parameters; rows (if any) as text.
  virtual std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlParam>& params = {}) = 0;
  void exec(const std::string& sql, const std::vector<SqlParam>& params = {}) { (void)query(sql, params); }
  // Several statements, no parameters (a migration's DDL).
  virtual void exec_script(const std::string& sql) = 0;
  // A transaction that takes the write lock at once (SQLite: BEGIN IMMEDIATE), so that two
  // writers queue rather than fail half-way.
  virtual void begin() = 0;
  void commit() { exec_script("COMMIT"); }
  void rollback() noexcept;
  // Inside a transaction: no other process migrates the schema until it ends.
  virtual void lock_for_migration() = 0;
  // A connection that broke (a server restarted) is made again; true if it was. Throws SqlError
  // if it cannot be.
  virtual bool reconnect_if_broken() { return false; }
};

// Rolls back unless committed.
class SqlTransaction {
 public:
  explicit SqlTransaction(SqlConnection& c) : c_(c) { c_.begin(); }
  ~SqlTransaction() {
    if (!done_) c_.rollback();
  }
  void commit() {
    c_.commit();
    done_ = true;
  }

 private:
  SqlConnection& c_;
  bool done_ = false;
};

// `postgresql://...` or `postgres://...` opens PostgreSQL; anything else is a SQLite file path
// (its folder is created). Throws SqlError.
std::unique_ptr<SqlConnection> open_sql(const std::string& where);
bool is_postgresql_uri(const std::string& where);

}  // namespace zhil::lab
