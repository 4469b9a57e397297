// The migration step of a ServiceDatabase reconcile (spec.migrations; docs/api.md "Migrations"),
// run once the database is provisioned (engine.reconcile succeeded). It decides whether the
// current version is applied, starts the Jobs that apply it, and says what status must record.
//
// A run is (spec.migrations.version, hash of spec.migrations, servicedb.io/retry-migrations);
// specs/migration_job.h names its Jobs. status.migrations records the last run:
//   {version, specHash, retryRequest, job, phase, reason, finishedAt}
// with phase BackingUp (the backup Job runs), Running (the migration Job runs), Succeeded, Failed
// or Superseded (the spec changed while its backup ran). One reconcile:
//   1. a recorded run in flight: GET its Job (uncached). Running: wait (Ready=False, requeue after
//      pollInterval; the Job's watch usually wakes us first). Complete: a backup goes on to the
//      migration Job; a migration sets status.schemaVersion = its version. Failed: the reason and
//      the tail of the newest pod's log (pods/log, redacted; migration_log.h) go to
//      MigrationsApplied. Gone before its result was seen: Failed with reason *JobLost (a human
//      decides; the run is not repeated blindly).
//   2. status.schemaVersion == spec.migrations.version: applied (MigrationsApplied=True). A spec
//      change that keeps the version runs nothing.
//   3. the recorded run is this run and Failed: Stalled (MigrationFailed, BackupFailed, ...) until
//      spec.migrations changes or the retry annotation gets a new value.
//   4. otherwise start this run: with backupFirst, a Job from the backup CronJob labelled
//      servicedb.io/database=<name>, servicedb.io/component=backup and managed by us (none:
//      Stalled/BackupRequired, polled); else the migration Job (built-in mode: its ConfigMap must
//      exist first: Stalled/MigrationsConfigMapNotFound, polled). A Job that already exists under the run's name (a crash before status was
//      written) is adopted, never created twice.
// The result is recorded by the same reconcile that observes it, long before the Job's
// ttlSecondsAfterFinished, and a run never starts while another one is in flight.
//
// Contract: one reconcile at a time per ServiceDatabase (the workqueue's guarantee); no state of
// its own between reconciles (everything is in status). Thread-safe for distinct objects.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "controllers/servicedatabase/backend.h"
#include "controllers/servicedatabase/credentials.h"
#include "operator/core/clock.h"
#include "operator/kube/client.h"
#include "operator/specs/migration_job.h"

namespace sdb::controllers::servicedatabase {

inline constexpr const char* kConditionMigrationsApplied = "MigrationsApplied";

struct MigrationOptions {
  specs::MigrationJobOptions job;
  std::chrono::seconds pollInterval{10};        // while a Job runs
  std::chrono::seconds absentPollInterval{30};  // while its ConfigMap or the backup CronJob is missing
  // Reads a pod's log (GET pods/log). Empty: through the KubeClient. Tests replace it (the
  // in-process store has no kubelet).
  std::function<kube::KResult<std::string>(const std::string& ns, const std::string& pod)> podLog;
};

// status.migrations.
struct MigrationRecord {
  std::string version, specHash, retryRequest, job, phase, reason, finishedAt;
  static MigrationRecord from(const Json& object);  // the ServiceDatabase; empty phase when absent
  Json toJson() const;
  bool inFlight() const { return phase == "BackingUp" || phase == "Running"; }
};

struct MigrationStep {
  bool applied = true;  // the current version is applied, or there is nothing to migrate
  Problem problem;      // when !applied: Ready's reason and message, Stalled or not, how to requeue
  std::optional<ExtraCondition> condition;  // MigrationsApplied
  bool removeCondition = false;             // spec.migrations was removed
  std::optional<std::string> schemaVersion;
  std::optional<Json> record;               // status.migrations
  std::vector<std::string> changes;         // for Events
};

struct MigrationDeps {
  kube::KubeClient& client;
  const MigrationOptions& options;
  Clock& clock;
  std::string fieldManager;
};

struct MigrationInput {
  const specs::ServiceDatabase& sdb;
  const Json& object;                        // the ServiceDatabase as last read or written
  const std::vector<SlotState>& slots;       // the credentials Secrets (the migration one is used)
  std::string ownerRole;                     // Backend::migrationOwnerRole
};

MigrationStep reconcileMigrations(const MigrationDeps& deps, const MigrationInput& input);

}  // namespace sdb::controllers::servicedatabase
