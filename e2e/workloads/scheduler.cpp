#include "e2e/workloads/scheduler.h"

#include "e2e/workloads/pod_util.h"
#include "operator/runtime/object_helpers.h"

namespace sdb::workloads {

namespace res = kube::resources;
using runtime::ReconcileResult;

namespace {
constexpr const char* kSelectedNode = "volume.kubernetes.io/selected-node";

// Sets the PodScheduled condition in `status`; keeps lastTransitionTime when the status holds.
void setScheduled(Json& status, const std::string& value, const std::string& reason, const std::string& message,
                  const std::string& now) {
  if (!status.contains("conditions") || !status["conditions"].is_array()) status["conditions"] = Json::array();
  Json cond = {{"type", "PodScheduled"}, {"status", value}, {"lastProbeTime", nullptr}, {"lastTransitionTime", now}};
  if (!reason.empty()) cond["reason"] = reason;
  if (!message.empty()) cond["message"] = message;
  for (auto& c : status["conditions"]) {
    if (c.value("type", "") != "PodScheduled") continue;
    if (c.value("status", "") == value) cond["lastTransitionTime"] = c.value("lastTransitionTime", now);
    c = cond;
    return;
  }
  status["conditions"].push_back(cond);
}
}  // namespace

std::vector<std::string> podClaimNames(const Json& pod) {
  std::vector<std::string> out;
  const Json* vols = jsonAt(pod, {"spec"});
  if (!vols || !vols->contains("volumes") || !(*vols)["volumes"].is_array()) return out;
  for (const auto& v : (*vols)["volumes"]) {
    const std::string claim = jsonString(v, {"persistentVolumeClaim", "claimName"});
    if (!claim.empty()) out.push_back(claim);
  }
  return out;
}

void Scheduler::wire(runtime::Controller& controller) {
  auto onPod = [&controller](const ObjectPtr& pod) {
    if (jsonString(*pod, {"spec", "nodeName"}).empty() && !isPodTerminating(*pod)) {
      controller.enqueue({jsonString(*pod, {"metadata", "namespace"}), jsonString(*pod, {"metadata", "name"})});
    }
  };
  ctx_.informers.pods->addHandlers({onPod, [onPod](const ObjectPtr&, const ObjectPtr& n) { onPod(n); }, nullptr});
  // A claim appearing or binding may unblock the unbound pods of its namespace that use it.
  auto onClaim = [this, &controller](const ObjectPtr& claim) {
    const std::string ns = jsonString(*claim, {"metadata", "namespace"});
    const std::string name = jsonString(*claim, {"metadata", "name"});
    for (const auto& pod : ctx_.informers.pods->list(ns)) {
      if (!jsonString(*pod, {"spec", "nodeName"}).empty()) continue;
      for (const auto& c : podClaimNames(*pod)) {
        if (c == name) controller.enqueue({ns, jsonString(*pod, {"metadata", "name"})});
      }
    }
  };
  ctx_.informers.claims->addHandlers({onClaim, [onClaim](const ObjectPtr&, const ObjectPtr& n) { onClaim(n); }, nullptr});
}

ReconcileResult Scheduler::reconcile(const runtime::Request& request, const runtime::ReconcileContext&) {
  if (!rw_.await()) return ReconcileResult::retry("the pod cache is behind our writes");
  ObjectPtr pod = ctx_.informers.pods->get(request.ns, request.name);
  if (!pod || isPodTerminating(*pod) || !jsonString(*pod, {"spec", "nodeName"}).empty()) return ReconcileResult::ok();
  const std::string scheduler = jsonString(*pod, {"spec", "schedulerName"}, "default-scheduler");
  if (scheduler != "default-scheduler") return ReconcileResult::ok();
  const std::string now = formatRfc3339(ctx_.clock.now());
  const std::string node = ctx_.options.nodeName;

  // Volume binding: every claim must exist and be bound (WaitForFirstConsumer claims get the node).
  std::string unschedulable;
  for (const auto& claimName : podClaimNames(*pod)) {
    ObjectPtr claim = ctx_.informers.claims->get(request.ns, claimName);
    if (!claim) {
      unschedulable = "0/1 nodes are available: persistentvolumeclaim \"" + claimName + "\" not found.";
      break;
    }
    if (isPodTerminating(*claim)) {
      unschedulable = "0/1 nodes are available: persistentvolumeclaim \"" + claimName + "\" is being deleted.";
      break;
    }
    if (jsonString(*claim, {"status", "phase"}) == "Bound") continue;
    if (jsonString(*claim, {"metadata", "annotations", kSelectedNode}).empty()) {
      const std::string cls = jsonString(*claim, {"spec", "storageClassName"});
      ObjectPtr sc = cls.empty() ? nullptr : ctx_.informers.storageClasses->get("", cls);
      if (sc && jsonString(*sc, {"volumeBindingMode"}) == "WaitForFirstConsumer") {
        Json patch = {{"metadata", {{"annotations", {{kSelectedNode, node}}}}}};
        auto r = ctx_.client.patch(res::kPersistentVolumeClaims, request.ns, claimName, kube::PatchType::kMerge,
                                   dumpJson(patch));
        if (!r.ok()) return failed(r.error());
        rw_.wrote(*ctx_.informers.claims, *r);
      }
    }
    return ReconcileResult::ok();  // the claim's binding re-enqueues this pod
  }
  Json status = pod->contains("status") ? (*pod)["status"] : Json::object();
  if (!unschedulable.empty()) {
    setScheduled(status, "False", "Unschedulable", unschedulable, now);
    auto w = writeStatus(ctx_.client, res::kPods, *pod, status);
    if (!w.ok()) return failed(w.error());
    if (w->value("metadata", Json::object()).value("resourceVersion", "") != jsonString(*pod, {"metadata", "resourceVersion"})) {
      events_.event(*pod, "Warning", "FailedScheduling", unschedulable);
      rw_.wrote(*ctx_.informers.pods, *w);
    }
    return ReconcileResult::ok();  // the claim's arrival re-enqueues this pod
  }
  setScheduled(status, "True", "", "", now);
  auto w = writeStatus(ctx_.client, res::kPods, *pod, status);
  if (!w.ok()) return failed(w.error());
  Json bound = *w;
  bound["spec"]["nodeName"] = node;
  auto b = ctx_.client.update(res::kPods, request.ns, bound);
  if (!b.ok()) return failed(b.error());
  rw_.wrote(*ctx_.informers.pods, *b);
  events_.event(*b, "Normal", "Scheduled", "Successfully assigned " + request.ns + "/" + request.name + " to " + node);
  return ReconcileResult::ok();
}

}  // namespace sdb::workloads
