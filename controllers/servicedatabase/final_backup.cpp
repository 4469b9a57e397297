#include "controllers/servicedatabase/final_backup.h"

#include "controllers/servicedatabase/backup_cronjob.h"
#include "controllers/servicedatabase/job_pod_log.h"
#include "operator/runtime/conditions.h"
#include "operator/runtime/object_helpers.h"
#include "operator/specs/credentials_secret.h"
#include "operator/specs/migration_job.h"
#include "operator/core/text.h"

namespace sdb::controllers::servicedatabase {

namespace res = kube::resources;

namespace {

const char* kProceed = "set spec.deletionPolicy to Retain (keep the database) or Delete (drop it without a backup)";

std::string noPolicy(const specs::ServiceDatabase& sdb, const BackupCronJob& found) {
  return "no BackupPolicy backs this database up (no backup CronJob labelled " + found.selector + " in namespace " +
         quote(sdb.ns) + ")";
}

}  // namespace

PResult<FinalBackupProgress> driveFinalBackup(kube::KubeClient& client, const specs::ServiceDatabase& sdb,
                                              const FinalBackupOptions& options, const std::string& fieldManager,
                                              Changes& changes) {
  FinalBackupProgress progress;
  progress.job = specs::finalBackupJobName(sdb);
  const std::string& name = progress.job;
  const std::string what = "spec.deletionPolicy Snapshot: ";
  auto running = [&](const std::string& message) -> PResult<FinalBackupProgress> {
    progress.message = what + message + "; the database is dropped once it completes";
    return progress;
  };

  auto live = client.get(res::kJobs, sdb.ns, name);
  if (!live.ok() && !live.error().is(kube::ApiErrorReason::kNotFound)) {
    return Problem{"ApiError", "reading Job " + quote(name) + ": " + live.error().toString(), false, true};
  }
  if (live.ok()) {
    auto owner = runtime::controllerOf(*live);
    if (!owner || jsonString(*owner, {"uid"}) != sdb.uid) {
      return Problem{"ForeignObject",
                     what + "Job " + quote(name) + " exists and is not this ServiceDatabase's final backup; remove or "
                            "rename it, or " + kProceed,
                     true, true};
    }
    if (jsonAt(*live, {"metadata", "deletionTimestamp"})) {
      return running("waiting for the deleted final backup Job " + quote(name) + " to go before taking it again");
    }
    if (trueJobCondition(*live, "Complete")) {
      progress.done = true;
      progress.message = what + "the final backup Job " + quote(name) + " completed (from CronJob " +
                         quote(specs::annotation(*live, specs::kAnnotationFromCronJob)) + ")";
      return progress;
    }
    if (auto failed = trueJobCondition(*live, "Failed")) {
      return Problem{"FinalBackupFailed",
                     what + "the final backup Job " + quote(name) + " failed (" + failed->reason +
                         (failed->message.empty() ? "" : ": " + failed->message) +
                         "); the database is kept. See `kubectl logs job/" + name + "`; delete the Job to take the " +
                         "backup again, or " + kProceed,
                     true, false};
    }
    return running("the final backup Job " + quote(name) + " (from CronJob " +
                   quote(specs::annotation(*live, specs::kAnnotationFromCronJob)) + ") is running");
  }

  auto found = findBackupCronJob(client, sdb);
  if (!found.ok()) return Problem{"ApiError", "listing backup CronJobs: " + found.error().toString(), false, true};
  if (!found->cronJob) {
    return Problem{"SnapshotWithoutBackupPolicy",
                   what + "a final backup is required before deletion, and " + noPolicy(sdb, *found) +
                       "; the database and the finalizer are kept. Add a BackupPolicy whose spec.targets selects "
                       "this ServiceDatabase, or " + kProceed,
                   true, false, options.absentPollInterval};
  }
  const std::string cronJob = jsonString(*found->cronJob, {"metadata", "name"});
  auto job = specs::backupJobFromCronJob(sdb, *found->cronJob, name, "");
  if (!job.ok()) {
    return Problem{"FinalBackupFailed", what + job.error().message + "; " + kProceed, true, false,
                   options.absentPollInterval};
  }
  kube::WriteOptions wo;
  wo.fieldManager = fieldManager;
  auto created = client.create(res::kJobs, sdb.ns, *job, wo);
  if (!created.ok() && !created.error().is(kube::ApiErrorReason::kAlreadyExists)) {
    return Problem{"ApiError", "creating Job " + quote(name) + ": " + created.error().toString(), false, true};
  }
  // AlreadyExists: made meanwhile; the next reconcile reads it (and checks whose it is).
  if (created.ok()) changes.provisioning.push_back("created the final backup Job " + quote(name) + " from CronJob " + quote(cronJob));
  return running("the final backup Job " + quote(name) + " (from CronJob " + quote(cronJob) + ") is running");
}

std::optional<ExtraCondition> finalBackupReadiness(kube::KubeClient& client, const specs::ServiceDatabase& sdb) {
  auto found = findBackupCronJob(client, sdb);
  if (!found.ok()) return std::nullopt;
  if (!found->cronJob) {
    return ExtraCondition{kConditionFinalBackupReady, "False", "SnapshotWithoutBackupPolicy",
                          "spec.deletionPolicy Snapshot: " + noPolicy(sdb, *found) +
                              "; deleting this ServiceDatabase would wait for one. Add a BackupPolicy whose "
                              "spec.targets selects it, or set spec.deletionPolicy to Retain or Delete"};
  }
  return ExtraCondition{kConditionFinalBackupReady, "True", "BackupCronJobFound",
                        "spec.deletionPolicy Snapshot: deleting this ServiceDatabase first runs a Job from CronJob " +
                            quote(jsonString(*found->cronJob, {"metadata", "name"}))};
}

}  // namespace sdb::controllers::servicedatabase
