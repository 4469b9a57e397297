#include "controllers/servicedatabase/reconciler.h"

#include <algorithm>

#include "controllers/servicedatabase/restore.h"
#include "controllers/servicedatabase/run.h"
#include "operator/core/hash.h"
#include "operator/core/log.h"
#include "operator/runtime/conditions.h"
#include "operator/runtime/object_helpers.h"
#include "operator/specs/credentials_secret.h"
#include "operator/specs/migration_job.h"

namespace sdb::controllers::servicedatabase {

namespace res = kube::resources;
using runtime::ReconcileResult;

ServiceDatabaseReconciler::ServiceDatabaseReconciler(kube::KubeClient& client, const ObjectReader& serviceDatabases,
                                                     const ObjectReader& secrets, const BackendRegistry& backends,
                                                     ReconcilerOptions options)
    : client_(client),
      serviceDatabases_(serviceDatabases),
      backends_(backends),
      options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : SystemClock::instance()),
      random_(options_.random ? *options_.random : CryptoRandom::instance()),
      secrets_(client, secrets) {}

ReconcileResult ServiceDatabaseReconciler::reconcile(const runtime::Request& request,
                                                     const runtime::ReconcileContext& context) {
  auto cached = serviceDatabases_.get(request.ns, request.name);
  if (!cached) {
    forgetConverged(request.key());
    return ReconcileResult::ok();  // gone: children go with their owner references
  }
  Run run{request, context, *cached};
  auto parsed = specs::parseServiceDatabase(*cached);
  if (!parsed.ok()) {
    return finish(run, Outcome::fromProblem({"InvalidSpec", parsed.error().message, true, false}),
                  ReconcileResult::ok());
  }
  run.sdb = std::move(*parsed);
  if (run.sdb.deleting) return finalize(run);
  return reconcileLive(run);
}

