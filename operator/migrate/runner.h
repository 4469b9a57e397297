// The built-in migration runner: applies versioned SQL files to PostgreSQL as the migration login
// (docs/migrations.md). What `servicedb-operator migrate` runs.
//
// Contract: runMigrations() opens its own session and closes it before returning; it never throws
// and reports everything in the RunReport (thread-safe across calls: nothing is shared, so two
// runners in one process contend only through the database's lock, as two Jobs would).
//  1. Connects with `conninfo` (e.g. $DATABASE_URL) plus libpq's PG* variables. A server that
//     cannot be reached (refused, timed out: ErrorCode::kUnavailable) is tried again, once a second,
//     for up to `connectRetryFor`: a Job's new pod may reach a NetworkPolicy's allowed peers a
//     moment after it started. Authentication failures are not retried.
//  2. Before every file, `RESET ALL` and `SET ROLE ownerRole` (or `RESET ROLE`, back to the login's
//     default role, when ownerRole is empty): objects belong to the owner role, and every file
//     starts from the same session state whether or not earlier files ran in the same run.
//  3. Takes the migration lock (history.h); a second runner waits, then finds the versions applied
//     and applies nothing. A dry run takes no lock and writes nothing.
//  4. Creates the history table if missing, reads it, plans (plan.h; a refusal applies nothing).
//  5. Applies the pending files in version order and stops at the first failure:
//     - transactional (the default): BEGIN, the file sent whole, the history row, COMMIT. A failure
//       rolls back the file and its row. A file that ends the transaction itself (COMMIT inside)
//       is a failure, since its effects up to there stay;
//     - non-transactional (first line `-- servicedb:transaction=false`, for CREATE INDEX
//       CONCURRENTLY and the like): split into statements (sql_text.h), each sent on its own in
//       autocommit, then the history row. A failure midway leaves the earlier statements' effects
//       and no history row, so the next run starts the file again from its first statement.
// Passwords never reach the report or the log: connection errors name user, host, port, database.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "operator/core/clock.h"
#include "operator/engines/postgres/connection.h"
#include "operator/migrate/history.h"
#include "operator/migrate/migration_file.h"
#include "operator/migrate/plan.h"

namespace sdb::migrate {

struct RunnerOptions {
  std::string conninfo;   // libpq connection string or URI; empty: the PG* variables alone
  std::string ownerRole;  // empty: the login's default role (the engine sets `role = owner`)
  bool dryRun = false;
  PlanOptions plan;
  LockOptions lock;
  std::chrono::milliseconds connectRetryFor{0};  // 0: one attempt
  Clock* clock = nullptr;  // nullptr: the system clock
  // Test hook, called while the lock is held, before the history is read.
  std::function<void()> afterLock;
};

enum class Outcome {
  kUpToDate,  // nothing was pending
  kApplied,   // every pending file was applied
  kDryRun,    // nothing written; `pending` lists what would run
  kFailed,    // a file failed (see failure), or the server or lock could not be had (see error)
  kRefused,   // bad input: file names, a changed checksum, missing or out-of-order versions
};

struct AppliedMigration {
  std::string version, description, fileName;
  bool transactional = true;
  int64_t durationMs = 0;
};

struct MigrationFailure {
  std::string fileName, version;
  engines::postgres::SqlDiagnostics diagnostics;
  int line = 0, column = 0;     // where in the file, when the server gave a position
  int statement = 0;            // non-transactional files: the 1-based statement that failed
  bool partialEffects = false;  // effects of the file before the failure stayed
};

struct RunReport {
  Outcome outcome = Outcome::kFailed;
  std::vector<AppliedMigration> applied;
  std::vector<std::string> pending;  // dry run: file names that would be applied, in order
  size_t alreadyApplied = 0;
  std::optional<std::string> schemaVersion;  // the highest applied version after the run
  std::optional<MigrationFailure> failure;
  std::string error;  // what went wrong when no file is to blame, and every refusal
  std::vector<std::string> warnings;
};

// `files` ordered by version without duplicates (loadMigrations() gives them so).
RunReport runMigrations(const std::vector<MigrationFile>& files, const RunnerOptions& options);

}  // namespace sdb::migrate
