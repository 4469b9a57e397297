#include "e2e/workloads/job.h"

#include "e2e/workloads/pod_util.h"
#include "operator/runtime/object_helpers.h"

namespace sdb::workloads {

namespace res = kube::resources;
using runtime::ReconcileResult;

namespace {

const Json* findCondition(const Json& status, const std::string& type) {
  if (!status.contains("conditions") || !status["conditions"].is_array()) return nullptr;
  for (const auto& c : status["conditions"]) {
    if (c.value("type", "") == type) return &c;
  }
  return nullptr;
}

bool conditionTrue(const Json& status, const std::string& type) {
  const Json* c = findCondition(status, type);
  return c && c->value("status", "") == "True";
}

// Job conditions (with lastProbeTime); timestamps move only when something changes.
void setCondition(Json& status, const std::string& type, const std::string& value, const std::string& reason,
                  const std::string& message, const std::string& now) {
  if (!status.contains("conditions") || !status["conditions"].is_array()) status["conditions"] = Json::array();
  for (auto& c : status["conditions"]) {
    if (c.value("type", "") != type) continue;
    if (c.value("status", "") == value && c.value("reason", "") == reason && c.value("message", "") == message) return;
    const bool flipped = c.value("status", "") != value;
    c["status"] = value;
    c["reason"] = reason;
    c["message"] = message;
    c["lastProbeTime"] = now;
    if (flipped) c["lastTransitionTime"] = now;
    return;
  }
  status["conditions"].push_back({{"type", type}, {"status", value}, {"reason", reason}, {"message", message},
                                  {"lastProbeTime", now}, {"lastTransitionTime", now}});
}

}  // namespace

std::string jobFinishedCondition(const Json& job) {
  const Json status = job.value("status", Json::object());
  if (conditionTrue(status, "Complete")) return "Complete";
  if (conditionTrue(status, "Failed")) return "Failed";
  return "";
}

bool isJobFinished(const Json& job) { return !jobFinishedCondition(job).empty(); }

void JobController::wire(runtime::Controller& controller) {
  controller.For(*ctx_.informers.jobs);
  controller.Owns(*ctx_.informers.pods, "Job", "batch");
}

ReconcileResult JobController::finishedJob(const Json& job, const std::vector<ObjectPtr>& pods) {
  for (const auto& p : pods) {
    if (!runtime::hasFinalizer(*p, kJobTrackingFinalizer)) continue;
    if (auto s = releasePod(*p); !s.ok()) return failed(s.error());
  }
  const Json* ttlField = jsonAt(job, {"spec"});
  if (!ttlField || !ttlField->contains("ttlSecondsAfterFinished") || !(*ttlField)["ttlSecondsAfterFinished"].is_number()) {
    return ReconcileResult::ok();
  }
  const Json status = job.value("status", Json::object());
  const std::string cond = jobFinishedCondition(job);
  TimePoint finished = parseTime(jsonString(status, {"completionTime"}));
  if (const Json* c = findCondition(status, cond); c && finished == TimePoint{}) finished = parseTime(c->value("lastTransitionTime", ""));
  const TimePoint expires = finished + std::chrono::seconds((*ttlField)["ttlSecondsAfterFinished"].get<int64_t>());
  const TimePoint now = ctx_.clock.now();
  if (now < expires) return workloads::requeueAt(ctx_.clock, expires);
  // Expired: the pods first (garbage collection would, but need not exist), then the Job.
  if (auto s = deletePods(job, pods, pods.size()); !s.ok()) return failed(s.error());
  auto d = deleteExact(ctx_.client, res::kJobs, job, "Background");
  if (!d.ok()) return failed(d.error());
  rw_.wrote(*ctx_.informers.jobs, *d);
  return ReconcileResult::ok();
}

ReconcileResult JobController::reconcile(const runtime::Request& request, const runtime::ReconcileContext&) {
  if (!rw_.await()) return ReconcileResult::retry("the cache is behind our writes");
  ObjectPtr cached = ctx_.informers.jobs->get(request.ns, request.name);
  if (!cached || isPodTerminating(*cached)) {
    auto s = releaseOrphans(request.ns, request.name, "");
    return s.ok() ? ReconcileResult::ok() : failed(s.error());
  }
  const std::string uid = jsonString(*cached, {"metadata", "uid"});
  if (auto s = releaseOrphans(request.ns, request.name, uid); !s.ok()) return failed(s.error());
  const auto pods = controlledBy(*ctx_.informers.pods, uid);
  if (isJobFinished(*cached)) return finishedJob(*cached, pods);

  auto counted = countFinishedPods(*cached, pods);
  if (!counted.ok()) {
    return failed(counted.error());
  }
  const Json& job = counted->job;
  const Json& spec = job["spec"];
  const TimePoint now = ctx_.clock.now();
  const std::string nowText = formatRfc3339(now);
  Json status = job.value("status", Json::object());
  status["succeeded"] = counted->succeeded;
  status["failed"] = counted->failed;
  status["uncountedTerminatedPods"] = Json::object();
  std::vector<ObjectPtr> active, terminating;
  for (const auto& p : pods) {
    if (isPodActive(*p)) active.push_back(p);
    else if (isPodTerminating(*p) && !isPodFinished(*p)) terminating.push_back(p);
  }
  status["terminating"] = static_cast<int64_t>(terminating.size());
  const bool suspended = spec.value("suspend", false);
  if (!suspended && !status.contains("startTime")) status["startTime"] = nowText;
  std::optional<TimePoint> requeueAt;
  auto finish = [&](int64_t activeCount) -> ReconcileResult {
    int64_t ready = 0;
    for (const auto& p : active) ready += isPodReady(*p) ? 1 : 0;
    status["active"] = activeCount;
    status["ready"] = std::min(ready, activeCount);
    auto w = writeStatus(ctx_.client, res::kJobs, job, status);
    if (!w.ok()) {
      return failed(w.error());
    }
    rw_.wrote(*ctx_.informers.jobs, *w);
    return requeueAt ? workloads::requeueAt(ctx_.clock, *requeueAt) : ReconcileResult::ok();
  };

  // Failure: backoff limit (failed pods, or container restarts with OnFailure) or deadline.
  const int64_t backoffLimit = intAt(spec, {"backoffLimit"}, 6);
  std::string failReason, failMessage;
  if (const Json* target = findCondition(status, "FailureTarget"); target && target->value("status", "") == "True") {
    failReason = target->value("reason", "");
    failMessage = target->value("message", "");
  } else if (counted->failed > backoffLimit) {
    failReason = "BackoffLimitExceeded";
  } else if (jsonString(spec, {"template", "spec", "restartPolicy"}) == "OnFailure") {
    int64_t restarts = 0;
    for (const auto& p : active) restarts += podRestarts(*p);
    if (backoffLimit == 0 ? restarts > 0 : restarts >= backoffLimit) failReason = "BackoffLimitExceeded";
  }
  const Json* deadline = jsonAt(spec, {"activeDeadlineSeconds"});
  if (failReason.empty() && deadline && deadline->is_number() && !suspended && status.contains("startTime")) {
    const TimePoint expires = parseTime(status["startTime"]) + std::chrono::seconds(deadline->get<int64_t>());
    if (now >= expires) failReason = "DeadlineExceeded";
    else requeueAt = expires;
  }
  if (!failReason.empty()) {
    if (failMessage.empty()) {
      failMessage = failReason == "DeadlineExceeded" ? "Job was active longer than specified deadline"
                                                     : "Job has reached the specified backoff limit";
    }
    requeueAt.reset();
    setCondition(status, "FailureTarget", "True", failReason, failMessage, nowText);
    if (auto s = deletePods(job, active, active.size()); !s.ok()) return failed(s.error());
    if (active.empty() && terminating.empty()) {
      setCondition(status, "Failed", "True", failReason, failMessage, nowText);
      events_.event(job, "Warning", failReason, failMessage);
    }
    active.clear();
    return finish(0);
  }

  // Success: enough completions (or, for a work queue, one success and nothing running).
  const bool hasCompletions = spec.contains("completions") && spec["completions"].is_number();
  const int64_t completions = hasCompletions ? spec["completions"].get<int64_t>() : 0;
  const bool successMet = conditionTrue(status, "SuccessCriteriaMet") ||
                          (hasCompletions ? counted->succeeded >= completions : counted->succeeded > 0 && active.empty());
  if (successMet) {
    const std::string msg = "Reached expected number of succeeded pods";
    setCondition(status, "SuccessCriteriaMet", "True", "CompletionsReached", msg, nowText);
    if (auto s = deletePods(job, active, active.size()); !s.ok()) return failed(s.error());
    if (active.empty() && terminating.empty()) {
      setCondition(status, "Complete", "True", "CompletionsReached", msg, nowText);
      if (!status.contains("completionTime")) status["completionTime"] = nowText;
      events_.event(job, "Normal", "Completed", "Job completed");
    }
    active.clear();
    return finish(0);
  }

  // Suspension.
  if (suspended) {
    if (!conditionTrue(status, "Suspended")) events_.event(job, "Normal", "Suspended", "Job suspended");
    setCondition(status, "Suspended", "True", "JobSuspended", "Job suspended", nowText);
    if (auto s = deletePods(job, active, active.size()); !s.ok()) return failed(s.error());
    active.clear();
    requeueAt.reset();
    return finish(0);
  }
  if (conditionTrue(status, "Suspended")) {
    setCondition(status, "Suspended", "False", "JobResumed", "Job resumed", nowText);
    status["startTime"] = nowText;
    events_.event(job, "Normal", "Resumed", "Job resumed");
  }

  // Pods: as many as parallelism allows and completions still need.
  const int64_t parallelism = intAt(spec, {"parallelism"}, 1);
  int64_t activeCount = static_cast<int64_t>(active.size());
  const int64_t want = hasCompletions ? std::min(parallelism, std::max<int64_t>(0, completions - counted->succeeded))
                                     : (counted->succeeded > 0 ? activeCount : parallelism);
  const int64_t occupied = activeCount + (spec.value("podReplacementPolicy", "") == "Failed"
                                              ? static_cast<int64_t>(terminating.size()) : 0);
  if (want > occupied) {
    auto backoff = backoffUntil(job, pods);
    if (backoff && now < *backoff) {
      requeueAt = requeueAt ? std::min(*requeueAt, *backoff) : *backoff;
    } else {
      if (auto s = createPods(job, want - occupied); !s.ok()) return failed(s.error());
      activeCount += want - occupied;
    }
  } else if (want < activeCount) {
    if (auto s = deletePods(job, active, activeCount - want); !s.ok()) return failed(s.error());
    activeCount = want;
  }
  return finish(activeCount);
}

}  // namespace sdb::workloads
