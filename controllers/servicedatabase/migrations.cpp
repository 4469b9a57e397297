#include "controllers/servicedatabase/migrations.h"

#include "controllers/servicedatabase/job_pod_log.h"

#include "controllers/servicedatabase/backup_cronjob.h"
#include "controllers/servicedatabase/migration_log.h"
#include "operator/runtime/conditions.h"
#include "operator/runtime/object_helpers.h"
#include "operator/specs/credentials_secret.h"
#include "operator/specs/labels.h"
#include "operator/core/text.h"

namespace sdb::controllers::servicedatabase {

namespace res = kube::resources;

MigrationRecord MigrationRecord::from(const Json& object) {
  MigrationRecord r;
  const Json* m = jsonAt(object, {"status", "migrations"});
  if (m == nullptr || !m->is_object()) return r;
  r.version = jsonString(*m, {"version"});
  r.specHash = jsonString(*m, {"specHash"});
  r.retryRequest = jsonString(*m, {"retryRequest"});
  r.job = jsonString(*m, {"job"});
  r.phase = jsonString(*m, {"phase"});
  r.reason = jsonString(*m, {"reason"});
  r.finishedAt = jsonString(*m, {"finishedAt"});
  return r;
}

Json MigrationRecord::toJson() const {
  Json j = {{"version", version}, {"specHash", specHash}, {"job", job}, {"phase", phase}};
  if (!retryRequest.empty()) j["retryRequest"] = retryRequest;
  if (!reason.empty()) j["reason"] = reason;
  if (!finishedAt.empty()) j["finishedAt"] = finishedAt;
  return j;
}

namespace {

// One reconcile's view: the desired run, the record as it evolves, what to report.
struct Ctx {
  const MigrationDeps& d;
  const MigrationInput& in;
  specs::MigrationsSpec spec;
  std::string specHash, runKey;
  MigrationRecord rec;
  std::string schemaVersion;
  std::string failureMessage;      // MigrationsApplied's text for a failure seen in this reconcile
  std::optional<Json> knownJob;    // a Job this reconcile created or read, by name
  std::vector<std::string> changes;

