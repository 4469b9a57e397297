// What to apply, given the migration files and the history table: pure, table-tested.
//
// Contract: pure function, thread-safe. For each file, by version:
//  - in the history with the same checksum: already applied, skipped;
//  - in the history with another checksum: refused, naming the file and both checksums (an applied
//    migration must never change; add a new version instead);
//  - not in the history: pending, unless its version is below the highest applied one, which is
//    refused as out of order (it would run after migrations written later than it).
// A version in the history that no file has is refused too (a wrong or trimmed ConfigMap), unless
// `allowMissing`, which makes it a warning (for sets whose old files were removed to stay under the
// ConfigMap size limit). A history version that does not parse is refused. Every problem found is
// listed in one kFailedPrecondition error, so one run shows them all.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "operator/core/result.h"
#include "operator/migrate/migration_file.h"

namespace sdb::migrate {

// One row of servicedb_schema_history.
struct AppliedRow {
  std::string version;  // canonical text, e.g. "1.1"
  std::string description;
  std::string fileName;
  std::string checksum;
};

struct PlanOptions {
  bool allowMissing = false;
};

struct MigrationPlan {
  std::vector<MigrationFile> pending;  // in version order
  size_t alreadyApplied = 0;           // files skipped because the history has them
  std::optional<Version> highestApplied;
  std::vector<std::string> warnings;
};

// `files` must be ordered by version with no duplicates (orderMigrations()).
Result<MigrationPlan> planMigrations(const std::vector<MigrationFile>& files, const std::vector<AppliedRow>& history,
                                     const PlanOptions& options = {});

}  // namespace sdb::migrate
