// Built-in migrations: one versioned SQL file each, named `V<version>__<description>.sql`
// (docs/migrations.md).
//
// Contract: pure functions, thread-safe.
//  - A version is one or more decimal parts separated by `.` or `_` (`V1`, `V1_1`, `V2.10`), each at
//    most 18 digits. Versions compare numerically part by part; leading zeros and trailing zero
//    parts do not count, so `V01` equals `V1` and `V1_0` equals `V1` (a duplicate). The canonical
//    text is the parts joined by `.` without those zeros ("1.1"); it is what the history stores.
//  - The description is the text between `__` and `.sql`, non-empty, from the characters a
//    ConfigMap key allows (`[-._a-zA-Z0-9]`); in the history its `_` read as spaces.
//  - The first line of a file may carry the directive `-- servicedb:transaction=false` (or `=true`,
//    the default). Any other `-- servicedb:` line, or one below the first line, is an error: a typo
//    must not silently turn a CREATE INDEX CONCURRENTLY file into a failing transactional one.
//  - The checksum is the lowercase hex SHA-256 of the file's exact bytes (directive, comments and
//    line endings included).
// Errors are kInvalidArgument values naming the file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "operator/core/result.h"

namespace sdb::migrate {

struct Version {
  std::vector<uint64_t> parts;  // canonical: no trailing zero parts (at least one part)
  std::string text() const;     // "1.1"
  auto operator<=>(const Version&) const = default;
};

// Parses the canonical text the history stores ("1", "1.1"); also accepts `_` separators.
Result<Version> parseVersion(std::string_view text);

struct FileName {
  Version version;
  std::string description;  // as in the name: "create_orders"
};

// True when `name` ends in `.sql` (any case): such a file must be a valid migration name, while
// other files in the directory are ignored with a warning.
bool looksLikeSqlFile(std::string_view name);
// Parses `V<version>__<description>.sql`; the error says which rule the name breaks.
Result<FileName> parseFileName(std::string_view name);

struct MigrationFile {
  std::string fileName;  // "V1__init.sql"
  Version version;
  std::string description;  // with spaces: "create orders"
  std::string checksum;     // SHA-256 hex of `sql`
  bool transactional = true;
  std::string sql;  // the file's bytes
};

// Reads the first-line directive. Returns whether the file runs in a transaction.
Result<bool> parseTransactionDirective(std::string_view sql);

// Builds one migration from its name and bytes (name, directive and checksum).
Result<MigrationFile> makeMigrationFile(const std::string& fileName, std::string sql);

// Sorts by version; two files with the same version are an error naming both.
Result<std::vector<MigrationFile>> orderMigrations(std::vector<MigrationFile> files);

}  // namespace sdb::migrate