  const std::string& ns() const { return in.sdb.ns; }
  std::string recKey() const { return specs::migrationRunKey(rec.version, rec.specHash, rec.retryRequest); }
  void settle(const std::string& phase, const std::string& reason = "") {
    rec.phase = phase;
    rec.reason = reason;
    rec.finishedAt = formatRfc3339(d.clock.now());
  }
};

MigrationStep problemStep(const Problem& p, const std::string& conditionMessage = "") {
  MigrationStep s;
  s.applied = false;
  s.problem = p;
  s.condition = ExtraCondition{kConditionMigrationsApplied, "False", p.reason,
                               conditionMessage.empty() ? p.message : conditionMessage};
  return s;
}

MigrationStep apiStep(const kube::ApiError& e, const std::string& doing) {
  return problemStep({"ApiError", doing + ": " + e.toString(), false, true});
}

MigrationStep waiting(Ctx& c, const std::string& reason, const std::string& message) {
  return problemStep({reason, "spec.migrations.version " + quote(c.spec.version) + ": " + message, false, false,
                      c.d.options.pollInterval},
                     message);
}

bool ours(const Ctx& c, const Json& job) {
  auto owner = runtime::controllerOf(job);
  return owner && jsonString(*owner, {"uid"}) == c.in.sdb.uid;
}

// Passwords of every slot, current and pending: never to appear in status.
std::vector<std::string> secretValues(const Ctx& c) {
  std::vector<std::string> out;
  for (const auto& s : c.in.slots) {
    out.push_back(s.password);
    if (s.pending) out.push_back(*s.pending);
  }
  return out;
}

// "pod x: <summary and log tail>" of the Job's newest pod.
std::string podReport(Ctx& c, const std::string& jobName) {
  return jobPodLogReport(c.d.client, c.d.options.podLog, c.ns(), jobName, secretValues(c));
}

PResult<Json> createJob(Ctx& c, const Json& job) {
  const std::string name = jsonString(job, {"metadata", "name"});
  kube::WriteOptions wo;
  wo.fieldManager = c.d.fieldManager;
  auto created = c.d.client.create(res::kJobs, c.ns(), job, wo);
  if (created.ok()) {
    c.changes.push_back("created Job " + quote(name));
    return *created;
  }
  if (!created.error().is(kube::ApiErrorReason::kAlreadyExists)) {
    return Problem{"ApiError", "creating Job " + quote(name) + ": " + created.error().toString(), false, true};
  }
  // Made by an earlier reconcile whose status write never happened: adopt it, never run twice.
  auto existing = c.d.client.get(res::kJobs, c.ns(), name);
  if (!existing.ok()) return Problem{"ApiError", "reading Job " + quote(name) + ": " + existing.error().toString(), false, true};
  if (!ours(c, *existing)) {
    return Problem{"ForeignObject", "Job " + quote(name) + " exists and is not controlled by this ServiceDatabase; remove it",
                   true, true};
  }
  return *existing;
}

const SlotState* migrationSlot(const Ctx& c) {
  for (const auto& s : c.in.slots) {
    if (s.slot == specs::kSlotMigration) return &s;
  }
  return nullptr;
}

std::optional<MigrationStep> startMigrationJob(Ctx& c) {
  const SlotState* slot = migrationSlot(c);
  if (!slot) return problemStep({"NotImplemented", "spec.migrations: this engine has no migration login", true, false});
  if (c.spec.builtin()) {
    auto cm = c.d.client.get(res::kConfigMaps, c.ns(), c.spec.configMapName);
    if (!cm.ok() && cm.error().is(kube::ApiErrorReason::kNotFound)) {
      return problemStep({"MigrationsConfigMapNotFound",
                          "spec.migrations.configMapRef.name: ConfigMap " + quote(c.spec.configMapName) +
                              " not found in namespace " + quote(c.ns()),
                          true, false, c.d.options.absentPollInterval});
    }
    if (!cm.ok()) return apiStep(cm.error(), "reading ConfigMap " + quote(c.spec.configMapName));
  }
  specs::MigrationJobInput ji;
  ji.jobName = specs::migrationJobName(c.in.sdb, c.runKey);
  ji.credentialsSecret = slot->secretName;
  ji.mountCa = specs::secretData(slot->live).count("ca.crt") > 0;
  ji.ownerRole = c.in.ownerRole;
  ji.specHash = c.specHash;
  auto job = createJob(c, specs::migrationJob(c.in.sdb, c.spec, ji, c.d.options.job));
  if (!job.ok()) return problemStep(job.error());
  c.knownJob = std::move(*job);
  c.rec = {c.spec.version, c.specHash, c.in.sdb.retryMigrationsRequest, ji.jobName, "Running", "", ""};
  return std::nullopt;
}

std::optional<MigrationStep> startBackupJob(Ctx& c) {
  const specs::ServiceDatabase& sdb = c.in.sdb;
  auto found = findBackupCronJob(c.d.client, sdb);
  if (!found.ok()) return apiStep(found.error(), "listing backup CronJobs");
  if (!found->cronJob) {
    std::string why = sdb.backupPolicyName.empty()
                          ? "set spec.backupPolicyRef to a BackupPolicy that backs this database up"
                          : "spec.backupPolicyRef names BackupPolicy " + quote(sdb.backupPolicyName) +
                                ", which has no backup CronJob for this database yet";
    Problem p{"BackupRequired",
              "spec.migrations.backupFirst: a fresh backup is required before migrating to version " +
                  quote(c.spec.version) + ", and no backup CronJob labelled " + found->selector +
                  " exists in namespace " + quote(c.ns()) + "; " + why,
              true, false, c.d.options.absentPollInterval};
    return problemStep(p);
  }
  const std::string name = specs::migrationBackupJobName(sdb, c.runKey);
  auto job = specs::backupJobFromCronJob(sdb, *found->cronJob, name, c.spec.version);
  if (!job.ok()) return problemStep({"BackupRequired", "spec.migrations.backupFirst: " + job.error().message, true, true});
  auto created = createJob(c, *job);
  if (!created.ok()) return problemStep(created.error());
  c.knownJob = std::move(*created);
  c.rec = {c.spec.version, c.specHash, sdb.retryMigrationsRequest, name, "BackingUp", "", ""};
  return std::nullopt;
}

// Step 1 of the header: the run in flight. Returns a step to report now, or nullopt when the
// record moved on (settled, or from backup to migration) and the caller should look again.
std::optional<MigrationStep> observe(Ctx& c) {
  const bool backup = c.rec.phase == "BackingUp";
  Json job;
  if (c.knownJob && jsonString(*c.knownJob, {"metadata", "name"}) == c.rec.job) {
    job = *c.knownJob;
  } else {
    auto got = c.d.client.get(res::kJobs, c.ns(), c.rec.job);
    if (!got.ok() && !got.error().is(kube::ApiErrorReason::kNotFound)) {
      return apiStep(got.error(), "reading Job " + quote(c.rec.job));
    }
    if (!got.ok()) {
      c.settle("Failed", backup ? "BackupJobLost" : "MigrationJobLost");
      c.failureMessage = "Job " + quote(c.rec.job) + " (version " + quote(c.rec.version) +
                         ") was removed before its result was recorded; whether it " +
                         (backup ? "backed up" : "applied anything") +
                         " is unknown. Check, then set the annotation " + specs::kRetryMigrationsAnnotation +
                         " to a new value to run it again";
      c.changes.push_back("Job " + quote(c.rec.job) + " disappeared before its result was recorded");
      return std::nullopt;
    }
    job = std::move(*got);
  }
  std::string reason, message;
  if (trueJobCondition(job, "Complete")) {
    if (backup) {
      c.changes.push_back("backup Job " + quote(c.rec.job) + " succeeded");
      if (c.recKey() != c.runKey) {
        c.settle("Superseded");
        return std::nullopt;
      }
      return startMigrationJob(c);
    }
    c.settle("Succeeded");
    c.schemaVersion = c.rec.version;
    c.changes.push_back("applied migrations version " + quote(c.rec.version) + " (Job " + quote(c.rec.job) + ")");
    return std::nullopt;
  }
  if (auto failed = trueJobCondition(job, "Failed")) {
    reason = failed->reason;
    message = failed->message;
    c.failureMessage = std::string(backup ? "backup " : "") + "Job " + quote(c.rec.job) + " for version " +
                       quote(c.rec.version) + " failed" + (reason.empty() ? "" : " (" + reason) +
                       (message.empty() ? "" : ": " + message) + (reason.empty() ? "" : ")") + "; " +
                       podReport(c, c.rec.job);
    c.settle("Failed", backup ? "BackupFailed" : "MigrationFailed");
    c.changes.push_back(std::string(backup ? "backup " : "") + "Job " + quote(c.rec.job) + " failed");
    return std::nullopt;
  }
  const bool current = c.recKey() == c.runKey;
  std::string what = backup ? "backing up before migrating, Job " + quote(c.rec.job) + " is running"
                            : "Job " + quote(c.rec.job) + " is applying the migrations";
  if (!current) what += " (for an earlier spec, version " + quote(c.rec.version) + "; this spec runs after it)";
  return waiting(c, backup ? "BackupRunning" : "MigrationRunning", what);
}

MigrationStep failedStep(Ctx& c) {
  std::string detail = c.failureMessage;
  if (detail.empty()) {
    auto stored = runtime::findCondition(c.in.object.contains("status") ? c.in.object["status"] : Json::object(),
                                         kConditionMigrationsApplied);
    detail = stored && stored->status == "False" && stored->reason == c.rec.reason
                 ? stored->message
                 : "Job " + quote(c.rec.job) + " for version " + quote(c.rec.version) + " failed";
  }
  std::string headline = detail.substr(0, detail.find('\n'));
  const std::string tailIntro = ": log tail:";
  if (headline.size() > tailIntro.size() &&
      headline.compare(headline.size() - tailIntro.size(), tailIntro.size(), tailIntro) == 0) {
    headline.resize(headline.size() - tailIntro.size());  // the tail itself is in MigrationsApplied
  }
  Problem p{c.rec.reason,
            "spec.migrations.version " + quote(c.spec.version) + ": " + headline +
                ". Change spec.migrations, or set the annotation " + specs::kRetryMigrationsAnnotation +
                " to a new value, to run it again (condition MigrationsApplied has the log)",
            true, false};
  return problemStep(p, detail);
}

MigrationStep appliedStep(Ctx& c) {
  MigrationStep s;
  std::string message = "version " + quote(c.spec.version) + " is applied";
  if (c.rec.phase == "Succeeded" && c.rec.version == c.spec.version) message += " (Job " + quote(c.rec.job) + ")";
  s.condition = ExtraCondition{kConditionMigrationsApplied, "True", "Applied", message};
  return s;
}

MigrationStep finish(Ctx& c, MigrationStep step, const MigrationRecord& before, const std::string& schemaBefore) {
  if (c.rec.toJson() != before.toJson()) step.record = c.rec.toJson();
  if (c.schemaVersion != schemaBefore) step.schemaVersion = c.schemaVersion;
  step.changes = std::move(c.changes);
  return step;
}

}  // namespace

MigrationStep reconcileMigrations(const MigrationDeps& d, const MigrationInput& in) {
  const specs::ServiceDatabase& sdb = in.sdb;
  if (!sdb.hasMigrations) {
    MigrationStep s;
    s.removeCondition = true;
    return s;
  }
  auto spec = specs::parseMigrations(sdb);
  if (!spec.ok()) return problemStep({"InvalidSpec", spec.error().message, true, false});
  Ctx c{d, in, *spec, specs::migrationsSpecHash(sdb), "", MigrationRecord::from(in.object),
        jsonString(in.object, {"status", "schemaVersion"}),
        "", std::nullopt, {}};
  c.runKey = specs::migrationRunKey(c.spec.version, c.specHash, sdb.retryMigrationsRequest);
  const MigrationRecord before = c.rec;
  const std::string schemaBefore = c.schemaVersion;
  // Each pass settles or advances the record; four passes cover backup -> migration -> done.
  for (int pass = 0; pass < 4; ++pass) {
    if (c.rec.inFlight()) {
      if (auto step = observe(c)) return finish(c, std::move(*step), before, schemaBefore);
      continue;
    }
    if (c.schemaVersion == c.spec.version) return finish(c, appliedStep(c), before, schemaBefore);
    if (c.rec.phase == "Failed" && c.recKey() == c.runKey) return finish(c, failedStep(c), before, schemaBefore);
    c.failureMessage.clear();
    auto started = c.spec.backupFirst ? startBackupJob(c) : startMigrationJob(c);
    if (started) return finish(c, std::move(*started), before, schemaBefore);
  }
  return finish(c, waiting(c, "MigrationRunning", "Job " + quote(c.rec.job) + " is running"), before, schemaBefore);
}

}  // namespace sdb::controllers::servicedatabase
