#include "lab/results/sql_connection.hpp"

namespace zhil::lab {

std::unique_ptr<SqlConnection> open_sqlite(const std::string& path);
std::unique_ptr<SqlConnection> open_postgresql(const std::string& uri);

void SqlConnection::rollback() noexcept {
  try {
    exec_script("ROLLBACK");
  } catch (...) {
    // Nothing to roll back (the failed statement ended the transaction): nothing lost either.
  }
}

bool is_postgresql_uri(const std::string& where) {
  return where.rfind("postgresql://", 0) == 0 || where.rfind("postgres://", 0) == 0;
}

std::unique_ptr<SqlConnection> open_sql(const std::string& where) {
  if (is_postgresql_uri(where)) return open_postgresql(where);
  if (where.empty()) throw SqlError("results store: no database given");
  return open_sqlite(where.rfind("sqlite:", 0) == 0 ? where.substr(7) : where);
}

}  // namespace zhil::lab
