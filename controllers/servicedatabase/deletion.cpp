// The finalizer's work (ARCHITECTURE.md §3 step 2), per spec.deletionPolicy:
// - Retain: nothing on the server is touched; the credentials Secrets lose their owner reference so
//   the garbage collector keeps them, and a new ServiceDatabase of the same name adopts database,
//   roles and Secrets by their markers.
// - Delete: engine.remove drops what carries our marker (sessions terminated, REASSIGN/DROP OWNED,
//   then the database and roles), then our credentials Secrets are deleted.
// - Snapshot: refused until backups exist; the finalizer stays and the condition says how to
//   proceed (set Retain or Delete).
// The finalizer is removed only when that work is done.
#include "controllers/servicedatabase/reconciler.h"
#include "controllers/servicedatabase/run.h"
#include "operator/runtime/object_helpers.h"
#include "operator/specs/credentials_secret.h"

namespace sdb::controllers::servicedatabase {

namespace res = kube::resources;
using runtime::ReconcileResult;

namespace {

// Removes the owner references to ServiceDatabases of this name from `secret` (JSON patch guarded
// by resourceVersion, so a stale copy fails with Conflict instead of clobbering).
kube::KStatus orphan(kube::KubeClient& client, const Json& secret, const std::string& sdbName,
                     const std::string& fieldManager) {
  const Json* refs = jsonAt(secret, {"metadata", "ownerReferences"});
  if (!refs || !refs->is_array()) return {};
  Json keep = Json::array();
  for (const auto& r : *refs) {
    if (!(r.value("kind", "") == "ServiceDatabase" && r.value("name", "") == sdbName)) keep.push_back(r);
  }
  if (keep.size() == refs->size()) return {};
  Json ops = Json::array({{{"op", "test"}, {"path", "/metadata/resourceVersion"},
                           {"value", jsonString(secret, {"metadata", "resourceVersion"})}}});
  if (keep.empty()) {
    ops.push_back({{"op", "remove"}, {"path", "/metadata/ownerReferences"}});
  } else {
    ops.push_back({{"op", "replace"}, {"path", "/metadata/ownerReferences"}, {"value", keep}});
  }
  kube::PatchOptions opts;
  opts.fieldManager = fieldManager;
  auto r = client.patch(res::kSecrets, jsonString(secret, {"metadata", "namespace"}),
                        jsonString(secret, {"metadata", "name"}), kube::PatchType::kJson, dumpJson(ops), opts);
  if (!r.ok()) return r.error();
  return {};
}

}  // namespace

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
    return finish(run,
                  Outcome::fromProblem({"SnapshotNotSupported",
                                        "spec.deletionPolicy: Snapshot needs a final backup, and backups are not "
                                        "implemented yet; set spec.deletionPolicy to Retain or Delete to let the "
                                        "deletion finish",
                                        true, false}),
                  ReconcileResult::ok());
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
      if (auto o = orphan(client_, s, sdb.name, options_.fieldManager); !o.ok()) {
        return fail({"ApiError", "removing the owner reference of Secret \"" + jsonString(s, {"metadata", "name"}) +
                                     "\": " + o.error().toString(),
                     false, true});
      }
      secrets_.forget(sdb.ns, jsonString(s, {"metadata", "name"}));
      names += (names.empty() ? "" : ", ") + jsonString(s, {"metadata", "name"});
    }
    if (options_.events) {
      options_.events->event(run.object, "Normal", "Retained",
                             "deletionPolicy Retain: kept the database and its roles on the server" +
                                 (names.empty() ? std::string() : " and Secret(s) " + names) +
                                 "; a new ServiceDatabase named \"" + sdb.name + "\" adopts them");
    }
    return removeOurFinalizer();
  }

  // Delete.
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
  for (const auto& s : ours) {
    const std::string name = jsonString(s, {"metadata", "name"});
    kube::DeleteOptions opts;
    opts.preconditionUid = jsonString(s, {"metadata", "uid"});
    auto r = client_.remove(res::kSecrets, sdb.ns, name, opts);
    if (!r.ok() && !r.error().is(kube::ApiErrorReason::kNotFound)) {
      return fail({"ApiError", "deleting Secret \"" + name + "\": " + r.error().toString(), false, true});
    }
    secrets_.forget(sdb.ns, name);
    done.push_back("deleted Secret \"" + name + "\"");
  }
  if (options_.events) {
    std::string message;
    for (const auto& d : done) message += (message.empty() ? "" : "; ") + d;
    options_.events->event(run.object, "Normal", "Deleted",
                           "deletionPolicy Delete: " + (message.empty() ? std::string("nothing was left") : message));
    for (const auto& b : summary->blockers) {
      options_.events->event(run.object, "Warning", b.reason, b.message + "; left in place (not ours)");
    }
  }
  return removeOurFinalizer();
}

}  // namespace sdb::controllers::servicedatabase
