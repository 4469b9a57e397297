#include "controllers/backuppolicy/reconciler.h"

#include <set>

#include "operator/core/log.h"
#include "operator/runtime/conditions.h"
#include "operator/runtime/status_writer.h"
#include "operator/specs/backup_policy.h"

namespace sdb::controllers::backuppolicy {

namespace res = kube::resources;
using runtime::ReconcileResult;

const std::vector<kube::ResourceRef>& childKinds() {
  static const std::vector<kube::ResourceRef> kinds = {res::kServiceAccounts, kRoles, kRoleBindings, res::kConfigMaps,
                                                       res::kCronJobs};
  return kinds;
}

namespace {

// The uid of the object's controller owner reference, or "".
std::string controllerUid(const Json& obj) {
  const Json* refs = jsonAt(obj, {"metadata", "ownerReferences"});
  if (!refs || !refs->is_array()) return "";
  for (const auto& r : *refs) {
    if (r.value("controller", false)) return r.value("uid", "");
  }
  return "";
}

std::string kindName(const kube::ResourceRef& kind, const std::string& name) { return kind.kind + " \"" + name + "\""; }

std::string joined(const std::vector<std::string>& lines, const std::string& sep = "; ") {
  std::string out;
  for (const auto& l : lines) {
    if (out.size() > 900) return out + sep + "and " + std::to_string(lines.size()) + " in all";
    out += (out.empty() ? "" : sep) + l;
  }
  return out;
}

std::optional<std::chrono::system_clock::time_point> timeAt(const Json& obj, const std::vector<std::string>& path) {
  std::chrono::system_clock::time_point t;
  const std::string s = jsonString(obj, path);
  if (s.empty() || !parseRfc3339(s, &t)) return std::nullopt;
  return t;
}

}  // namespace

struct BackupPolicyReconciler::Run {
  const runtime::Request& request;
  const runtime::ReconcileContext& context;
  Json object;
  std::vector<std::string> changes;
  bool created = false;
};

BackupPolicyReconciler::BackupPolicyReconciler(kube::KubeClient& client, Readers readers, ReconcilerOptions options)
    : client_(client),
      readers_(std::move(readers)),
      options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : SystemClock::instance()) {}

Result<std::chrono::minutes> BackupPolicyReconciler::intervalOf(const std::string& schedule) {
  {
    std::lock_guard<std::mutex> lock(intervalsMu_);
    if (auto it = intervals_.find(schedule); it != intervals_.end()) return it->second;
  }
  auto interval = specs::scheduleInterval(schedule, "spec.schedule");
  if (!interval.ok()) return interval.error();
  std::lock_guard<std::mutex> lock(intervalsMu_);
  intervals_[schedule] = *interval;
  return *interval;
}

