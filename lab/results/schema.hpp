#pragma once
// The results store's schema, as numbered migrations: a store opened by a newer zhil is brought up
// to date in one transaction (under a lock, so two stations opening a fresh database do not both
// migrate it); a store newer than this zhil is refused rather than written wrongly.
#include "lab/results/sql_connection.hpp"

namespace zhil::lab {

int latest_schema_version();
// The version the store is at (0: empty).
int schema_version(SqlConnection& c);
// Applies migrations up to `target` (default: the latest). Throws SqlError.
void migrate(SqlConnection& c, int target = -1);

}  // namespace zhil::lab
