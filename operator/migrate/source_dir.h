// Reads the built-in migrations from a directory: a mounted ConfigMap, one key per file.
//
// Contract: reads the directory's entries (following symlinks: the kubelet mounts each key as a
// link into `..data/`); thread-safe as far as the file system is. Names starting with '.' (the
// kubelet's `..data` link and `..<timestamp>` directory) are skipped silently. Other names that do
// not end in `.sql` are skipped with a warning. Every `.sql` name must be a valid migration name
// (migration_file.h), and two files must not share a version: either is an error (kInvalidArgument)
// naming the file, so a typo never silently skips a migration. A directory that cannot be read is
// kIO. An empty directory is no error (nothing to apply).
#pragma once

#include <string>
#include <vector>

#include "operator/core/result.h"
#include "operator/migrate/migration_file.h"

namespace sdb::migrate {

struct LoadedMigrations {
  std::vector<MigrationFile> files;   // ordered by version
  std::vector<std::string> warnings;  // one per ignored file
};

Result<LoadedMigrations> loadMigrations(const std::string& dir);

}  // namespace sdb::migrate