ReconcileResult BackupPolicyReconciler::reconcile(const runtime::Request& request,
                                                  const runtime::ReconcileContext& context) {
  auto cached = readers_.get(res::kBackupPolicies, request.ns, request.name);
  if (!cached || jsonAt(*cached, {"metadata", "deletionTimestamp"})) return ReconcileResult::ok();
  Run run{request, context, *cached, {}, false};
  auto stall = [&](const std::string& reason, const std::string& message) {
    Outcome o;
    o.state = Outcome::State::kStalled;
    o.reason = reason;
    o.message = message;
    return finish(run, o, ReconcileResult::ok());
  };
  auto parsed = specs::parseBackupPolicy(run.object);
  if (!parsed.ok()) return stall("InvalidSpec", parsed.error().message);
  const specs::BackupPolicy& policy = *parsed;
  auto interval = intervalOf(policy.schedule);
  if (!interval.ok()) return stall("InvalidSpec", interval.error().message);

  // Targets, by name for a stable status.targets[] order.
  std::map<std::string, specs::ServiceDatabase> targets;
  std::vector<std::string> conflicts;
  std::set<std::string> present;
  for (const auto& o : readers_.list(res::kServiceDatabases, policy.ns)) {
    auto sdb = specs::parseServiceDatabase(*o);
    if (!sdb.ok()) continue;  // its own controller reports that
    present.insert(sdb->name);
    const Json* labels = jsonAt(*o, {"metadata", "labels"});
    auto m = specs::matchTarget(policy, *sdb, labels ? *labels : Json::object());
    if (m.conflict) conflicts.push_back(m.message);
    if (m.backedUp) targets.emplace(sdb->name, std::move(*sdb));
  }
  std::vector<std::string> missing;
  for (const auto& n : policy.targetNames) {
    if (!present.count(n)) missing.push_back("\"" + n + "\"");
  }

  std::set<std::string> wanted;
  std::vector<std::string> unsupported, foreign;
  Json statusTargets = Json::array();
  std::vector<TargetHealth> health;
  for (const auto& [name, sdb] : targets) {
    auto cronJob = specs::backupCronJob(policy, sdb, options_.job);
    if (!cronJob.ok()) {
      unsupported.push_back(cronJob.error().message);
      continue;
    }
    const std::string child = specs::backupChildName(policy, sdb);
    wanted.insert(child);
    std::vector<std::pair<kube::ResourceRef, Json>> desired;
    const std::vector<Json> objects = {specs::backupServiceAccount(policy, sdb), specs::backupRole(policy, sdb),
                                       specs::backupRoleBinding(policy, sdb), specs::backupReportConfigMap(policy, sdb),
                                       *cronJob};
    for (size_t i = 0; i < objects.size(); ++i) desired.emplace_back(childKinds()[i], objects[i]);
    if (policy.hasVerify) {
      auto drill = specs::drillCronJob(policy, sdb, options_.job);
      if (!drill.ok()) {
        unsupported.push_back(drill.error().message);
      } else {
        wanted.insert(specs::drillCronJobName(policy, sdb));
        desired.emplace_back(res::kCronJobs, *drill);
      }
    }
    TargetHealth th{name, std::nullopt, std::nullopt};
    bool blocked = false;
    for (size_t i = 0; i < desired.size() && !blocked; ++i) {
      const kube::ResourceRef& kind = desired[i].first;
      const Json& want = desired[i].second;
      const std::string objectName = jsonString(want, {"metadata", "name"});
      runtime::ObjectPtr live = readers_.get(kind, policy.ns, objectName);
      if (live && controllerUid(*live) != policy.uid) {
        foreign.push_back(kindName(kind, objectName) + " exists and is not controlled by this BackupPolicy; rename or "
                                                       "remove it to back up \"" + name + "\"");
        blocked = true;
        break;
      }
      auto applied = runtime::applyIfChanged(client_, kind, want, live ? std::optional<Json>(*live) : std::nullopt,
                                             options_.fieldManager);
      if (!applied.ok()) {
        Outcome o;
        o.reason = "ApiError";
        o.message = "applying " + kindName(kind, objectName) + ": " + applied.error().toString();
        return finish(run, o, ReconcileResult::retry(o.message));
      }
      if (applied->applied) {
        ++childWrites_;
        run.changes.push_back("applied " + kindName(kind, objectName));
        if (!live) run.created = true;
      }
      if (kind == res::kCronJobs && objectName == child) th.scheduledSince = timeAt(applied->object, {"metadata", "creationTimestamp"});
    }
    if (blocked) continue;
    runtime::ObjectPtr report = readers_.get(res::kConfigMaps, policy.ns, child);
    Json entry = foldReport(name, report.get());
    th.lastSuccess = timeAt(entry, {"lastSuccess", "time"});
    health.push_back(th);
    statusTargets.push_back(std::move(entry));
  }

  // Children of targets this policy no longer backs up (the CronJob first: no new run starts).
  for (auto it = childKinds().rbegin(); it != childKinds().rend(); ++it) {
    for (const auto& o : readers_.list(*it, policy.ns)) {
      const std::string name = jsonString(*o, {"metadata", "name"});
      if (controllerUid(*o) != policy.uid || wanted.count(name)) continue;
      kube::DeleteOptions d;
      d.preconditionUid = jsonString(*o, {"metadata", "uid"});
      d.propagationPolicy = "Background";
      auto r = client_.remove(*it, policy.ns, name, d);
      if (!r.ok() && !r.error().is(kube::ApiErrorReason::kNotFound)) {
        Outcome out;
        out.reason = "ApiError";
        out.message = "deleting " + kindName(*it, name) + ": " + r.error().toString();
        return finish(run, out, ReconcileResult::retry(out.message));
      }
      ++childWrites_;
      run.changes.push_back("deleted " + kindName(*it, name) + " (no longer a target)");
    }
  }

  Outcome outcome;
  outcome.destination = policy.destinationDescription();
  outcome.targets = statusTargets;
  outcome.conflictMessage = joined(conflicts);
  outcome.health = evaluateHealth(health, *interval, policy.suspend, clock_.now());
  if (policy.hasVerify) outcome.verify = evaluateDrills(statusTargets);
  std::string note = missing.empty() ? "" : "; listed but not found: " + joined(missing, ", ");
  if (!unsupported.empty() || !foreign.empty()) {
    outcome.state = Outcome::State::kStalled;
    outcome.reason = foreign.empty() ? "UnsupportedTarget" : "ForeignObject";
    std::vector<std::string> all = foreign;
    all.insert(all.end(), unsupported.begin(), unsupported.end());
    outcome.message = joined(all) + note;
  } else {
    outcome.state = Outcome::State::kReady;
    outcome.reason = health.empty() ? "NoTargets" : "Scheduled";
    std::string names;
    for (const auto& h : health) names += (names.empty() ? "" : ", ") + h.name;
    outcome.message = health.empty() ? "no ServiceDatabase matches spec.targets" + note
                                     : "backups of " + names + " scheduled (\"" + policy.schedule + "\", " +
                                           policy.timeZone + (policy.suspend ? ", suspended" : "") + ") to " +
                                           outcome.destination + note;
  }
  ReconcileResult result = ReconcileResult::ok();
  if (outcome.health->nextHealthChange) {
    result = ReconcileResult::requeueAfter(*outcome.health->nextHealthChange + std::chrono::seconds(1));
  }
  return finish(run, outcome, result);
}

