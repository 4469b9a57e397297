// Migration Jobs of a ServiceDatabase (spec.migrations, docs/api.md "Migrations"): the parsed
// spec, the identity of one run, and the Jobs the controller creates for it.
//
// - A run is identified by (spec.migrations.version, a hash of spec.migrations as written, the
//   value of the annotation servicedb.io/retry-migrations). Its Job names are deterministic:
//   "<name cut to 44>-migrate-<10 hex>" and "<name cut to 44>-backup-<10 hex>" (at most 63
//   characters, so the Job controller's job-name label fits), the hex being the run's key. A
//   changed spec or a new retry value therefore names a new Job, and never collides with a failed
//   Job that still waits for its TTL.
// - The migration Job (image mode: spec.migrations.image with command and args; built-in mode:
//   the operator's own image running `servicedb-operator migrate --dir /migrations --owner-role R`
//   with the ConfigMap mounted there) gets its connection from the migration credentials Secret:
//   DATABASE_URL (key uri), PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE, and
//   PGSSLROOTCERT=/etc/servicedb/tls/ca.crt with the Secret's ca.crt mounted when it has one. No
//   value of the Secret is copied into the Job: every one is a secretKeyRef.
// - Pods carry the label contract with component migrate (the dedicated instance's NetworkPolicy
//   admits them), run under the restricted Pod Security profile as uid 65532 with no service
//   account token, HOME=/tmp on an emptyDir. Built-in mode also has a read-only root filesystem;
//   image mode does not (restricted does not require it, and migration tools write caches).
// - The backup Job is what `kubectl create job --from=cronjob/X` makes of a backup CronJob's
//   jobTemplate, owned by the ServiceDatabase instead of the CronJob (so its end wakes the
//   ServiceDatabase's controller and the CronJob's controller leaves it alone). The same builder
//   makes the final backup of spec.deletionPolicy Snapshot, named "<name>-final-backup".
//
// Errors name the spec field ("spec.migrations.version: ..."). Contract: pure, thread-safe.
#pragma once

#include <string>
#include <vector>

#include "operator/core/json.h"
#include "operator/core/result.h"
#include "operator/specs/servicedatabase.h"

namespace sdb::specs {

inline constexpr const char* kAnnotationMigrationVersion = "servicedb.io/migration-version";
inline constexpr const char* kAnnotationMigrationSpecHash = "servicedb.io/migration-spec-hash";
inline constexpr const char* kAnnotationFromCronJob = "servicedb.io/from-cronjob";
inline constexpr const char* kMigrationsMountPath = "/migrations";
inline constexpr const char* kMigrationCaPath = "/etc/servicedb/tls/ca.crt";
inline constexpr const char* kMigrationContainer = "migrate";
inline constexpr int kMigrationUid = 65532;  // the operator image's user (Dockerfile)
inline constexpr const char* kOperatorImageRepository = "ghcr.io/servicedb/servicedb-operator";

// The image the chart and the kustomize base deploy: "<repository>:<this build's version>".
std::string defaultOperatorImage();

struct MigrationsSpec {
  std::string version;
  std::string image;                  // image mode
  std::vector<std::string> command, args;
  std::string configMapName;          // built-in mode
  bool backupFirst = false;
  bool builtin() const { return !configMapName.empty(); }
};

// spec.migrations (sdb.migrations as written). Refuses: a missing or empty version (at most 63
// characters), both or neither of image and configMapRef, command or args with configMapRef,
// configMapRef for an engine other than postgres, values of the wrong type.
Result<MigrationsSpec> parseMigrations(const ServiceDatabase& sdb);

// 16 hex of SHA-256 over spec.migrations as written (keys sorted).
std::string migrationsSpecHash(const ServiceDatabase& sdb);
// 10 hex identifying one run.
std::string migrationRunKey(const std::string& version, const std::string& specHash, const std::string& retryRequest);
std::string migrationJobName(const ServiceDatabase& sdb, const std::string& runKey);
std::string migrationBackupJobName(const ServiceDatabase& sdb, const std::string& runKey);
// spec.deletionPolicy Snapshot's Job: "<name>-final-backup"; past 63 characters the name is cut and
// "-final-backup-<10 hex of namespace/name>" follows (the suffix is kept, so it never equals the
// restore Job's name).
std::string finalBackupJobName(const ServiceDatabase& sdb);

struct MigrationJobOptions {
  std::string operatorImage = defaultOperatorImage();  // built-in mode's image
  int backoffLimit = 2;                  // two more pods: a refused first connection (a new pod not yet in the
                                         // NetworkPolicy, a restarting server) is not a failed migration
  int activeDeadlineSeconds = 1800;      // a migration that hangs (a lock) fails after 30 minutes
  int ttlSecondsAfterFinished = 86400;   // the controller records the result long before that
};

struct MigrationJobInput {
  std::string jobName;
  std::string credentialsSecret;  // the migration credentials Secret
  bool mountCa = false;           // that Secret has ca.crt
  std::string ownerRole;          // built-in mode: --owner-role ("" = the login's default role)
  std::string specHash;           // for the annotation
};

Json migrationJob(const ServiceDatabase& sdb, const MigrationsSpec& migrations, const MigrationJobInput& input,
                  const MigrationJobOptions& options = {});

// The Job `kubectl create job --from=cronjob/<name>` would make, named `jobName`, owned by the
// ServiceDatabase, annotated with the CronJob's name and the migration version (none when
// `version` is empty: the final backup of deletionPolicy Snapshot). Labels: the
// jobTemplate's, plus servicedb.io/database and the managed-by label when missing. Refuses a
// CronJob without spec.jobTemplate.spec.template.
Result<Json> backupJobFromCronJob(const ServiceDatabase& sdb, const Json& cronJob, const std::string& jobName,
                                  const std::string& version);

}  // namespace sdb::specs
