#include "e2e/workloads/cronjob.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "e2e/workloads/job.h"
#include "e2e/workloads/pod_util.h"
#include "operator/runtime/object_helpers.h"

namespace sdb::workloads {

namespace res = kube::resources;
using runtime::ReconcileResult;

namespace {

int64_t unixOf(TimePoint t) { return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count(); }
TimePoint fromUnix(int64_t s) { return TimePoint(std::chrono::seconds(s)); }

Json jobReference(const Json& job) {
  return {{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"name", jsonString(job, {"metadata", "name"})},
          {"namespace", jsonString(job, {"metadata", "namespace"})}, {"uid", jsonString(job, {"metadata", "uid"})},
          {"resourceVersion", jsonString(job, {"metadata", "resourceVersion"})}};
}

// A finished Job's place in history: its start time, else its creation.
std::string startedAt(const Json& job) {
  const std::string s = jsonString(job, {"status", "startTime"});
  return s.empty() ? jsonString(job, {"metadata", "creationTimestamp"}) : s;
}

}  // namespace

std::string formatInZone(int64_t unix, const cron::TimeZone& zone) {
  const int32_t offset = zone.lookup(unix).offset;
  const cron::CivilTime c = cron::civilFromUnix(unix + offset);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d", static_cast<long long>(c.year), c.month, c.day,
                c.hour, c.minute, c.second);
  std::string out = buf;
  if (offset == 0) return out + "Z";
  const int32_t a = offset < 0 ? -offset : offset;
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", offset < 0 ? '-' : '+', a / 3600, a / 60 % 60);
  return out + buf;
}

std::optional<int64_t> mostRecentScheduleTime(const cron::Schedule& schedule, const cron::TimeZone& zone,
                                              int64_t earliest, int64_t now, int64_t* missed) {
  *missed = 0;
  auto t1 = schedule.next(earliest, zone);
  if (!t1 || now < *t1) return std::nullopt;
  auto t2 = schedule.next(*t1, zone);
  if (!t2 || now < *t2) {
    *missed = 1;
    return t1;
  }
  // Many were missed (the cluster was down): estimate their number from the interval, as kube does,
  // and walk only the last stretch.
  const int64_t interval = *t2 - *t1;
  if (interval < 1) return std::nullopt;
  *missed = (now - *t1) / interval + 1;
  int64_t from = *t1 + (*missed - 2) * interval;
  std::optional<int64_t> latest;
  for (auto t = schedule.next(std::max(earliest, from), zone); t && *t <= now; t = schedule.next(*t, zone)) latest = t;
  return latest;
}

Result<std::shared_ptr<const cron::TimeZone>> CronJobController::zone(const std::string& name) {
  std::lock_guard<std::mutex> lock(zonesMu_);
  auto it = zones_.find(name);
  if (it != zones_.end()) return it->second;
  auto z = cron::TimeZone::load(name, ctx_.options.zoneinfoDir);
  if (!z.ok()) return z.error();
  auto ptr = std::make_shared<const cron::TimeZone>(std::move(*z));
  zones_[name] = ptr;
  return ptr;
}

void CronJobController::wire(runtime::Controller& controller) {
  controller.For(*ctx_.informers.cronJobs);
  controller.Owns(*ctx_.informers.jobs, "CronJob", "batch");
}

kube::KStatus CronJobController::deleteJob(const Json& cronJob, const Json& job) {
  // The Job's pods go too (garbage collection would remove them; it need not be running).
  for (const auto& pod : controlledBy(*ctx_.informers.pods, jsonString(job, {"metadata", "uid"}))) {
    if (runtime::hasFinalizer(*pod, kJobTrackingFinalizer)) {
      auto r = runtime::removeFinalizer(ctx_.client, res::kPods, *pod, kJobTrackingFinalizer, "kube-controller-manager");
      if (!r.ok() && !r.error().is(kube::ApiErrorReason::kNotFound)) return r.error();
    }
    auto d = deleteExact(ctx_.client, res::kPods, *pod);
    if (!d.ok()) return d.error();
  }
  auto d = deleteExact(ctx_.client, res::kJobs, job, "Background");
  if (!d.ok()) {
    events_.event(cronJob, "Warning", "FailedDelete", "Deleted job: " + d.error().message);
    return d.error();
  }
  rw_.wrote(*ctx_.informers.jobs, *d);
  events_.event(cronJob, "Normal", "SuccessfulDelete", "Deleted job " + jsonString(job, {"metadata", "name"}));
  return {};
}

