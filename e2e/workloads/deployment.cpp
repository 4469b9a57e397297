#include "e2e/workloads/deployment.h"

#include <algorithm>
#include <cmath>

#include "e2e/workloads/pod_util.h"
#include "operator/runtime/object_helpers.h"

namespace sdb::workloads {

namespace res = kube::resources;
using runtime::ReconcileResult;

namespace {

constexpr const char* kHashLabel = "pod-template-hash";
constexpr const char* kRevision = "deployment.kubernetes.io/revision";

int64_t revisionOf(const Json& obj) {
  const std::string r = jsonString(obj, {"metadata", "annotations", kRevision});
  try {
    return r.empty() ? 0 : std::stoll(r);
  } catch (...) {
    return 0;
  }
}

Json withoutHashLabel(Json tmpl) {
  if (Json* labels = tmpl.contains("metadata") && tmpl["metadata"].contains("labels") ? &tmpl["metadata"]["labels"] : nullptr) {
    labels->erase(kHashLabel);
  }
  return tmpl;
}

int64_t specReplicas(const Json& rs) { return intAt(rs, {"spec", "replicas"}, 1); }
int64_t statusOf(const Json& rs, const char* field) { return intAt(rs, {"status", field}, 0); }

// Deployment conditions carry lastUpdateTime as well; kube's SetDeploymentCondition.
void setCondition(Json& status, const std::string& type, const std::string& value, const std::string& reason,
                  const std::string& message, const std::string& now, bool refreshUpdateTime) {
  if (!status.contains("conditions") || !status["conditions"].is_array()) status["conditions"] = Json::array();
  Json cond = {{"type", type}, {"status", value}, {"reason", reason}, {"message", message},
               {"lastUpdateTime", now}, {"lastTransitionTime", now}};
  for (auto& c : status["conditions"]) {
    if (c.value("type", "") != type) continue;
    if (c.value("status", "") == value && c.value("reason", "") == reason && !refreshUpdateTime) return;
    if (c.value("status", "") == value) cond["lastTransitionTime"] = c.value("lastTransitionTime", now);
    c = cond;
    return;
  }
  status["conditions"].push_back(cond);
}

const Json* condition(const Json& status, const std::string& type) {
  if (!status.contains("conditions") || !status["conditions"].is_array()) return nullptr;
  for (const auto& c : status["conditions"]) {
    if (c.value("type", "") == type) return &c;
  }
  return nullptr;
}

}  // namespace

int64_t resolveIntOrPercent(const Json& value, int64_t total, bool roundUp, int64_t fallback) {
  if (value.is_number_integer()) return value.get<int64_t>();
  if (!value.is_string()) return fallback;
  std::string s = value.get<std::string>();
  if (s.empty()) return fallback;
  try {
    if (s.back() != '%') return std::stoll(s);
    const double pct = std::stod(s.substr(0, s.size() - 1));
    const double v = pct * static_cast<double>(total) / 100.0;
    return static_cast<int64_t>(roundUp ? std::ceil(v) : std::floor(v));
  } catch (...) {
    return fallback;
  }
}

void DeploymentController::wire(runtime::Controller& controller) {
  controller.For(*ctx_.informers.deployments);
  controller.Owns(*ctx_.informers.replicaSets, "Deployment", "apps");
  // As kube-controller-manager's deletePod: a Recreate rollout waits until the old pods are gone,
  // and a ReplicaSet's status stops counting a pod as soon as it terminates, so the pod's final
  // deletion is the only event left to tell the Deployment. Map it through the pod's ReplicaSet.
  runtime::Informer& replicaSets = *ctx_.informers.replicaSets;
  runtime::Informer& deployments = *ctx_.informers.deployments;
  auto deploymentOfPod = [&controller, &replicaSets, &deployments](const runtime::ObjectPtr& pod) {
    auto rsRef = runtime::controllerOf(*pod);
    if (!rsRef || rsRef->value("kind", "") != "ReplicaSet") return;
    const std::string ns = jsonString(*pod, {"metadata", "namespace"});
    auto rs = replicaSets.get(ns, rsRef->value("name", ""));
    if (!rs) return;
    auto dRef = runtime::controllerOf(*rs);
    if (!dRef || dRef->value("kind", "") != "Deployment") return;
    auto d = deployments.get(ns, dRef->value("name", ""));
    if (!d || jsonString(*d, {"spec", "strategy", "type"}) != "Recreate") return;
    controller.enqueue({ns, dRef->value("name", "")});
  };
  ctx_.informers.pods->addHandlers({nullptr, nullptr, deploymentOfPod});
}

kube::KResult<Json> DeploymentController::scale(const Json& d, const Json& rs, int64_t replicas) {
  const int64_t from = specReplicas(rs);
  Json updated = rs;
  updated["spec"]["replicas"] = replicas;
  const int64_t want = intAt(d, {"spec", "replicas"}, 1);
  Json& ann = updated["metadata"]["annotations"];
  if (!ann.is_object()) ann = Json::object();
  ann["deployment.kubernetes.io/desired-replicas"] = std::to_string(want);
  ann["deployment.kubernetes.io/max-replicas"] = std::to_string(
      want + resolveIntOrPercent(jsonAt(d, {"spec", "strategy", "rollingUpdate", "maxSurge"}) ? d["spec"]["strategy"]["rollingUpdate"]["maxSurge"] : Json(), want, true, 0));
  if (updated == rs) return rs;
  auto u = ctx_.client.update(res::kReplicaSets, jsonString(rs, {"metadata", "namespace"}), updated);
  if (!u.ok()) return u.error();
  rw_.wrote(*ctx_.informers.replicaSets, *u);
  if (from != replicas) {
    events_.event(d, "Normal", "ScalingReplicaSet",
                  std::string(replicas > from ? "Scaled up" : "Scaled down") + " replica set " +
                      jsonString(rs, {"metadata", "name"}) + " from " + std::to_string(from) + " to " + std::to_string(replicas));
  }
  return *u;
}

kube::KResult<Json> DeploymentController::createReplicaSet(const Json& d, const std::string& hash, int64_t revision,
                                                           int64_t replicas) {
  const std::string ns = jsonString(d, {"metadata", "namespace"});
  Json tmpl = d["spec"]["template"];
  tmpl["metadata"]["labels"][kHashLabel] = hash;
  Json selector = d["spec"].value("selector", Json::object());
  selector["matchLabels"][kHashLabel] = hash;
  Json rs = {{"apiVersion", "apps/v1"},
             {"kind", "ReplicaSet"},
             {"metadata", {{"name", jsonString(d, {"metadata", "name"}) + "-" + hash}, {"namespace", ns},
                           {"labels", tmpl["metadata"]["labels"]},
                           {"annotations", {{kRevision, std::to_string(revision)}}}}},
             {"spec", {{"replicas", 0}, {"selector", selector}, {"template", tmpl},
                       {"minReadySeconds", intAt(d, {"spec", "minReadySeconds"}, 0)}}}};
  runtime::setControllerReference(d, rs);
  auto c = ctx_.client.create(res::kReplicaSets, ns, rs);
  if (!c.ok()) return c.error();
  rw_.wrote(*ctx_.informers.replicaSets, *c);
  return scale(d, *c, replicas);
}

ReconcileResult DeploymentController::reconcile(const runtime::Request& request, const runtime::ReconcileContext&) {
  if (!rw_.await()) return ReconcileResult::retry("the cache is behind our writes");
  ObjectPtr cached = ctx_.informers.deployments->get(request.ns, request.name);
  if (!cached || isPodTerminating(*cached)) return ReconcileResult::ok();
  Json d = *cached;
  const Json& spec = d["spec"];
  const TimePoint now = ctx_.clock.now();
  const std::string nowText = formatRfc3339(now);
  Json status = d.value("status", Json::object());
  const Json oldStatus = status;
  const int64_t replicas = intAt(spec, {"replicas"}, 1);
  const bool rolling = jsonString(spec, {"strategy", "type"}, "RollingUpdate") == "RollingUpdate";
  const Json* ru = jsonAt(spec, {"strategy", "rollingUpdate"});
  int64_t maxSurge = rolling ? resolveIntOrPercent(ru && ru->contains("maxSurge") ? (*ru)["maxSurge"] : Json("25%"), replicas, true, 1) : 0;
  int64_t maxUnavailable =
      rolling ? resolveIntOrPercent(ru && ru->contains("maxUnavailable") ? (*ru)["maxUnavailable"] : Json("25%"), replicas, false, 0) : 0;
  if (rolling && maxSurge == 0 && maxUnavailable == 0) maxUnavailable = 1;
  maxUnavailable = std::min(maxUnavailable, replicas);

  const std::string hash = templateHash(spec.value("template", Json::object()), intAt(status, {"collisionCount"}, 0));
  Json newRS;
  std::vector<Json> olds;
  int64_t maxOldRevision = 0;
  for (const auto& rs : controlledBy(*ctx_.informers.replicaSets, jsonString(d, {"metadata", "uid"}))) {
    if (newRS.is_null() && withoutHashLabel((*rs)["spec"].value("template", Json::object())) == spec.value("template", Json::object())) {
      newRS = *rs;
    } else {
      olds.push_back(*rs);
      maxOldRevision = std::max(maxOldRevision, revisionOf(*rs));
    }
  }
  std::sort(olds.begin(), olds.end(), [](const Json& a, const Json& b) {
    return jsonString(a, {"metadata", "creationTimestamp"}) < jsonString(b, {"metadata", "creationTimestamp"});
  });
  auto retry = [](const kube::ApiError& e) { return failed(e); };
  bool created = false;
  const bool paused = spec.value("paused", false);
  if (!paused) {
    int64_t total = 0;
    for (const auto& rs : olds) total += specReplicas(rs);
    if (newRS.is_null()) {
      const int64_t initial = rolling ? std::max<int64_t>(0, std::min(replicas, replicas + maxSurge - total)) : 0;
      auto c = createReplicaSet(d, hash, maxOldRevision + 1, initial);
      if (!c.ok()) {
        if (c.error().is(kube::ApiErrorReason::kAlreadyExists)) {  // a namesake with another template: rehash
          status["collisionCount"] = intAt(status, {"collisionCount"}, 0) + 1;
          auto w = writeStatus(ctx_.client, res::kDeployments, d, status);
          return w.ok() ? ReconcileResult::requeueAfter(std::chrono::nanoseconds::zero()) : retry(w.error());
        }
        return retry(c.error());
      }
      newRS = *c;
      created = true;
    } else if (revisionOf(newRS) <= maxOldRevision) {  // rolled back to an older template
      Json bumped = newRS;
      bumped["metadata"]["annotations"][kRevision] = std::to_string(maxOldRevision + 1);
      auto u = ctx_.client.update(res::kReplicaSets, request.ns, bumped);
      if (!u.ok()) return retry(u.error());
      rw_.wrote(*ctx_.informers.replicaSets, *u);
      newRS = *u;
    }
    const std::string revision = std::to_string(revisionOf(newRS));
    if (jsonString(d, {"metadata", "annotations", kRevision}) != revision) {
      Json annotated = d;
      annotated["metadata"]["annotations"][kRevision] = revision;
      auto u = ctx_.client.update(res::kDeployments, request.ns, annotated);
      if (!u.ok()) return retry(u.error());
      rw_.wrote(*ctx_.informers.deployments, *u);
      d = *u;
    }

    if (!rolling) {
      // Recreate: all old pods gone first, then the new ReplicaSet at full size.
      bool oldPodsLeft = false;
      for (auto& rs : olds) {
        if (specReplicas(rs) > 0) {
          auto s = scale(d, rs, 0);
          if (!s.ok()) return retry(s.error());
          rs = *s;
        }
        oldPodsLeft = oldPodsLeft || statusOf(rs, "replicas") > 0 ||
                      !controlledBy(*ctx_.informers.pods, jsonString(rs, {"metadata", "uid"})).empty();
      }
      if (!oldPodsLeft && specReplicas(newRS) != replicas) {
        auto s = scale(d, newRS, replicas);
        if (!s.ok()) return retry(s.error());
        newRS = *s;
      }
    } else {
      // The new ReplicaSet grows within maxSurge.
      int64_t all = total + specReplicas(newRS);
      if (specReplicas(newRS) > replicas) {
        auto s = scale(d, newRS, replicas);
        if (!s.ok()) return retry(s.error());
        newRS = *s;
      } else if (specReplicas(newRS) < replicas && all < replicas + maxSurge) {
        const int64_t up = std::min(replicas + maxSurge - all, replicas - specReplicas(newRS));
        auto s = scale(d, newRS, specReplicas(newRS) + up);
        if (!s.ok()) return retry(s.error());
        newRS = *s;
      }
      // Old ReplicaSets shrink within maxUnavailable: unhealthy pods first, then available ones.
      all = total + specReplicas(newRS);
      const int64_t minAvailable = replicas - maxUnavailable;
      const int64_t newUnavailable = specReplicas(newRS) - statusOf(newRS, "availableReplicas");
      int64_t budget = all - minAvailable - newUnavailable;
      for (auto& rs : olds) {
        if (budget <= 0) break;
        const int64_t unhealthy = specReplicas(rs) - statusOf(rs, "availableReplicas");
        if (specReplicas(rs) == 0 || unhealthy <= 0) continue;
        const int64_t down = std::min(budget, unhealthy);
        auto s = scale(d, rs, specReplicas(rs) - down);
        if (!s.ok()) return retry(s.error());
        rs = *s;
        budget -= down;
      }
      int64_t available = statusOf(newRS, "availableReplicas");
      for (const auto& rs : olds) available += std::min(statusOf(rs, "availableReplicas"), specReplicas(rs));
      int64_t excess = available - minAvailable;
      for (auto& rs : olds) {
        if (excess <= 0) break;
        if (specReplicas(rs) == 0) continue;
        const int64_t down = std::min(excess, specReplicas(rs));
        auto s = scale(d, rs, specReplicas(rs) - down);
        if (!s.ok()) return retry(s.error());
        rs = *s;
        excess -= down;
      }
    }
    // History: old ReplicaSets at zero beyond revisionHistoryLimit, oldest revision first.
    std::vector<Json> idle;
    for (const auto& rs : olds) {
      if (specReplicas(rs) == 0 && statusOf(rs, "replicas") == 0) idle.push_back(rs);
    }
    const int64_t limit = intAt(spec, {"revisionHistoryLimit"}, 10);
    if (static_cast<int64_t>(idle.size()) > limit) {
      std::sort(idle.begin(), idle.end(), [](const Json& a, const Json& b) { return revisionOf(a) < revisionOf(b); });
      for (size_t i = 0; i < idle.size() - static_cast<size_t>(limit); ++i) {
        auto del = deleteExact(ctx_.client, res::kReplicaSets, idle[i], "Background");
        if (!del.ok()) return retry(del.error());
        rw_.wrote(*ctx_.informers.replicaSets, *del);
      }
    }
  }

  // Status from the ReplicaSets.
  int64_t total = 0, ready = 0, available = 0;
  for (const auto& rs : olds) {
    total += statusOf(rs, "replicas");
    ready += statusOf(rs, "readyReplicas");
    available += statusOf(rs, "availableReplicas");
  }
  const int64_t updated = newRS.is_null() ? 0 : statusOf(newRS, "replicas");
  if (!newRS.is_null()) {
    total += updated;
    ready += statusOf(newRS, "readyReplicas");
    available += statusOf(newRS, "availableReplicas");
  }
  status["observedGeneration"] = intAt(d, {"metadata", "generation"}, 0);
  status["replicas"] = total;
  status["updatedReplicas"] = updated;
  status["readyReplicas"] = ready;
  status["availableReplicas"] = available;
  status["unavailableReplicas"] = std::max<int64_t>(0, replicas - available);
  if (available >= replicas - maxUnavailable) {
    setCondition(status, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", nowText, false);
  } else {
    setCondition(status, "Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.",
                 nowText, false);
  }
  const std::string rsName = newRS.is_null() ? "" : jsonString(newRS, {"metadata", "name"});
  const bool complete = !newRS.is_null() && updated == replicas && total == replicas && available == replicas;
  const int64_t deadline = intAt(spec, {"progressDeadlineSeconds"}, 600);
  std::optional<TimePoint> requeueAt;
  if (paused) {
    setCondition(status, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", nowText, false);
  } else if (complete) {
    setCondition(status, "Progressing", "True", "NewReplicaSetAvailable",
                 "ReplicaSet \"" + rsName + "\" has successfully progressed.", nowText, false);
  } else if (created) {
    setCondition(status, "Progressing", "True", "NewReplicaSetCreated", "Created new replica set \"" + rsName + "\"", nowText, true);
  } else {
    const bool progressed = updated > intAt(oldStatus, {"updatedReplicas"}, 0) ||
                            total - updated < intAt(oldStatus, {"replicas"}, 0) - intAt(oldStatus, {"updatedReplicas"}, 0) ||
                            ready > intAt(oldStatus, {"readyReplicas"}, 0) || available > intAt(oldStatus, {"availableReplicas"}, 0);
    const Json* current = condition(status, "Progressing");
    const TimePoint lastUpdate = current ? parseTime(current->value("lastUpdateTime", ""), now) : now;
    if (progressed || !current || current->value("reason", "") == "NewReplicaSetAvailable" ||
        current->value("reason", "") == "DeploymentPaused") {
      setCondition(status, "Progressing", "True", "ReplicaSetUpdated", "ReplicaSet \"" + rsName + "\" is progressing.", nowText,
                   true);
      requeueAt = now + std::chrono::seconds(deadline);
    } else if (current->value("reason", "") != "ProgressDeadlineExceeded") {
      const TimePoint expires = lastUpdate + std::chrono::seconds(deadline);
      if (now >= expires) {
        setCondition(status, "Progressing", "False", "ProgressDeadlineExceeded",
                     "ReplicaSet \"" + rsName + "\" has timed out progressing.", nowText, true);
        events_.event(d, "Warning", "ProgressDeadlineExceeded", "Deployment " + request.name + " has timed out progressing.");
      } else {
        requeueAt = expires;
      }
    }
  }
  auto w = writeStatus(ctx_.client, res::kDeployments, d, status);
  if (!w.ok()) return retry(w.error());
  rw_.wrote(*ctx_.informers.deployments, *w);
  if (requeueAt) return workloads::requeueAt(ctx_.clock, *requeueAt);
  return ReconcileResult::ok();
}

}  // namespace sdb::workloads
