// Bootstrapping a new ServiceDatabase from a backup (spec.restore.fromBackup; docs/api.md,
// "Restore"). The reconciler runs the engine with deferDatabase while the restore is pending, so the
// roles exist and the database does not; then this creates the restore Job (specs/restore_job.h) and
// follows it. The Job is the durable record: Complete turns condition Restored True (read once: a
// ServiceDatabase with Restored=True is never restored again, and the engine then adopts the
// database the Job made); Failed is Stalled/RestoreFailed until someone deletes the Job (which
// retries) or the ServiceDatabase. The policy is read uncached, only while a restore is pending.
//
// Contract: thread-safe (only the thread-safe client); no secret reaches a message.
#pragma once

#include <string>

#include "controllers/servicedatabase/backend.h"
#include "controllers/servicedatabase/credentials.h"
#include "controllers/servicedatabase/job_pod_log.h"
#include "operator/kube/client.h"
#include "operator/specs/backup_job.h"
#include "operator/specs/servicedatabase.h"

namespace sdb::controllers::servicedatabase {

inline constexpr const char* kConditionRestored = "Restored";

// True while spec.restore is set and the Restored condition is not True yet.
bool restorePending(const specs::ServiceDatabase& sdb, const Json& object);

struct RestoreProgress {
  bool done = false;
  ExtraCondition condition;  // Restored: False/Restoring while the Job runs, True when it completed
};

PResult<RestoreProgress> driveRestore(kube::KubeClient& client, const specs::ServiceDatabase& sdb,
                                      const specs::BackupJobOptions& job, const std::string& fieldManager,
                                      Changes& changes, const PodLogReader& podLog = {});

}  // namespace sdb::controllers::servicedatabase