kube::KStatus CronJobController::cleanupHistory(const Json& cronJob, const std::vector<ObjectPtr>& jobs) {
  for (const char* kind : {"Complete", "Failed"}) {
    const bool successful = std::string(kind) == "Complete";
    const Json* limit = jsonAt(cronJob, {"spec", successful ? "successfulJobsHistoryLimit" : "failedJobsHistoryLimit"});
    if (!limit || !limit->is_number()) continue;
    std::vector<ObjectPtr> finished;
    for (const auto& j : jobs) {
      if (jobFinishedCondition(*j) == kind && !isPodTerminating(*j)) finished.push_back(j);
    }
    const size_t keep = static_cast<size_t>(std::max<int64_t>(0, limit->get<int64_t>()));
    if (finished.size() <= keep) continue;
    std::sort(finished.begin(), finished.end(), [](const ObjectPtr& a, const ObjectPtr& b) { return startedAt(*a) < startedAt(*b); });
    for (size_t i = 0; i < finished.size() - keep; ++i) {
      if (auto s = deleteJob(cronJob, *finished[i]); !s.ok()) return s;
    }
  }
  return {};
}

ReconcileResult CronJobController::reconcile(const runtime::Request& request, const runtime::ReconcileContext&) {
  if (!rw_.await()) return ReconcileResult::retry("the cache is behind our writes");
  ObjectPtr cached = ctx_.informers.cronJobs->get(request.ns, request.name);
  if (!cached || isPodTerminating(*cached)) return ReconcileResult::ok();
  const Json& cj = *cached;
  const Json& spec = cj["spec"];
  const auto jobs = controlledBy(*ctx_.informers.jobs, jsonString(cj, {"metadata", "uid"}));
  const TimePoint now = ctx_.clock.now();
  Json status = cj.value("status", Json::object());

  // Active list and last success, from the owned Jobs.
  Json active = Json::array();
  std::set<std::string> owned;
  for (const auto& j : jobs) owned.insert(jsonString(*j, {"metadata", "uid"}));
  std::set<std::string> listed;
  for (const auto& ref : status.value("active", Json::array())) {
    const std::string uid = ref.value("uid", "");
    listed.insert(uid);
    if (owned.count(uid)) continue;
    events_.event(cj, "Normal", "MissingJob", "Active job went missing: " + ref.value("name", ""));
  }
  std::string lastSuccess = jsonString(status, {"lastSuccessfulTime"});
  for (const auto& j : jobs) {
    const std::string name = jsonString(*j, {"metadata", "name"});
    const std::string finished = jobFinishedCondition(*j);
    const bool inList = listed.count(jsonString(*j, {"metadata", "uid"})) > 0;
    if (finished.empty()) {
      if (inList) active.push_back(jobReference(*j));
      else events_.event(cj, "Warning", "UnexpectedJob", "Saw a job that the controller did not create or forgot: " + name);
      continue;
    }
    if (inList) events_.event(cj, "Normal", "SawCompletedJob", "Saw completed job: " + name + ", condition: " + finished);
    const std::string completed = jsonString(*j, {"status", "completionTime"});
    if (finished == "Complete" && !completed.empty() && parseTime(completed) > parseTime(lastSuccess)) lastSuccess = completed;
  }
  std::sort(active.begin(), active.end(), [](const Json& a, const Json& b) { return a.value("name", "") < b.value("name", ""); });
  if (active.empty()) status.erase("active");
  else status["active"] = active;
  if (!lastSuccess.empty()) status["lastSuccessfulTime"] = lastSuccess;
  if (auto s = cleanupHistory(cj, jobs); !s.ok()) return failed(s.error());

  std::optional<TimePoint> requeueAt;
  auto finish = [&]() -> ReconcileResult {
    auto w = writeStatus(ctx_.client, res::kCronJobs, cj, status);
    if (!w.ok()) {
      return failed(w.error());
    }
    rw_.wrote(*ctx_.informers.cronJobs, *w);
    if (!requeueAt) return ReconcileResult::ok();
    return workloads::requeueAt(ctx_.clock, *requeueAt);
  };

  if (spec.value("suspend", false)) return finish();
  const std::string zoneName = jsonString(spec, {"timeZone"});
  auto tz = zone(zoneName);
  if (!tz.ok()) {
    events_.event(cj, "Warning", "UnknownTimeZone", "invalid timeZone: \"" + zoneName + "\": " + tz.error().message);
    return finish();
  }
  auto schedule = cron::Schedule::parse(jsonString(spec, {"schedule"}));
  if (!schedule.ok()) {
    events_.event(cj, "Warning", "UnparseableSchedule",
                  "unparseable schedule: \"" + jsonString(spec, {"schedule"}) + "\" : " + schedule.error().message);
    return finish();
  }
  if (!ctx_.options.cronSchedules) return finish();

  const int64_t nowUnix = unixOf(now);
  if (auto next = schedule->next(nowUnix, **tz)) requeueAt = fromUnix(*next);
  int64_t earliest = unixOf(parseTime(jsonString(status, {"lastScheduleTime"}), parseTime(jsonString(cj, {"metadata", "creationTimestamp"}))));
  const Json* deadline = jsonAt(spec, {"startingDeadlineSeconds"});
  if (deadline && deadline->is_number()) earliest = std::max(earliest, nowUnix - deadline->get<int64_t>());
  int64_t missed = 0;
  auto scheduled = mostRecentScheduleTime(*schedule, **tz, earliest, nowUnix, &missed);
  if (missed > 100) {
    events_.event(cj, "Warning", "TooManyMissedTimes",
                  "too many missed start times: " + std::to_string(missed) +
                      ". Set or decrease .spec.startingDeadlineSeconds or check clock skew");
  }
  if (!scheduled) return finish();
  if (deadline && deadline->is_number() && *scheduled + deadline->get<int64_t>() < nowUnix) {
    events_.event(cj, "Warning", "MissSchedule", "Missed scheduled time to start a job: " + formatRfc3339(fromUnix(*scheduled)));
    return finish();
  }
  const std::string jobName = request.name + "-" + std::to_string(*scheduled / 60);
  const std::string scheduledText = formatRfc3339(fromUnix(*scheduled));
  if (jsonString(status, {"lastScheduleTime"}) == scheduledText) return finish();
  for (const auto& j : jobs) {
    if (jsonString(*j, {"metadata", "name"}) != jobName) continue;
    // It ran; only the status write was lost (a conflict, a restart).
    status["lastScheduleTime"] = scheduledText;
    const bool listedAlready = std::any_of(active.begin(), active.end(), [&](const Json& r) { return r.value("name", "") == jobName; });
    if (!isJobFinished(*j) && !listedAlready) {
      active.push_back(jobReference(*j));
      status["active"] = active;
    }
    return finish();
  }
  const std::string policy = jsonString(spec, {"concurrencyPolicy"}, "Allow");
  if (policy == "Forbid" && !active.empty()) return finish();
  if (policy == "Replace") {
    for (const auto& ref : active) {
      ObjectPtr j = ctx_.informers.jobs->get(request.ns, ref.value("name", ""));
      if (!j) continue;
      if (auto s = deleteJob(cj, *j); !s.ok()) return failed(s.error());
    }
    active = Json::array();
    status.erase("active");
  }

  const Json& tmpl = spec.contains("jobTemplate") ? spec["jobTemplate"] : Json::object();
  Json job = {{"apiVersion", "batch/v1"},
              {"kind", "Job"},
              {"metadata", {{"name", jobName}, {"namespace", request.ns}}},
              {"spec", tmpl.value("spec", Json::object())}};
  if (const Json* labels = jsonAt(tmpl, {"metadata", "labels"}); labels && labels->is_object()) job["metadata"]["labels"] = *labels;
  Json annotations = jsonAt(tmpl, {"metadata", "annotations"}) && tmpl["metadata"]["annotations"].is_object()
                         ? tmpl["metadata"]["annotations"] : Json::object();
  annotations[kScheduledTimestampAnnotation] = formatInZone(*scheduled, **tz);
  job["metadata"]["annotations"] = annotations;
  runtime::setControllerReference(cj, job);
  auto created = ctx_.client.create(res::kJobs, request.ns, job);
  if (!created.ok()) {
    if (!created.error().is(kube::ApiErrorReason::kAlreadyExists)) {
      events_.event(cj, "Warning", "FailedCreate", "Error creating job: " + created.error().message);
      return failed(created.error());
    }
    // Made by an earlier pass whose status write was lost: adopt it if it is ours.
    auto existing = ctx_.client.get(res::kJobs, request.ns, jobName);
    if (!existing.ok()) return failed(existing.error());
    auto ref = runtime::controllerOf(*existing);
    if (!ref || ref->value("uid", "") != jsonString(cj, {"metadata", "uid"})) return finish();
    created = std::move(existing);
  } else {
    rw_.wrote(*ctx_.informers.jobs, *created);
    events_.event(cj, "Normal", "SuccessfulCreate", "Created job " + jobName);
  }
  active.push_back(jobReference(*created));
  status["active"] = active;
  status["lastScheduleTime"] = scheduledText;
  return finish();
}

}  // namespace sdb::workloads
