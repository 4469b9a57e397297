// The final backup of spec.deletionPolicy Snapshot (docs/api.md, "Deletion"), taken by the
// finalizer before it does what Delete does. The Job is the durable record, so a reconcile killed
// at any point resumes from what it finds:
//   - no Job "<name>-final-backup" (specs::finalBackupJobName): find the backup CronJob
//     (backup_cronjob.h). None: Stalled/SnapshotWithoutBackupPolicy, naming the label selector and
//     how to proceed, polled slowly (a BackupPolicy may appear; its CronJob also wakes us). Else
//     create the Job from the CronJob's jobTemplate (specs::backupJobFromCronJob), owned by the
//     ServiceDatabase (kept while our finalizer is, and its end wakes us);
//   - the Job runs: not done (Reconciling/FinalBackupRunning), polled;
//   - the Job failed: Stalled/FinalBackupFailed; nothing is dropped. Deleting the Job retries;
//     spec.deletionPolicy Retain or Delete proceeds without a backup;
//   - the Job completed (now or in an earlier reconcile): done, and the caller deletes.
// A Job of that name not controlled by this ServiceDatabase is never used (Stalled/ForeignObject).
//
// While the ServiceDatabase lives, condition FinalBackupReady says ahead of time whether a deletion
// would find a backup CronJob (only with deletionPolicy Snapshot; the reconciler removes it
// otherwise). It costs one uncached LIST per reconcile and no write while unchanged.
//
// Contract: thread-safe (only the thread-safe client); no secret reaches a message.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "controllers/servicedatabase/backend.h"
#include "controllers/servicedatabase/credentials.h"
#include "operator/kube/client.h"
#include "operator/specs/servicedatabase.h"

namespace sdb::controllers::servicedatabase {

inline constexpr const char* kConditionFinalBackupReady = "FinalBackupReady";

struct FinalBackupOptions {
  std::chrono::seconds pollInterval{5};         // while the Job runs
  std::chrono::seconds absentPollInterval{60};  // while no backup CronJob exists
};

struct FinalBackupProgress {
  bool done = false;
  std::string job;      // the Job's name
  std::string message;  // what is happening (running), or what was backed up (done)
};

PResult<FinalBackupProgress> driveFinalBackup(kube::KubeClient& client, const specs::ServiceDatabase& sdb,
                                              const FinalBackupOptions& options, const std::string& fieldManager,
                                              Changes& changes);

// FinalBackupReady: True (BackupCronJobFound) or False (SnapshotWithoutBackupPolicy); none when the
// CronJobs could not be listed (the stored condition is kept).
std::optional<ExtraCondition> finalBackupReadiness(kube::KubeClient& client, const specs::ServiceDatabase& sdb);

}  // namespace sdb::controllers::servicedatabase
