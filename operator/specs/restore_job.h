// The restore Job that bootstraps a new ServiceDatabase from a backup (spec.restore.fromBackup;
// docs/api.md, "Restore"): `servicedb-operator restore` in the operator's image, reading the backup
// from the policy's destination with the policy's keys, and creating the database as the admin
// login (shared: spec.sharedServer.adminSecretRef; dedicated: the instance's superuser Secret) with
// the owner role as its owner and the app login's default privileges, while the roles already
// exist (the engine made them) and the database does not (the engine waits for the Job). The
// engine then adopts the database (PostgreSQL: a database our owner role owns with no comment).
//
// Name "<sdb>-restore" (cut with a hash past 63), controlled by the ServiceDatabase, the restore label
// contract (servicedb.io/component=restore: the dedicated instance's NetworkPolicy admits it),
// restricted Pod Security, no API token, backoffLimit 2 (a failed attempt drops the database it
// created, so a retry starts clean; it covers NetworkPolicy propagation lag), exit 2 fails at once.
//
// Contract: pure, thread-safe. PostgreSQL only; other engines are an error naming spec.engine.
#pragma once

#include <string>

#include "operator/core/json.h"
#include "operator/core/result.h"
#include "operator/specs/backup_job.h"

namespace sdb::specs {

struct RestoreSource {
  std::string policy;              // spec.restore.fromBackup.policy
  std::string backupId = "latest";  // spec.restore.fromBackup.backupId
  std::string target;              // spec.restore.fromBackup.target, default "<ns>/<name>"
};
// spec.restore.fromBackup, with defaults; errors name the field.
Result<RestoreSource> parseRestoreSource(const ServiceDatabase& sdb);

struct RestoreJobInput {
  RestoreSource source;
  std::string database, ownerRole, appRole;  // the engine's names
  std::string adminSecretName;                // keys username and password
};

std::string restoreJobName(const ServiceDatabase& sdb);
Result<Json> restoreJob(const ServiceDatabase& sdb, const BackupPolicy& policy, const RestoreJobInput& in,
                        const BackupJobOptions& options);

}  // namespace sdb::specs
