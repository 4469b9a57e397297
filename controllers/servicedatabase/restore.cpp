#include "controllers/servicedatabase/restore.h"

#include "controllers/servicedatabase/job_pod_log.h"

#include "operator/engines/postgres/names.h"
#include "operator/runtime/conditions.h"
#include "operator/specs/backup_policy.h"
#include "operator/specs/instance.h"
#include "operator/specs/restore_job.h"

namespace sdb::controllers::servicedatabase {

namespace res = kube::resources;

namespace {

std::string controllerUid(const Json& obj) {
  const Json* refs = jsonAt(obj, {"metadata", "ownerReferences"});
  if (!refs || !refs->is_array()) return "";
  for (const auto& r : *refs) {
    if (r.value("controller", false)) return r.value("uid", "");
  }
  return "";
}

Problem restoreProblem(std::string reason, std::string message, bool stalled, bool retry) {
  Problem p{std::move(reason), std::move(message), stalled, retry};
  p.conditions.push_back({kConditionRestored, "False", p.reason, p.message});
  return p;
}

}  // namespace

bool restorePending(const specs::ServiceDatabase& sdb, const Json& object) {
  if (!sdb.hasRestore) return false;
  const Json* status = jsonAt(object, {"status"});
  return !(status && runtime::isConditionTrue(*status, kConditionRestored));
}

PResult<RestoreProgress> driveRestore(kube::KubeClient& client, const specs::ServiceDatabase& sdb,
                                      const specs::BackupJobOptions& jobOptions, const std::string& fieldManager,
                                      Changes& changes, const PodLogReader& podLog) {
  auto source = specs::parseRestoreSource(sdb);
  if (!source.ok()) return restoreProblem("InvalidSpec", source.error().message, true, false);
  const std::string name = specs::restoreJobName(sdb);
  const std::string what = "backup " + source->backupId + " of " + source->target + " from BackupPolicy \"" +
                           source->policy + "\"";
  RestoreProgress progress;
  auto live = client.get(res::kJobs, sdb.ns, name);
  if (live.ok()) {
    if (controllerUid(*live) != sdb.uid) {
      return restoreProblem("ForeignObject", "Job \"" + name + "\" exists and is not this ServiceDatabase's restore "
                                             "Job; remove or rename it", true, true);
    }
    if (jsonAt(*live, {"metadata", "deletionTimestamp"})) {
      progress.condition = {kConditionRestored, "False", "Restoring",
                            "waiting for the deleted restore Job \"" + name + "\" to go before restoring " + what};
      return progress;
    }
    if (trueJobCondition(*live, "Complete")) {
      progress.done = true;
      progress.condition = {kConditionRestored, "True", "RestoredFromBackup", "restored " + what + " (Job " + name + ")"};
      return progress;
    }
    if (auto failed = trueJobCondition(*live, "Failed")) {
      // The restore command prints no secret; its last lines say what failed (a tampered backup:
      // the chunk that did not authenticate).
      return restoreProblem("RestoreFailed",
                            "restore Job \"" + name + "\" failed (" + failed->reason + ": " + failed->message + ") restoring " + what +
                                "; no database was created and the backup is untouched. " +
                                jobPodLogReport(client, podLog, sdb.ns, name, {}) + ". Delete the Job to try again",
                            true, false);
    }
    progress.condition = {kConditionRestored, "False", "Restoring", "restoring " + what + " (Job " + name + ")"};
    return progress;
  }
  if (!live.error().is(kube::ApiErrorReason::kNotFound)) {
    return restoreProblem("ApiError", "reading Job \"" + name + "\": " + live.error().toString(), false, true);
  }
  auto policyObject = client.get(res::kBackupPolicies, sdb.ns, source->policy);
  if (!policyObject.ok()) {
    if (policyObject.error().is(kube::ApiErrorReason::kNotFound)) {
      return restoreProblem("RestorePolicyNotFound", "spec.restore.fromBackup.policy: BackupPolicy \"" +
                                                         source->policy + "\" does not exist in namespace " + sdb.ns,
                            true, true);
    }
    return restoreProblem("ApiError", "reading BackupPolicy \"" + source->policy + "\": " +
                                          policyObject.error().toString(), false, true);
  }
  auto policy = specs::parseBackupPolicy(*policyObject);
  if (!policy.ok()) {
    return restoreProblem("InvalidSpec", "spec.restore.fromBackup.policy: BackupPolicy \"" + source->policy +
                                             "\" is invalid: " + policy.error().message, true, true);
  }
  const auto names = engines::postgres::deriveNames(sdb.ns, sdb.name);
  specs::RestoreJobInput in;
  in.source = *source;
  in.database = names.database;
  in.ownerRole = names.ownerRole;
  in.appRole = names.appRole;
  in.adminSecretName = sdb.mode == "shared" ? sdb.adminSecretName : specs::instanceNames(sdb).superuserSecret;
  auto job = specs::restoreJob(sdb, *policy, in, jobOptions);
  if (!job.ok()) return restoreProblem("NotImplemented", job.error().message, true, false);
  kube::WriteOptions wo;
  wo.fieldManager = fieldManager;
  auto created = client.create(res::kJobs, sdb.ns, *job, wo);
  if (!created.ok() && !created.error().is(kube::ApiErrorReason::kAlreadyExists)) {
    return restoreProblem("ApiError", "creating Job \"" + name + "\": " + created.error().toString(), false, true);
  }
  changes.provisioning.push_back("created the restore Job \"" + name + "\" for " + what);
  progress.condition = {kConditionRestored, "False", "Restoring", "restoring " + what + " (Job " + name + ")"};
  return progress;
}

}  // namespace sdb::controllers::servicedatabase