ReconcileResult BackupPolicyReconciler::finish(Run& run, const Outcome& outcome, ReconcileResult result) {
  const Json before = run.object.contains("status") ? run.object["status"] : Json::object();
  auto w = writeStatus(client_, run.object, outcome, clock_.now(), options_.fieldManager);
  if (!w.ok()) {
    if (w.error().is(kube::ApiErrorReason::kNotFound)) return ReconcileResult::ok();
    return ReconcileResult::retry("writing status: " + w.error().toString());
  }
  if (w->written) ++statusWrites_;
  LogFields fields{{"controller", run.context.controller}, {"namespace", run.request.ns}, {"name", run.request.name},
                   {"reconcileID", run.context.reconcileId}};
  runtime::EventRecorder* events = options_.events;
  if (!run.changes.empty()) {
    const std::string message = joined(run.changes);
    auto f = fields;
    f.emplace_back("changes", message);
    logStructured(spdlog::level::info, "changed", f);
    if (events) events->event(run.object, "Normal", run.created ? "Scheduled" : "Reconciled", message);
  }
  auto previous = runtime::findCondition(before, runtime::conditions::kReady);
  const bool ready = outcome.state == Outcome::State::kReady;
  if (!ready && (!previous || previous->reason != outcome.reason || previous->status == "True")) {
    auto f = fields;
    f.emplace_back("reason", outcome.reason);
    f.emplace_back("message", outcome.message);
    logStructured(spdlog::level::warn, "not ready", f);
    if (events) events->event(run.object, "Warning", outcome.reason, outcome.message);
  }
  auto wasVerified = runtime::findCondition(before, kConditionRestoreVerified);
  if (outcome.verify && outcome.verify->status == "False" &&
      (!wasVerified || wasVerified->status != "False" || wasVerified->message != outcome.verify->message)) {
    if (events) events->event(run.object, "Warning", outcome.verify->reason, outcome.verify->message);
  }
  auto wasHealthy = runtime::findCondition(before, kConditionBackupHealthy);
  if (outcome.health && outcome.health->status == "False" && (!wasHealthy || wasHealthy->status != "False")) {
    if (events) events->event(run.object, "Warning", outcome.health->reason, outcome.health->message);
  }
  return result;
}

}  // namespace sdb::controllers::backuppolicy
