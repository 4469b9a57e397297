#include "e2e/workloads/volume_binder.h"

#include <cmath>

#include "e2e/workloads/pod_util.h"

namespace sdb::workloads {

namespace res = kube::resources;
using runtime::ReconcileResult;

namespace {

constexpr const char* kDefaultClassAnnotation = "storageclass.kubernetes.io/is-default-class";
constexpr const char* kSelectedNode = "volume.kubernetes.io/selected-node";

}  // namespace

std::optional<long double> parseQuantity(const std::string& q) {
  size_t i = 0;
  while (i < q.size() && (std::isdigit(static_cast<unsigned char>(q[i])) || q[i] == '.' || q[i] == '+' || q[i] == '-')) ++i;
  if (i == 0) return std::nullopt;
  long double v = 0;
  try {
    v = std::stold(q.substr(0, i));
  } catch (...) {
    return std::nullopt;
  }
  std::string suffix = q.substr(i);
  if (!suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E') && suffix.size() > 1) {
    try {
      return v * std::pow(10.0L, std::stoi(suffix.substr(1)));
    } catch (...) {
      return std::nullopt;
    }
  }
  static const std::pair<const char*, long double> units[] = {
      {"Ki", 1024.0L}, {"Mi", std::pow(1024.0L, 2)}, {"Gi", std::pow(1024.0L, 3)}, {"Ti", std::pow(1024.0L, 4)},
      {"Pi", std::pow(1024.0L, 5)}, {"Ei", std::pow(1024.0L, 6)}, {"n", 1e-9L}, {"u", 1e-6L}, {"m", 1e-3L},
      {"", 1.0L}, {"k", 1e3L}, {"M", 1e6L}, {"G", 1e9L}, {"T", 1e12L}, {"P", 1e15L}, {"E", 1e18L}};
  for (const auto& [name, scale] : units) {
    if (suffix == name) return v * scale;
  }
  return std::nullopt;
}

Status ensureDefaultStorageClass(kube::KubeClient& client) {
  Json sc = {{"apiVersion", "storage.k8s.io/v1"},
             {"kind", "StorageClass"},
             {"metadata", {{"name", kDefaultStorageClassName}, {"annotations", {{kDefaultClassAnnotation, "true"}}}}},
             {"provisioner", kProvisionerName},
             {"reclaimPolicy", "Delete"},
             {"volumeBindingMode", "Immediate"},
             {"allowVolumeExpansion", true}};
  auto r = client.create(res::kStorageClasses, "", sc);
  if (!r.ok() && !r.error().is(kube::ApiErrorReason::kAlreadyExists)) {
    return Error(ErrorCode::kUnavailable, "creating the default StorageClass: " + r.error().toString());
  }
  return okStatus();
}

void VolumeBinder::wire(runtime::Controller& controller) {
  controller.For(*ctx_.informers.claims);
  auto onClass = [this, &controller](const ObjectPtr&) {
    for (const auto& claim : ctx_.informers.claims->list()) {
      if (jsonString(*claim, {"status", "phase"}) != "Bound" || !claim->contains("status")) {
        controller.enqueue({jsonString(*claim, {"metadata", "namespace"}), jsonString(*claim, {"metadata", "name"})});
      }
    }
  };
  ctx_.informers.storageClasses->addHandlers({onClass, [onClass](const ObjectPtr&, const ObjectPtr& n) { onClass(n); }, nullptr});
}

ReconcileResult VolumeBinder::reconcile(const runtime::Request& request, const runtime::ReconcileContext&) {
  if (!rw_.await()) return ReconcileResult::retry("the claim cache is behind our writes");
  ObjectPtr cached = ctx_.informers.claims->get(request.ns, request.name);
  if (!cached || isPodTerminating(*cached)) return ReconcileResult::ok();
  const Json& claim = *cached;
  const Json* classField = jsonAt(claim, {"spec"});
  const bool classUnset = !classField || !classField->contains("storageClassName") || (*classField)["storageClassName"].is_null();
  const std::string request_ = jsonString(claim, {"spec", "resources", "requests", "storage"});

  if (jsonString(claim, {"status", "phase"}) == "Bound" && !jsonString(claim, {"spec", "volumeName"}).empty()) {
    // Expansion: capacity follows a grown request when the class allows it.
    const std::string capacity = jsonString(claim, {"status", "capacity", "storage"});
    auto want = parseQuantity(request_), have = parseQuantity(capacity);
    if (!want || (have && *want <= *have)) return ReconcileResult::ok();
    ObjectPtr sc = ctx_.informers.storageClasses->get("", jsonString(claim, {"spec", "storageClassName"}));
    if (!sc || !sc->value("allowVolumeExpansion", false)) return ReconcileResult::ok();
    Json status = claim["status"];
    status["capacity"]["storage"] = request_;
    status.erase("allocatedResources");
    auto w = writeStatus(ctx_.client, res::kPersistentVolumeClaims, claim, status);
    if (!w.ok()) return failed(w.error());
    rw_.wrote(*ctx_.informers.claims, *w);
    events_.event(claim, "Normal", "VolumeResizeSuccessful", "resize volume \"" + jsonString(claim, {"spec", "volumeName"}) +
                                                                 "\" to " + request_ + " succeeded");
    return ReconcileResult::ok();
  }

  if (classUnset) {
    // Retroactive default StorageClass assignment (GA in 1.28).
    for (const auto& sc : ctx_.informers.storageClasses->list()) {
      if (jsonString(*sc, {"metadata", "annotations", kDefaultClassAnnotation}) != "true") continue;
      Json updated = claim;
      updated["spec"]["storageClassName"] = jsonString(*sc, {"metadata", "name"});
      auto u = ctx_.client.update(res::kPersistentVolumeClaims, request.ns, updated);
      if (!u.ok()) return failed(u.error());
      rw_.wrote(*ctx_.informers.claims, *u);
      return ReconcileResult::ok();  // the update event brings us back to bind it
    }
    events_.event(claim, "Normal", "FailedBinding", "no persistent volumes available for this claim and no storage class is set");
    return ReconcileResult::ok();
  }
  const std::string className = jsonString(claim, {"spec", "storageClassName"});
  if (className.empty()) {
    events_.event(claim, "Normal", "FailedBinding", "no persistent volumes available for this claim and no storage class is set");
    return ReconcileResult::ok();
  }
  ObjectPtr sc = ctx_.informers.storageClasses->get("", className);
  if (!sc) {
    events_.event(claim, "Warning", "ProvisioningFailed", "storageclass.storage.k8s.io \"" + className + "\" not found");
    return ReconcileResult::ok();  // a StorageClass event re-examines Pending claims
  }
  if (jsonString(*sc, {"volumeBindingMode"}) == "WaitForFirstConsumer" &&
      jsonString(claim, {"metadata", "annotations", kSelectedNode}).empty()) {
    events_.event(claim, "Normal", "WaitForFirstConsumer", "waiting for first consumer to be created before binding");
    return ReconcileResult::ok();
  }
  // Bind: spec.volumeName and the annotations first, then the status.
  const std::string volume = "pvc-" + jsonString(claim, {"metadata", "uid"});
  Json bound = claim;
  if (jsonString(claim, {"spec", "volumeName"}).empty()) {
    bound["spec"]["volumeName"] = volume;
    Json& ann = bound["metadata"]["annotations"];
    if (!ann.is_object()) ann = Json::object();
    ann["pv.kubernetes.io/bind-completed"] = "yes";
    ann["pv.kubernetes.io/bound-by-controller"] = "yes";
    const std::string provisioner = jsonString(*sc, {"provisioner"}, kProvisionerName);
    ann["volume.beta.kubernetes.io/storage-provisioner"] = provisioner;
    ann["volume.kubernetes.io/storage-provisioner"] = provisioner;
    auto u = ctx_.client.update(res::kPersistentVolumeClaims, request.ns, bound);
    if (!u.ok()) return failed(u.error());
    bound = *u;
    events_.event(claim, "Normal", "ProvisioningSucceeded", "Successfully provisioned volume " + volume);
  }
  Json status = {{"phase", "Bound"},
                 {"accessModes", claim["spec"].value("accessModes", Json::array())},
                 {"capacity", {{"storage", request_}}}};
  auto w = writeStatus(ctx_.client, res::kPersistentVolumeClaims, bound, status);
  if (!w.ok()) return failed(w.error());
  rw_.wrote(*ctx_.informers.claims, *w);
  return ReconcileResult::ok();
}

}  // namespace sdb::workloads