ReconcileResult ServiceDatabaseReconciler::reconcileLive(Run& run) {
  const specs::ServiceDatabase& sdb = run.sdb;
  Backend* backend = backends_.find(sdb.engine, sdb.mode);
  auto stall = [&](const std::string& reason, const std::string& message) {
    return finish(run, Outcome::fromProblem({reason, message, true, false}), ReconcileResult::ok());
  };
  if (!backend) {
    return stall("NotImplemented", "spec.engine \"" + sdb.engine + "\" with spec.mode \"" + sdb.mode +
                                       "\" is not implemented yet in this version of servicedb-operator (implemented: " +
                                       backends_.supported() + "); nothing was created");
  }
  if (sdb.hasRestore && sdb.engine != "postgres") {
    return stall("NotImplemented", "spec.restore: restoring " + sdb.engine +
                                       " ServiceDatabases from a backup is not implemented yet (PostgreSQL only); "
                                       "nothing was created");
  }
  const bool restoring = restorePending(sdb, run.object);
  if (sdb.hasMigrations) {
    if (auto m = specs::parseMigrations(sdb); !m.ok()) return stall("InvalidSpec", m.error().message);
    auto slots = backend->slots();
    if (std::find(slots.begin(), slots.end(), specs::kSlotMigration) == slots.end()) {
      return stall("NotImplemented", "spec.migrations: " + backend->describe() +
                                         " has no migration login to run migrations as; remove spec.migrations");
    }
  }
  if (!sdb.databaseName.empty() && !sdb.statusDatabase.empty() &&
      backend->endpointDatabaseFor(sdb) != sdb.statusDatabase) {
    return stall("DatabaseNameChanged", "spec.databaseName: the database is \"" + sdb.statusDatabase +
                                            "\" and cannot become \"" + backend->endpointDatabaseFor(sdb) + "\"");
  }
  if (auto p = backend->check(sdb)) return finish(run, Outcome::fromProblem(*p), retryFor(*p));
  if (auto f = ensureFinalizer(run); !f.ok()) return finish(run, Outcome::fromProblem(f.error()), retryFor(f.error()));

  auto session = backend->open(sdb);
  if (!session.ok()) {
    for (const auto& c : session.error().changes) run.changes.provisioning.push_back(c);
    return finish(run, Outcome::fromProblem(session.error()), retryFor(session.error()));
  }
  for (const auto& c : session->changes) run.changes.provisioning.push_back(c);
  engines::Engine& engine = *session->engine;
  const engines::ServiceIdentity id{sdb.ns, sdb.name, sdb.uid, sdb.databaseName};

  Credentials creds({client_, secrets_, random_, clock_, options_.fieldManager}, sdb, run.object, *backend, *session,
                    run.changes);
  auto slots = creds.ensure();
  if (!slots.ok()) return finish(run, Outcome::fromProblem(slots.error()), retryFor(slots.error()));
  auto resumed = creds.resumePending(*slots, engine, id);
  if (!resumed.ok()) return finish(run, Outcome::fromProblem(resumed.error()), retryFor(resumed.error()));

  auto fingerprintOf = [&](const std::vector<engines::StoredCredential>& creds) {
    std::string material = sdb.uid + "\n" + std::to_string(sdb.generation) + "\n" + session->fingerprint;
    for (const auto& c : creds) material += "\n" + c.role + "=" + c.password;
    return sha256Hex(material);
  };
  const std::string key = run.request.key();
  if (restoring || !resumed->promoteAfterReconcile.empty() || !recentlyConverged(key, fingerprintOf(resumed->forEngine))) {
    engines::Engine::ReconcileInput input;
    input.id = id;
    input.credentials = resumed->forEngine;
    input.connectionLimit = options_.connectionLimit;
    input.deferDatabase = restoring;  // the restore Job makes the database
    ++engineRuns_;
    auto summary = engine.reconcile(input);
    if (!summary.ok()) {
      forgetConverged(key);
      Problem p = problemFromEngineError(summary.error(), "reconciling " + backend->describe() + " on " +
                                                              session->endpoint.host + ":" +
                                                              std::to_string(session->endpoint.port));
      return finish(run, Outcome::fromProblem(p), retryFor(p));
    }
    for (const auto& a : summary->actions) run.changes.provisioning.push_back(a);
    if (!summary->blockers.empty()) {
      forgetConverged(key);
      std::string message;
      for (const auto& b : summary->blockers) message += (message.empty() ? "" : "; ") + b.message;
      Problem p{summary->blockers.front().reason,
                message + ". Objects without this ServiceDatabase's ownership marker are never adopted, altered or "
                          "dropped; remove or rename them on the server",
                true, true};
      return finish(run, Outcome::fromProblem(p), retryFor(p));
    }
    for (auto& s : *slots) {
      for (const auto& slot : resumed->promoteAfterReconcile) {
        if (s.slot != slot) continue;
        if (auto p = creds.promote(s); !p.ok()) return finish(run, Outcome::fromProblem(p.error()), retryFor(p.error()));
        run.changes.rotation.push_back("set the pending " + slot + " password on the server, which accepted neither "
                                       "stored password, and promoted it (Secret \"" + s.secretName + "\")");
      }
    }
    std::vector<engines::StoredCredential> now;
    for (const auto& s : *slots) now.push_back({s.slot, s.password});
    if (!restoring) rememberConverged(key, fingerprintOf(now));
  }

  if (restoring) {
    forgetConverged(key);
    auto progress = driveRestore(client_, sdb, options_.restoreJob, options_.fieldManager, run.changes,
                                 options_.migrations.podLog);
    if (!progress.ok()) return finish(run, Outcome::fromProblem(progress.error()), retryFor(progress.error()));
    // Done: the next reconcile (Restored=True) runs the engine without deferring, which adopts the
    // database the Job made, and turns Ready.
    Outcome waiting;
    waiting.reason = progress->done ? "Restored" : "Restoring";
    waiting.message = progress->condition.message;
    waiting.extra = session->conditions;
    waiting.extra.push_back(progress->condition);
    return finish(run, waiting, ReconcileResult::requeueAfter(progress->done ? std::chrono::seconds(0)
                                                                             : std::chrono::seconds(3)));
  }

  const RotationDecision rotation = decideRotation(sdb, *slots, clock_.now());
  if (!rotation.slots.empty()) {
    if (auto r = creds.rotate(*slots, rotation, engine, id); !r.ok()) {
      forgetConverged(key);
      return finish(run, Outcome::fromProblem(r.error()), retryFor(r.error()));
    }
    std::vector<engines::StoredCredential> now;
    for (const auto& s : *slots) now.push_back({s.slot, s.password});
    rememberConverged(key, fingerprintOf(now));
  }

  Outcome ready;
  ready.state = Outcome::State::kReady;
  ready.reason = "Ready";
  ready.endpoint = session->endpoint;
  ready.message = backend->describe() + " database \"" + session->endpoint.database + "\" on " +
                  session->endpoint.host + ":" + std::to_string(session->endpoint.port) + " is ready";
  std::string names, latestRotation;
  for (const auto& s : *slots) {
    names += (names.empty() ? "" : ", ") + s.secretName;
    if (s.slot == specs::kSlotApp) ready.secretName = s.secretName;
    if (s.slot == specs::kSlotMigration) ready.migrationSecretName = s.secretName;
    latestRotation = std::max(latestRotation, specs::annotation(s.live, specs::kAnnotationRotatedAt));
  }
  if (!latestRotation.empty()) ready.rotatedAt = latestRotation;
  ready.credentialsStatus = "True";
  ready.credentialsReason = "CredentialsStored";
  ready.credentialsMessage = "the server accepts the passwords stored in Secret(s) " + names;
  ready.extra = session->conditions;
  std::optional<std::chrono::seconds> again = session->requeueAfter;
  if (rotation.nextDueIn) {
    auto due = std::chrono::duration_cast<std::chrono::seconds>(*rotation.nextDueIn) + std::chrono::seconds(1);
    again = again ? std::min(*again, due) : due;
  }
  if (sdb.deletionPolicy != "Snapshot") {
    ready.removedConditions.push_back(kConditionFinalBackupReady);
  } else if (auto c = finalBackupReadiness(client_, sdb)) {
    ready.extra.push_back(*c);
  }
  std::optional<std::string> retry;
  migrate(run, *backend, *slots, ready, again, retry);
  if (retry) return finish(run, ready, ReconcileResult::retry(*retry));
  ReconcileResult result = again ? ReconcileResult::requeueAfter(*again) : ReconcileResult::ok();
  return finish(run, ready, result);
}

