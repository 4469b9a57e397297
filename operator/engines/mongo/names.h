// Deterministic, namespace-aware MongoDB names for one ServiceDatabase, and validation of names
// that come from user input (spec.databaseName).
//
// Contract: pure functions, thread-safe. Properties (table-tested in tests/unit/engines/mongo):
//  - derived database names are `<namespace>_<name>`, lowercase, from [a-z0-9_-] only, at most 63
//    bytes; a name that had to be changed (uppercase, '.', other characters, empty parts) or cut gets
//    "__" plus 10 hex characters of SHA-256 over the raw input, so distinct inputs stay distinct and
//    a hashed name never equals a plain one ("__" never occurs in a plain name);
//  - a derived name always contains '_', so it is never `admin`, `local` or `config`, in any case;
//  - a user-given name is accepted only if it is 1 to 63 bytes of [A-Za-z0-9_-] and is not a
//    reserved database in any letter case; otherwise InvalidArgument names the field. So no input can
//    put a role on `admin`, `local`, `config` or a database other than the one named;
//  - user names are `<database>_app` and `<database>_migrator`, created in the service's own
//    database (MongoDB scopes a user to the database it is created in).
#pragma once

#include <string>
#include <string_view>

#include "operator/core/result.h"
#include "operator/engines/engine.h"

namespace sdb::engines::mongo {

inline constexpr size_t kMaxDatabaseNameBytes = 63;

struct Names {
  std::string database;
  std::string appUser;        // readWrite on `database`
  std::string migrationUser;  // readWrite + dbAdmin on `database`
};

// Names for `id`: derived, or from `id.databaseName` after validation.
Result<Names> namesFor(const ServiceIdentity& id);

// The derived (never failing) names for `<namespaceName>/<name>`.
Names derivedNames(std::string_view namespaceName, std::string_view name);

// Checks a user-given database name; the error message starts with `field`.
Status validateDatabaseName(std::string_view name, std::string_view field = "spec.databaseName");

// True for admin, local and config in any letter case.
bool isReservedDatabase(std::string_view name);

// ASCII lowercase: MongoDB refuses two databases whose names differ only in case.
std::string foldCase(std::string_view name);

}  // namespace sdb::engines::mongo
