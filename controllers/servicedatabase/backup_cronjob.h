// The backup CronJob of a ServiceDatabase, found by the label contract the BackupPolicy controller
// writes: servicedb.io/database=<name>, servicedb.io/component=backup, and managed by
// servicedb-operator. Several policies may back one database up: the CronJob owned by
// spec.backupPolicyRef's policy comes first, then the others by name. Used by
// spec.migrations.backupFirst (migrations.h) and spec.deletionPolicy Snapshot (final_backup.h).
//
// Contract: one uncached LIST; thread-safe (only the thread-safe client).
#pragma once

#include <optional>
#include <string>

#include "operator/core/json.h"
#include "operator/kube/client.h"
#include "operator/specs/servicedatabase.h"

namespace sdb::controllers::servicedatabase {

struct BackupCronJob {
  std::string selector;         // the label selector, for messages
  std::optional<Json> cronJob;  // the preferred one; none when no policy backs the database up
};

kube::KResult<BackupCronJob> findBackupCronJob(kube::KubeClient& client, const specs::ServiceDatabase& sdb);

}  // namespace sdb::controllers::servicedatabase