void ServiceDatabaseReconciler::migrate(Run& run, const Backend& backend, const std::vector<SlotState>& slots,
                                        Outcome& ready, std::optional<std::chrono::seconds>& again,
                                        std::optional<std::string>& retry) {
  MigrationStep m = reconcileMigrations({client_, options_.migrations, clock_, options_.fieldManager},
                                        {run.sdb, run.object, slots, backend.migrationOwnerRole(run.sdb)});
  for (auto& c : m.changes) run.changes.provisioning.push_back(std::move(c));
  if (m.condition) ready.extra.push_back(*m.condition);
  if (m.removeCondition) ready.removedConditions.push_back(kConditionMigrationsApplied);
  ready.schemaVersion = m.schemaVersion;
  ready.migrations = m.record;
  if (m.applied) return;
  ready.state = m.problem.stalled ? Outcome::State::kStalled : Outcome::State::kProgressing;
  ready.reason = m.problem.reason;
  ready.message = m.problem.message;
  if (m.problem.requeueAfter) {
    again = again ? std::min(*again, *m.problem.requeueAfter) : *m.problem.requeueAfter;
  } else if (m.problem.retry) {
    retry = m.problem.reason + ": " + m.problem.message;
  }
}

PResult<void> ServiceDatabaseReconciler::ensureFinalizer(Run& run) {
  if (runtime::hasFinalizer(run.object, kFinalizer)) return {};
  auto r = runtime::ensureFinalizer(client_, res::kServiceDatabases, run.object, kFinalizer, options_.fieldManager);
  if (!r.ok() && r.error().is(kube::ApiErrorReason::kConflict)) {
    // Our cached copy was stale: re-read, and add it from the fresh copy if still missing.
    auto fresh = client_.get(res::kServiceDatabases, run.sdb.ns, run.sdb.name);
    if (!fresh.ok()) return Problem{"ApiError", "reading the ServiceDatabase: " + fresh.error().toString(), false, true};
    r = runtime::ensureFinalizer(client_, res::kServiceDatabases, *fresh, kFinalizer, options_.fieldManager);
  }
  if (!r.ok()) return Problem{"ApiError", "adding the finalizer: " + r.error().toString(), false, true};
  run.object = std::move(*r);
  run.object["metadata"].erase("managedFields");
  return {};
}

