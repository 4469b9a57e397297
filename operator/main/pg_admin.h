// Small libpq helpers for the backup, restore and drill commands. The connection comes from the
// environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGSSLMODE, PGSSLROOTCERT), with `database` and,
// when given, other login credentials on top. Errors never include a password.
//
// Contract: each call opens and closes its own connection; single-threaded use.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "operator/core/result.h"

namespace sdb::cli {

struct PgLogin {
  std::string user, password;  // empty: from the environment
  bool readOnly = false;       // default_transaction_read_only=on for the session
};

// Runs one SQL string whose %I and %L placeholders are filled, in order, with escaped identifiers and
// literals from `args`. Statements that may not run in a transaction block (CREATE DATABASE) must be
// alone in `sql`.
Status execSql(const std::string& database, std::string sql, const std::vector<std::string>& args,
               const PgLogin& login = {});

// Runs ONE statement (extended protocol: a second statement is an error) with $1.. parameters.
// Returns the rows as text (NULL as "").
Result<std::vector<std::vector<std::string>>> querySql(const std::string& database, const std::string& sql,
                                                       const std::vector<std::string>& params, const PgLogin& login = {});

}  // namespace sdb::cli
