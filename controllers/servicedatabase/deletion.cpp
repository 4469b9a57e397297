// The finalizer's work (ARCHITECTURE.md §3 step 2), per spec.deletionPolicy:
// - Retain: nothing on the server is touched; the credentials Secrets lose their owner reference so
//   the garbage collector keeps them, and a new ServiceDatabase of the same name adopts database,
//   roles and Secrets by their markers.
// - Delete: engine.remove drops what carries our marker (sessions terminated, REASSIGN/DROP OWNED,
//   then the database and roles), then our credentials Secrets are deleted.
// - Snapshot: first a final backup through the database's BackupPolicy (final_backup.h: a Job made
//   from its backup CronJob, owned by the ServiceDatabase), then exactly what Delete does. Without a
//   backup CronJob (no policy backs it up), or when the Job failed, nothing is dropped: the
//   finalizer stays, Stalled says how to proceed (add a policy, delete the failed Job to retry, or
//   set Retain or Delete). A completed Job found by a later reconcile (one killed midway) counts:
//   the deletion goes on, and no second backup is taken.
// The finalizer is removed only when that work is done.
#include "controllers/servicedatabase/final_backup.h"
#include "controllers/servicedatabase/reconciler.h"
#include "controllers/servicedatabase/run.h"
#include "operator/runtime/object_helpers.h"
#include "operator/specs/credentials_secret.h"

namespace sdb::controllers::servicedatabase {

namespace res = kube::resources;
using runtime::ReconcileResult;


ReconcileResult ServiceDatabaseReconciler::finalize(Run& run) {
  const specs::ServiceDatabase& sdb = run.sdb;
  forgetConverged(run.request.key());
  if (!runtime::hasFinalizer(run.object, kFinalizer)) return ReconcileResult::ok();
  auto fail = [&](const Problem& p) { return finish(run, Outcome::fromProblem(p), retryFor(p)); };

  auto removeOurFinalizer = [&]() -> ReconcileResult {
    auto r = runtime::removeFinalizer(client_, res::kServiceDatabases, run.object, kFinalizer, options_.fieldManager);
    if (!r.ok() && !r.error().is(kube::ApiErrorReason::kNotFound)) {
      return ReconcileResult::retry("removing the finalizer: " + r.error().toString());
    }
    return ReconcileResult::ok();
  };

  Backend* backend = backends_.find(sdb.engine, sdb.mode);
  if (!backend) return removeOurFinalizer();  // nothing external was ever created for it
  if (sdb.deletionPolicy == "Snapshot") {
    auto backup = driveFinalBackup(client_, sdb, options_.finalBackup, options_.fieldManager, run.changes);
    if (!backup.ok()) return fail(backup.error());
    if (!backup->done) {
      Outcome running;
      running.reason = "FinalBackupRunning";
      running.message = backup->message;
      return finish(run, running, ReconcileResult::requeueAfter(options_.finalBackup.pollInterval));
    }
    if (options_.events) options_.events->event(run.object, "Normal", "FinalBackup", backup->message);
    // Then exactly what Delete does.
  }

  // Our credentials Secrets, read fresh.
  std::vector<Json> ours;
  for (const auto& slot : backend->slots()) {
    const std::string name = specs::credentialsSecretName(sdb, slot);
    auto live = secrets_.read(sdb.ns, name);
    if (!live.ok()) return fail({"ApiError", "reading Secret \"" + name + "\": " + live.error().toString(), false, true});
    if (*live && specs::isOurCredentialsSecret(sdb, slot, **live)) ours.push_back(std::move(**live));
  }

  if (sdb.deletionPolicy == "Retain") {
    std::string names;
    for (const auto& s : ours) {
      if (auto o = orphanFrom(client_, res::kSecrets, s, sdb.name, options_.fieldManager); !o.ok()) {
        return fail({"ApiError", "removing the owner reference of Secret \"" + jsonString(s, {"metadata", "name"}) +
                                     "\": " + o.error().toString(),
                     false, true});
      }
      secrets_.forget(sdb.ns, jsonString(s, {"metadata", "name"}));
      names += (names.empty() ? "" : ", ") + jsonString(s, {"metadata", "name"});
    }
    auto kept = backend->retain(sdb);
    if (!kept.ok()) return fail(kept.error());
    for (const auto& k : *kept) names += (names.empty() ? "" : ", ") + k;
    if (options_.events) {
      options_.events->event(run.object, "Normal", "Retained",
                             "deletionPolicy Retain: kept the database and its roles on the server" +
                                 (names.empty() ? std::string() : " and Secret(s) " + names) +
                                 "; a new ServiceDatabase named \"" + sdb.name + "\" adopts them");
    }
    return removeOurFinalizer();
  }

  // Delete (and Snapshot, once its final backup completed). Our credentials Secrets go last, once
  // the data is gone.
  auto deleteSecrets = [&](std::vector<std::string>& done) -> std::optional<Problem> {
    for (const auto& s : ours) {
      const std::string name = jsonString(s, {"metadata", "name"});
      kube::DeleteOptions opts;
      opts.preconditionUid = jsonString(s, {"metadata", "uid"});
      auto r = client_.remove(res::kSecrets, sdb.ns, name, opts);
      if (!r.ok() && !r.error().is(kube::ApiErrorReason::kNotFound)) {
        return Problem{"ApiError", "deleting Secret \"" + name + "\": " + r.error().toString(), false, true};
      }
      secrets_.forget(sdb.ns, name);
      done.push_back("deleted Secret \"" + name + "\"");
    }
    return std::nullopt;
  };
  const std::string deleted = "deletionPolicy " + sdb.deletionPolicy + ": ";
  auto joined = [](const std::vector<std::string>& done) {
    std::string message;
    for (const auto& d : done) message += (message.empty() ? "" : "; ") + d;
    return message.empty() ? std::string("nothing was left") : message;
  };
  if (backend->dataLivesInInstance()) {
    auto removed = backend->removeInstance(sdb);
    if (!removed.ok()) return fail(removed.error());
    std::vector<std::string> done = *removed;
    if (auto p = deleteSecrets(done)) return fail(*p);
    if (options_.events) options_.events->event(run.object, "Normal", "Deleted", deleted + joined(done));
    return removeOurFinalizer();
  }
  auto session = backend->open(sdb);
  if (!session.ok()) {
    // Passwords are stored before the engine first runs, so without our Secrets and without a
    // provisioned endpoint nothing exists on the server: there is nothing to drop.
    if (ours.empty() && sdb.statusDatabase.empty()) return removeOurFinalizer();
    Problem p = session.error();
    p.message += "; the database cannot be dropped until this is fixed (or remove the finalizer " +
                 std::string(kFinalizer) + " to leave it on the server)";
    return fail(p);
  }
  const engines::ServiceIdentity id{sdb.ns, sdb.name, sdb.uid, sdb.databaseName};
  ++engineRuns_;
  auto summary = session->engine->remove(id, engines::DeletionPolicy::kDelete);
  if (!summary.ok()) return fail(problemFromEngineError(summary.error(), "deleting from " + backend->describe()));
  std::vector<std::string> done = summary->actions;
  if (auto p = deleteSecrets(done)) return fail(*p);
  if (options_.events) {
    options_.events->event(run.object, "Normal", "Deleted", deleted + joined(done));
    for (const auto& b : summary->blockers) {
      options_.events->event(run.object, "Warning", b.reason, b.message + "; left in place (not ours)");
    }
  }
  return removeOurFinalizer();
}

}  // namespace sdb::controllers::servicedatabase