ReconcileResult ServiceDatabaseReconciler::finish(Run& run, const Outcome& outcomeIn, ReconcileResult result) {
  Outcome outcome = outcomeIn;
  outcome.deleting = run.sdb.deleting;
  auto w = writeStatus(client_, run.object, outcome, clock_.now(), options_.fieldManager);
  if (!w.ok()) {
    if (w.error().is(kube::ApiErrorReason::kNotFound)) return ReconcileResult::ok();
    emitEvents(run, run.object, outcome);
    return ReconcileResult::retry("writing status: " + w.error().toString());
  }
  if (w->written) ++statusWrites_;
  emitEvents(run, run.object, outcome);
  return result;
}

void ServiceDatabaseReconciler::emitEvents(Run& run, const Json& object, const Outcome& outcome) {
  runtime::EventRecorder* events = options_.events;
  auto join = [](const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) {
      if (out.size() > 900) return out + "; and " + std::to_string(lines.size()) + " changes in all";
      out += (out.empty() ? "" : "; ") + l;
    }
    return out;
  };
  auto previous = runtime::findCondition(object.contains("status") ? object["status"] : Json::object(),
                                         runtime::conditions::kReady);
  LogFields fields{{"controller", run.context.controller}, {"namespace", run.sdb.ns}, {"name", run.request.name},
                   {"reconcileID", run.context.reconcileId}};
  if (!run.changes.provisioning.empty()) {
    std::string message = join(run.changes.provisioning);
    auto f = fields;
    f.emplace_back("changes", message);
    logStructured(spdlog::level::info, "changed", f);
    if (events) events->event(object, "Normal", run.changes.createdSecrets ? "Provisioned" : "Reconciled", message);
  }
  if (!run.changes.rotation.empty()) {
    std::string message = join(run.changes.rotation);
    auto f = fields;
    f.emplace_back("changes", message);
    logStructured(spdlog::level::info, "credentials rotated", f);
    if (events) events->event(object, "Normal", "CredentialsRotated", message);
  }
  const bool ready = outcome.state == Outcome::State::kReady;
  const bool transition = !previous || previous->reason != outcome.reason || (previous->status == "True") != ready;
  if (!ready && transition) {
    auto f = fields;
    f.emplace_back("reason", outcome.reason);
    f.emplace_back("message", outcome.message);
    logStructured(spdlog::level::warn, "not ready", f);
    if (events) events->event(object, "Warning", outcome.reason, outcome.message);
  } else if (ready && previous && previous->status != "True" && run.changes.provisioning.empty() &&
             run.changes.rotation.empty()) {
    if (events) events->event(object, "Normal", "Ready", outcome.message);
  }
}

bool ServiceDatabaseReconciler::recentlyConverged(const std::string& key, const std::string& fingerprint) {
  if (options_.engineRecheckInterval.count() <= 0) return false;
  std::lock_guard<std::mutex> lock(memoMu_);
  auto it = converged_.find(key);
  return it != converged_.end() && it->second.first == fingerprint &&
         clock_.monotonic() - it->second.second < options_.engineRecheckInterval;
}

void ServiceDatabaseReconciler::rememberConverged(const std::string& key, const std::string& fingerprint) {
  std::lock_guard<std::mutex> lock(memoMu_);
  converged_[key] = {fingerprint, clock_.monotonic()};
}

void ServiceDatabaseReconciler::forgetConverged(const std::string& key) {
  std::lock_guard<std::mutex> lock(memoMu_);
  converged_.erase(key);
}

}  // namespace sdb::controllers::servicedatabase
