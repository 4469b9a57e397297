#include "controllers/backuppolicy/status.h"

#include "operator/core/clock.h"
#include "operator/runtime/conditions.h"
#include "operator/runtime/status_writer.h"
#include "operator/specs/backup_job.h"

namespace sdb::controllers::backuppolicy {

namespace cond = runtime::conditions;
using Clock = std::chrono::system_clock;

namespace {

// The fields of one run the Job writes (operator/main/backup_job_flags.cpp, backupRunJson), typed
// as the CRD declares them; anything else is dropped.
std::optional<Json> runFrom(const Json& data, const char* key) {
  auto it = data.find(key);
  if (it == data.end() || !it->is_string()) return std::nullopt;
  auto parsed = parseJson(it->get<std::string>(), key);
  if (!parsed.ok() || !parsed->is_object()) return std::nullopt;
  Json out = Json::object();
  for (const char* s : {"time", "id", "result", "message"}) {
    if (auto f = parsed->find(s); f != parsed->end() && f->is_string()) out[s] = *f;
  }
  if (auto f = parsed->find("sizeBytes"); f != parsed->end() && f->is_number_integer()) out["sizeBytes"] = *f;
  if (auto f = parsed->find("durationSeconds"); f != parsed->end() && f->is_number()) out["durationSeconds"] = *f;
  if (out.empty()) return std::nullopt;
  return out;
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string hoursText(std::chrono::minutes m) {
  if (m.count() % 60 == 0) return std::to_string(m.count() / 60) + "h";
  return std::to_string(m.count()) + "m";
}

}  // namespace

Json foldReport(const std::string& target, const Json* report) {
  Json entry = {{"name", target}};
  if (!report) return entry;
  const Json* data = jsonAt(*report, {"data"});
  if (!data || !data->is_object()) return entry;
  if (auto a = runFrom(*data, specs::kReportLastAttempt)) entry["lastAttempt"] = *a;
  if (auto s = runFrom(*data, specs::kReportLastSuccess)) entry["lastSuccess"] = *s;
  if (auto v = runFrom(*data, specs::kReportLastVerifiedRestore)) entry["lastVerifiedRestore"] = *v;
  if (auto k = data->find(specs::kReportKept); k != data->end() && k->is_string()) {
    const std::string& text = k->get_ref<const std::string&>();
    if (!text.empty() && text.size() < 10 && text.find_first_not_of("0123456789") == std::string::npos) {
      entry["kept"] = std::stoll(text);
    }
  }
  return entry;
}

HealthVerdict evaluateHealth(const std::vector<TargetHealth>& targets, std::chrono::minutes interval, bool suspended,
                             Clock::time_point now) {
  HealthVerdict v;
  if (suspended) {
    return {"Unknown", "Suspended", "spec.suspend is true: no backups are scheduled", std::nullopt};
  }
  if (targets.empty()) return {"Unknown", "NoTargets", "the policy backs up no ServiceDatabase", std::nullopt};
  const auto allowed = 2 * std::chrono::duration_cast<Clock::duration>(interval);
  std::vector<std::string> overdue, never;
  std::optional<Clock::duration> soonest;
  for (const auto& t : targets) {
    std::optional<Clock::time_point> ref = t.lastSuccess;
    if (t.scheduledSince && (!ref || *t.scheduledSince > *ref)) ref = t.scheduledSince;
    if (!ref) ref = now;  // no CronJob seen yet: it is being created now
    const auto age = now - *ref;
    if (age > allowed) {
      if (t.lastSuccess) {
        overdue.push_back(t.name + " (last success " + formatRfc3339(*t.lastSuccess) + ")");
      } else {
        never.push_back(t.name);
      }
      continue;
    }
    const auto left = allowed - age;
    if (!soonest || left < *soonest) soonest = left;
  }
  if (overdue.empty() && never.empty()) {
    v.status = "True";
    v.reason = "BackupsRecent";
    v.message = "every target has a successful backup within twice the schedule's interval (" + hoursText(2 * interval) +
                "), or was added less than that long ago";
    v.nextHealthChange = std::chrono::duration_cast<std::chrono::nanoseconds>(*soonest);
    return v;
  }
  v.status = "False";
  v.reason = "BackupOverdue";
  v.message = "no successful backup within twice the schedule's interval (" + hoursText(2 * interval) + ") for ";
  std::vector<std::string> all = overdue;
  for (const auto& n : never) all.push_back(n + " (never)");
  v.message += joinNames(all) + "; see status.targets[].lastAttempt and the backup Jobs' logs";
  return v;
}

HealthVerdict evaluateDrills(const Json& targets) {
  std::vector<std::string> failed, passed, pending;
  for (const auto& t : targets) {
    const std::string name = t.value("name", "");
    const Json* v = jsonAt(t, {"lastVerifiedRestore"});
    if (!v) {
      pending.push_back(name);
    } else if (v->value("result", "") == "Succeeded") {
      passed.push_back(name);
    } else {
      failed.push_back(name + " (" + v->value("time", "") + ": " + v->value("message", "") + ")");
    }
  }
  if (!failed.empty()) {
    return {"False", "RestoreDrillFailed",
            "the last restore drill failed for " + joinNames(failed) + "; see the drill Jobs' logs", std::nullopt};
  }
  if (targets.empty() || !pending.empty()) {
    return {"Unknown", "NoDrillYet",
            pending.empty() ? std::string("the policy backs up no ServiceDatabase")
                            : "no restore drill has run yet for " + joinNames(pending) + " (spec.verify.schedule)",
            std::nullopt};
  }
  return {"True", "RestoreDrillsPassed", "the last restore drill passed for " + joinNames(passed), std::nullopt};
}

Json desiredStatus(const Json& object, const Outcome& o, Clock::time_point now) {
  Json status = object.contains("status") && object["status"].is_object() ? object["status"] : Json::object();
  const Json* g = jsonAt(object, {"metadata", "generation"});
  const int64_t gen = g && g->is_number_integer() ? g->get<int64_t>() : 0;
  status["observedGeneration"] = gen;
  if (!o.destination.empty()) status["destination"] = o.destination;
  if (o.targets) {
    Json merged = *o.targets;
    status["targetCount"] = static_cast<int64_t>(merged.size());
    status["targets"] = std::move(merged);
  }
  const bool ready = o.state == Outcome::State::kReady;
  const bool stalled = o.state == Outcome::State::kStalled;
  runtime::setCondition(status, {cond::kReady, ready ? "True" : "False", o.reason, o.message, gen}, now);
  runtime::setCondition(status, {cond::kReconciling, !ready && !stalled ? "True" : "False", o.reason, o.message, gen},
                        now);
  runtime::setCondition(status, {cond::kStalled, stalled ? "True" : "False", o.reason, o.message, gen}, now);
  if (o.health) {
    runtime::setCondition(status, {kConditionBackupHealthy, o.health->status, o.health->reason, o.health->message, gen},
                          now);
  }
  if (o.verify) {
    runtime::setCondition(status, {kConditionRestoreVerified, o.verify->status, o.verify->reason, o.verify->message, gen},
                          now);
  } else if (o.targets) {
    runtime::removeCondition(status, kConditionRestoreVerified);
  }
  if (!o.conflictMessage.empty()) {
    runtime::setCondition(status, {kConditionTargetConflict, "True", "TargetConflict", o.conflictMessage, gen}, now);
  } else if (o.targets) {
    runtime::setCondition(status,
                          {kConditionTargetConflict, "False", "NoConflict",
                           "no listed ServiceDatabase references another BackupPolicy", gen},
                          now);
  }
  return status;
}

kube::KResult<StatusWrite> writeStatus(kube::KubeClient& client, const Json& cached, const Outcome& outcome,
                                       Clock::time_point now, const std::string& fieldManager) {
  namespace res = kube::resources;
  StatusWrite out;
  const Json stored = cached.contains("status") ? cached["status"] : Json::object();
  if (runtime::statusSemanticallyEqual(stored, desiredStatus(cached, outcome, now))) {
    out.object = cached;
    return out;
  }
  const std::string ns = jsonString(cached, {"metadata", "namespace"});
  if (!jsonString(cached, {"metadata", "resourceVersion"}).empty()) {
    Json obj = cached;
    obj["status"] = desiredStatus(cached, outcome, now);
    kube::WriteOptions opts;
    opts.fieldManager = fieldManager;
    auto put = client.updateStatus(res::kBackupPolicies, ns, obj, opts);
    if (put.ok()) {
      out.written = true;
      out.object = std::move(*put);
      return out;
    }
    if (!put.error().is(kube::ApiErrorReason::kConflict)) return put.error();
  }
  auto w = runtime::updateStatusWithRetry(
      client, res::kBackupPolicies, ns, jsonString(cached, {"metadata", "name"}),
      [&](const Json& fresh, Json& status) { status = desiredStatus(fresh, outcome, now); }, fieldManager);
  if (!w.ok()) return w.error();
  out.written = w->written;
  out.object = std::move(w->object);
  return out;
}

}  // namespace sdb::controllers::backuppolicy
