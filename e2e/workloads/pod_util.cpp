#include "e2e/workloads/pod_util.h"

#include <thread>

#include "operator/runtime/object_helpers.h"

namespace sdb::workloads {

std::string podPhase(const Json& pod) { return jsonString(pod, {"status", "phase"}); }

bool isPodTerminating(const Json& pod) {
  const Json* ts = jsonAt(pod, {"metadata"});
  return ts && ts->contains("deletionTimestamp") && !(*ts)["deletionTimestamp"].is_null();
}

bool isPodFinished(const Json& pod) {
  const std::string p = podPhase(pod);
  return p == "Succeeded" || p == "Failed";
}

bool isPodActive(const Json& pod) { return !isPodFinished(pod) && !isPodTerminating(pod); }

namespace {
const Json* readyCondition(const Json& pod) {
  const Json* conds = jsonAt(pod, {"status"});
  if (!conds || !conds->contains("conditions") || !(*conds)["conditions"].is_array()) return nullptr;
  for (const auto& c : (*conds)["conditions"]) {
    if (c.is_object() && c.value("type", "") == "Ready") return &c;
  }
  return nullptr;
}
}  // namespace

bool isPodReady(const Json& pod) {
  const Json* c = readyCondition(pod);
  return c && c->value("status", "") == "True";
}

bool isPodRunningAndReady(const Json& pod) { return podPhase(pod) == "Running" && isPodReady(pod); }

std::optional<TimePoint> podAvailableAt(const Json& pod, int64_t minReadySeconds) {
  if (!isPodRunningAndReady(pod)) return std::nullopt;
  const Json* c = readyCondition(pod);
  const TimePoint since = parseTime(c->value("lastTransitionTime", ""));
  return since + std::chrono::seconds(minReadySeconds);
}

bool isPodAvailable(const Json& pod, int64_t minReadySeconds, TimePoint now) {
  if (!isPodRunningAndReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  auto at = podAvailableAt(pod, minReadySeconds);
  return at && *at <= now;
}

int64_t podRestarts(const Json& pod) {
  int64_t n = 0;
  for (const char* key : {"initContainerStatuses", "containerStatuses"}) {
    const Json* list = jsonAt(pod, {"status"});
    if (!list || !list->contains(key) || !(*list)[key].is_array()) continue;
    for (const auto& s : (*list)[key]) n += s.value("restartCount", int64_t{0});
  }
  return n;
}

std::string templateHash(const Json& podTemplate, int64_t collisionCount) {
  uint32_t h = 2166136261u;
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 16777619u;
    }
  };
  mix(dumpJson(podTemplate));
  if (collisionCount > 0) mix(std::to_string(collisionCount));
  static const std::string alphanums = "bcdfghjklmnpqrstvwxz2456789";
  std::string decimal = std::to_string(h), out;
  for (unsigned char c : decimal) out += alphanums[c % alphanums.size()];
  return out;
}

Json podFromTemplate(const Json& podTemplate, const Json& owner) {
  Json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", Json::object()}};
  const Json* meta = jsonAt(podTemplate, {"metadata"});
  for (const char* k : {"labels", "annotations", "finalizers"}) {
    if (meta && meta->contains(k) && !(*meta)[k].is_null()) pod["metadata"][k] = (*meta)[k];
  }
  pod["metadata"]["namespace"] = jsonString(owner, {"metadata", "namespace"});
  pod["spec"] = podTemplate.contains("spec") ? podTemplate["spec"] : Json::object();
  runtime::setControllerReference(owner, pod);
  return pod;
}

std::vector<ObjectPtr> controlledBy(const runtime::Informer& informer, const std::string& ownerUid) {
  std::vector<ObjectPtr> out;
  for (auto& o : informer.byOwnerUid(ownerUid)) {
    auto ref = runtime::controllerOf(*o);
    if (ref && ref->value("uid", "") == ownerUid) out.push_back(std::move(o));
  }
  return out;
}

std::vector<ObjectPtr> selectedIn(const runtime::Informer& informer, const std::string& ns, const Json& selectorJson) {
  std::vector<ObjectPtr> out;
  auto selector = apimachinery::LabelSelector::fromJson(selectorJson);
  if (!selector.ok() || selector->empty()) return out;  // an empty selector selects nothing here
  std::vector<ObjectPtr> candidates;
  const Json* ml = jsonAt(selectorJson, {"matchLabels"});
  if (ml && ml->is_object() && !ml->empty() && ml->begin().value().is_string()) {
    candidates = informer.byLabel(ml->begin().key(), ml->begin().value().get<std::string>());
  } else {
    candidates = informer.list(ns);
  }
  for (auto& o : candidates) {
    if (jsonString(*o, {"metadata", "namespace"}) == ns && selector->matches(*o)) out.push_back(std::move(o));
  }
  return out;
}

int64_t intAt(const Json& obj, const std::vector<std::string>& path, int64_t fallback) {
  if (path.empty()) return fallback;
  std::vector<std::string> parent(path.begin(), path.end() - 1);
  const Json* p = parent.empty() ? &obj : jsonAt(obj, parent);
  if (!p || !p->is_object() || !p->contains(path.back())) return fallback;
  const Json& v = (*p)[path.back()];
  return v.is_number_integer() ? v.get<int64_t>() : fallback;
}

TimePoint parseTime(const std::string& s, TimePoint fallback) {
  TimePoint t;
  return !s.empty() && parseRfc3339(s, &t) ? t : fallback;
}

kube::KResult<Json> writeStatus(kube::KubeClient& client, const kube::ResourceRef& ref, const Json& cached,
                                const Json& status) {
  if (cached.contains("status") && cached["status"] == status) return cached;
  Json obj = cached;
  obj["status"] = status;
  return client.updateStatus(ref, jsonString(cached, {"metadata", "namespace"}), obj);
}

runtime::ReconcileResult failed(const kube::ApiError& error) {
  using kube::ApiErrorReason;
  if (error.is(ApiErrorReason::kConflict) || error.is(ApiErrorReason::kNotFound) || error.is(ApiErrorReason::kAlreadyExists)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return runtime::ReconcileResult::requeueAfter(std::chrono::nanoseconds::zero());
  }
  return runtime::ReconcileResult::retry(error.toString());
}

runtime::ReconcileResult requeueAt(const Clock& clock, TimePoint t) {
  return runtime::ReconcileResult::requeueAfter(
      std::max<std::chrono::nanoseconds>(std::chrono::milliseconds(1), t - clock.now()));
}

kube::KResult<Json> deleteExact(kube::KubeClient& client, const kube::ResourceRef& ref, const Json& obj,
                                const std::string& propagationPolicy) {
  kube::DeleteOptions o;
  o.preconditionUid = jsonString(obj, {"metadata", "uid"});
  o.propagationPolicy = propagationPolicy;
  auto r = client.remove(ref, jsonString(obj, {"metadata", "namespace"}), jsonString(obj, {"metadata", "name"}), o);
  if (!r.ok() && r.error().is(kube::ApiErrorReason::kNotFound)) return obj;
  return r;
}

}  // namespace sdb::workloads
