// Job: pods (creation, deletion, the tracking finalizer) and the counting protocol.
#include <algorithm>
#include <set>

#include "e2e/workloads/job.h"
#include "e2e/workloads/pod_util.h"
#include "operator/runtime/object_helpers.h"

namespace sdb::workloads {

namespace res = kube::resources;

namespace {

constexpr const char* kFieldManager = "kube-controller-manager";

std::set<std::string> uidSet(const Json& status, const char* key) {
  std::set<std::string> out;
  const Json* list = jsonAt(status, {"uncountedTerminatedPods"});
  if (list && list->contains(key) && (*list)[key].is_array()) {
    for (const auto& u : (*list)[key]) {
      if (u.is_string()) out.insert(u.get<std::string>());
    }
  }
  return out;
}

Json uncountedJson(const std::set<std::string>& succeeded, const std::set<std::string>& failed) {
  Json u = Json::object();
  if (!succeeded.empty()) u["succeeded"] = Json(std::vector<std::string>(succeeded.begin(), succeeded.end()));
  if (!failed.empty()) u["failed"] = Json(std::vector<std::string>(failed.begin(), failed.end()));
  return u;
}

// When a finished pod finished: its containers' terminated time, else the last condition change.
TimePoint finishTime(const Json& pod) {
  TimePoint latest{};
  const Json* st = jsonAt(pod, {"status"});
  if (st && st->contains("containerStatuses") && (*st)["containerStatuses"].is_array()) {
    for (const auto& cs : (*st)["containerStatuses"]) {
      latest = std::max(latest, parseTime(jsonString(cs, {"state", "terminated", "finishedAt"})));
    }
  }
  if (latest != TimePoint{}) return latest;
  if (st && st->contains("conditions") && (*st)["conditions"].is_array()) {
    for (const auto& c : (*st)["conditions"]) latest = std::max(latest, parseTime(c.value("lastTransitionTime", "")));
  }
  if (latest != TimePoint{}) return latest;
  return parseTime(jsonString(pod, {"metadata", "deletionTimestamp"}), parseTime(jsonString(pod, {"metadata", "creationTimestamp"})));
}

}  // namespace

bool JobController::podCountsAsFailed(const Json& job, const Json& pod) {
  if (podPhase(pod) == "Failed") return true;
  if (jsonString(job, {"spec", "podReplacementPolicy"}) == "Failed") return false;
  return isPodTerminating(pod) && podPhase(pod) != "Succeeded";
}

kube::KStatus JobController::releasePod(const Json& pod) {
  auto r = runtime::removeFinalizer(ctx_.client, res::kPods, pod, kJobTrackingFinalizer, kFieldManager);
  if (!r.ok()) {
    if (r.error().is(kube::ApiErrorReason::kNotFound)) return {};
    return r.error();
  }
  rw_.wrote(*ctx_.informers.pods, *r);
  return {};
}

kube::KStatus JobController::releaseOrphans(const std::string& ns, const std::string& name, const std::string& exceptUid) {
  std::vector<ObjectPtr> candidates = ctx_.informers.pods->byLabel("batch.kubernetes.io/job-name", name);
  for (auto& p : ctx_.informers.pods->byLabel("job-name", name)) candidates.push_back(std::move(p));
  std::set<std::string> seen;
  for (const auto& pod : candidates) {
    if (!seen.insert(jsonString(*pod, {"metadata", "uid"})).second) continue;
    if (jsonString(*pod, {"metadata", "namespace"}) != ns || !runtime::hasFinalizer(*pod, kJobTrackingFinalizer)) continue;
    auto ref = runtime::controllerOf(*pod);
    if (!ref || ref->value("kind", "") != "Job" || ref->value("name", "") != name) continue;
    if (!exceptUid.empty() && ref->value("uid", "") == exceptUid) continue;
    if (auto s = releasePod(*pod); !s.ok()) return s;
  }
  return {};
}

kube::KResult<JobController::Counted> JobController::countFinishedPods(const Json& jobIn,
                                                                       const std::vector<ObjectPtr>& pods) {
  Counted out;
  out.job = jobIn;
  Json status = jobIn.value("status", Json::object());
  std::set<std::string> succeeded = uidSet(status, "succeeded"), failed = uidSet(status, "failed");
  bool changed = false;
  for (const auto& p : pods) {
    if (!runtime::hasFinalizer(*p, kJobTrackingFinalizer)) continue;
    const std::string uid = jsonString(*p, {"metadata", "uid"});
    if (podPhase(*p) == "Succeeded") {
      changed |= succeeded.insert(uid).second;
    } else if (podCountsAsFailed(jobIn, *p)) {
      changed |= failed.insert(uid).second;
    }
  }
  if (changed) {  // record before releasing, so a crash in between never loses a count
    status["uncountedTerminatedPods"] = uncountedJson(succeeded, failed);
    auto w = writeStatus(ctx_.client, res::kJobs, jobIn, status);
    if (!w.ok()) return w.error();
    rw_.wrote(*ctx_.informers.jobs, *w);
    out.job = *w;
  }
  for (const auto& p : pods) {
    const std::string uid = jsonString(*p, {"metadata", "uid"});
    if ((succeeded.count(uid) || failed.count(uid)) && runtime::hasFinalizer(*p, kJobTrackingFinalizer)) {
      if (auto s = releasePod(*p); !s.ok()) return s.error();
    }
  }
  out.succeeded = intAt(status, {"succeeded"}, 0) + static_cast<int64_t>(succeeded.size());
  out.failed = intAt(status, {"failed"}, 0) + static_cast<int64_t>(failed.size());
  return out;
}

kube::KStatus JobController::createPods(const Json& job, int64_t count) {
  const std::string ns = jsonString(job, {"metadata", "namespace"});
  const std::string name = jsonString(job, {"metadata", "name"});
  for (int64_t i = 0; i < count; ++i) {
    Json pod = podFromTemplate(job["spec"].value("template", Json::object()), job);
    pod["metadata"]["generateName"] = name + "-";
    Json& fin = pod["metadata"]["finalizers"];
    if (!fin.is_array()) fin = Json::array();
    fin.push_back(kJobTrackingFinalizer);
    auto c = ctx_.client.create(res::kPods, ns, pod);
    if (!c.ok()) {
      events_.event(job, "Warning", "FailedCreate", "Error creating: " + c.error().message);
      return c.error();
    }
    rw_.wrote(*ctx_.informers.pods, *c);
    events_.event(job, "Normal", "SuccessfulCreate", "Created pod: " + jsonString(*c, {"metadata", "name"}));
  }
  return {};
}

kube::KStatus JobController::deletePods(const Json& job, std::vector<ObjectPtr> pods, size_t count) {
  // kube's ActivePods order: unscheduled, pending, not ready, then the newest go first.
  auto rank = [](const Json& p) {
    return std::make_tuple(jsonString(p, {"spec", "nodeName"}).empty() ? 0 : 1, podPhase(p) == "Pending" ? 0 : 1,
                           isPodReady(p) ? 1 : 0);
  };
  std::stable_sort(pods.begin(), pods.end(), [&](const ObjectPtr& a, const ObjectPtr& b) {
    if (rank(*a) != rank(*b)) return rank(*a) < rank(*b);
    return jsonString(*a, {"metadata", "creationTimestamp"}) > jsonString(*b, {"metadata", "creationTimestamp"});
  });
  for (size_t i = 0; i < std::min(count, pods.size()); ++i) {
    auto d = deleteExact(ctx_.client, res::kPods, *pods[i]);
    if (!d.ok()) {
      events_.event(job, "Warning", "FailedDelete", "Error deleting: " + d.error().message);
      return d.error();
    }
    rw_.wrote(*ctx_.informers.pods, *d);
    events_.event(job, "Normal", "SuccessfulDelete", "Deleted pod: " + jsonString(*pods[i], {"metadata", "name"}));
  }
  return {};
}

std::optional<TimePoint> JobController::backoffUntil(const Json& job, const std::vector<ObjectPtr>& pods) const {
  TimePoint lastSuccess{}, lastFailure{};
  for (const auto& p : pods) {
    if (podPhase(*p) == "Succeeded") lastSuccess = std::max(lastSuccess, finishTime(*p));
  }
  int failures = 0;
  for (const auto& p : pods) {
    if (!podCountsAsFailed(job, *p)) continue;
    const TimePoint t = finishTime(*p);
    if (t <= lastSuccess) continue;
    ++failures;
    lastFailure = std::max(lastFailure, t);
  }
  if (failures == 0) return std::nullopt;
  auto delay = ctx_.options.jobBackoffBase;
  for (int i = 1; i < failures && delay < ctx_.options.jobBackoffMax; ++i) delay *= 2;
  delay = std::min(delay, ctx_.options.jobBackoffMax);
  return lastFailure + delay;
}

}  // namespace sdb::workloads
