// Deterministic, namespace-aware PostgreSQL names for one ServiceDatabase.
//
// Contract: pure functions. `deriveNames(ns, name)` gives the database name and the three role
// names (owner NOLOGIN, migration login, app login). Properties (table-tested):
//  - deterministic; `a/orders` and `b/orders` never collide (namespace and name are joined with
//    '_', which Kubernetes names cannot contain, so the plain form is injective);
//  - at most 63 bytes (NAMEDATALEN-1); a name that is too long, or that had to be sanitised
//    (uppercase, characters outside [a-z0-9.-], empty parts), is cut and gets a SHA-256 suffix of
//    the raw input, so distinct inputs still give distinct names;
//  - never equal to a name special to Postgres (postgres, public, template0/1: ours always contain
//    '_'), and never starting with the reserved role prefix "pg_".
// Names are still always quoted with PQescapeIdentifier when used in SQL.
#pragma once

#include <string>
#include <string_view>

namespace sdb::engines::postgres {

inline constexpr size_t kMaxIdentifierBytes = 63;

struct Names {
  std::string database;
  std::string ownerRole;      // NOLOGIN, owns the database and schema public
  std::string migrationRole;  // LOGIN, member of ownerRole
  std::string appRole;        // LOGIN, DML only
};

Names deriveNames(std::string_view namespaceName, std::string_view name);

// Lowercase hex SHA-256 of `data`, first `hexChars` characters.
std::string shortHash(std::string_view data, size_t hexChars);

}  // namespace sdb::engines::postgres
