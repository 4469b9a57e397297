#include "e2e/workloads/replicaset.h"

#include <algorithm>

#include "e2e/workloads/pod_util.h"
#include "operator/runtime/object_helpers.h"

namespace sdb::workloads {

namespace res = kube::resources;
using runtime::ReconcileResult;

void ReplicaSetController::wire(runtime::Controller& controller) {
  controller.For(*ctx_.informers.replicaSets);
  controller.Owns(*ctx_.informers.pods, "ReplicaSet", "apps");
}

ReconcileResult ReplicaSetController::reconcile(const runtime::Request& request, const runtime::ReconcileContext&) {
  if (!rw_.await()) return ReconcileResult::retry("the cache is behind our writes");
  ObjectPtr cached = ctx_.informers.replicaSets->get(request.ns, request.name);
  if (!cached || isPodTerminating(*cached)) return ReconcileResult::ok();
  const Json& rs = *cached;
  const TimePoint now = ctx_.clock.now();
  const Json selector = rs["spec"].value("selector", Json::object());

  for (const auto& p : selectedIn(*ctx_.informers.pods, request.ns, selector)) {
    if (runtime::controllerOf(*p) || isPodTerminating(*p) || isPodFinished(*p)) continue;
    Json adopted = *p;
    runtime::setControllerReference(rs, adopted);
    auto u = ctx_.client.update(res::kPods, request.ns, adopted);
    if (!u.ok()) return failed(u.error());
    rw_.wrote(*ctx_.informers.pods, *u);
    return ReconcileResult::requeueAfter(std::chrono::nanoseconds::zero());
  }

  std::vector<ObjectPtr> active;
  for (const auto& p : controlledBy(*ctx_.informers.pods, jsonString(rs, {"metadata", "uid"}))) {
    if (isPodActive(*p)) active.push_back(p);
  }
  const int64_t replicas = intAt(rs, {"spec", "replicas"}, 1);
  const int64_t minReady = intAt(rs, {"spec", "minReadySeconds"}, 0);
  const int64_t diff = static_cast<int64_t>(active.size()) - replicas;
  if (diff < 0) {
    for (int64_t i = 0; i < -diff; ++i) {
      Json pod = podFromTemplate(rs["spec"].value("template", Json::object()), rs);
      pod["metadata"]["generateName"] = request.name + "-";
      auto c = ctx_.client.create(res::kPods, request.ns, pod);
      if (!c.ok()) {
        events_.event(rs, "Warning", "FailedCreate", "Error creating: " + c.error().message);
        return failed(c.error());
      }
      rw_.wrote(*ctx_.informers.pods, *c);
      events_.event(rs, "Normal", "SuccessfulCreate", "Created pod: " + jsonString(*c, {"metadata", "name"}));
    }
  } else if (diff > 0) {
    // kube's getPodsToDelete: unscheduled, pending, not ready, then the newest go first.
    auto rank = [](const Json& p) {
      return std::make_tuple(jsonString(p, {"spec", "nodeName"}).empty() ? 0 : 1, podPhase(p) == "Pending" ? 0 : 1,
                             isPodReady(p) ? 1 : 0);
    };
    std::vector<ObjectPtr> victims = active;
    std::stable_sort(victims.begin(), victims.end(), [&](const ObjectPtr& a, const ObjectPtr& b) {
      if (rank(*a) != rank(*b)) return rank(*a) < rank(*b);
      return jsonString(*a, {"metadata", "creationTimestamp"}) > jsonString(*b, {"metadata", "creationTimestamp"});
    });
    for (int64_t i = 0; i < diff; ++i) {
      auto d = deleteExact(ctx_.client, res::kPods, *victims[i]);
      if (!d.ok()) return failed(d.error());
      rw_.wrote(*ctx_.informers.pods, *d);
      events_.event(rs, "Normal", "SuccessfulDelete", "Deleted pod: " + jsonString(*victims[i], {"metadata", "name"}));
    }
  }

  // Status from the pods as they were at the start of this pass (the next pass sees the changes).
  const Json* templateLabels = jsonAt(rs, {"spec", "template", "metadata", "labels"});
  int64_t fullyLabeled = 0, ready = 0, available = 0;
  std::optional<TimePoint> nextAvailable;
  for (const auto& p : active) {
    bool labeled = true;
    if (templateLabels && templateLabels->is_object()) {
      for (auto it = templateLabels->begin(); it != templateLabels->end(); ++it) {
        labeled = labeled && jsonString(*p, {"metadata", "labels", it.key()}) == it.value();
      }
    }
    fullyLabeled += labeled ? 1 : 0;
    ready += isPodReady(*p) ? 1 : 0;
    if (isPodAvailable(*p, minReady, now)) {
      ++available;
    } else if (auto at = podAvailableAt(*p, minReady)) {
      nextAvailable = nextAvailable ? std::min(*nextAvailable, *at) : *at;
    }
  }
  Json status = rs.value("status", Json::object());
  status["replicas"] = static_cast<int64_t>(active.size());
  status["fullyLabeledReplicas"] = fullyLabeled;
  status["readyReplicas"] = ready;
  status["availableReplicas"] = available;
  status["observedGeneration"] = intAt(rs, {"metadata", "generation"}, 0);
  auto w = writeStatus(ctx_.client, res::kReplicaSets, rs, status);
  if (!w.ok()) {
    return failed(w.error());
  }
  rw_.wrote(*ctx_.informers.replicaSets, *w);
  if (nextAvailable) {
    return requeueAt(ctx_.clock, *nextAvailable);
  }
  return ReconcileResult::ok();
}

}  // namespace sdb::workloads
