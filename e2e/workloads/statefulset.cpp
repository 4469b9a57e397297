#include "e2e/workloads/statefulset.h"

#include <algorithm>
#include <map>

#include "e2e/workloads/pod_util.h"
#include "operator/runtime/object_helpers.h"

namespace sdb::workloads {

namespace res = kube::resources;
using runtime::ReconcileResult;

int64_t statefulPodOrdinal(const std::string& stsName, const std::string& podName) {
  if (podName.size() <= stsName.size() + 1 || podName.compare(0, stsName.size(), stsName) != 0 ||
      podName[stsName.size()] != '-') {
    return -1;
  }
  const std::string digits = podName.substr(stsName.size() + 1);
  if (digits.empty() || digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return -1;
  }
  if (digits.size() > 1 && digits[0] == '0') return -1;
  return std::stoll(digits);
}

void StatefulSetController::wire(runtime::Controller& controller) {
  controller.For(*ctx_.informers.statefulSets);
  controller.Owns(*ctx_.informers.pods, "StatefulSet", "apps");
  controller.Owns(*ctx_.informers.controllerRevisions, "StatefulSet", "apps");
}

std::vector<ObjectPtr> StatefulSetController::ownedPods(const Json& sts) {
  return controlledBy(*ctx_.informers.pods, jsonString(sts, {"metadata", "uid"}));
}

kube::KStatus StatefulSetController::createPod(const Json& sts, int64_t ordinal, const Revisions& revs) {
  const std::string ns = jsonString(sts, {"metadata", "namespace"});
  const std::string name = jsonString(sts, {"metadata", "name"});
  const int64_t start = intAt(sts, {"spec", "ordinals", "start"}, 0);
  // kube's newVersionedStatefulSetPod: below the partition a pod is made at the current revision.
  bool atCurrent = false;
  if (jsonString(sts, {"spec", "updateStrategy", "type"}) == "RollingUpdate") {
    const Json* ru = jsonAt(sts, {"spec", "updateStrategy", "rollingUpdate"});
    if (ru && ru->contains("partition")) {
      atCurrent = ordinal - start < intAt(*ru, {"partition"}, 0);
    } else {
      atCurrent = ordinal - start < intAt(sts, {"status", "currentReplicas"}, 0);
    }
  }
  const Json& tmpl = atCurrent ? revs.currentTemplate : revs.updateTemplate;
  const std::string podName = name + "-" + std::to_string(ordinal);
  Json pod = podFromTemplate(tmpl, sts);
  pod["metadata"]["name"] = podName;
  Json& labels = pod["metadata"]["labels"];
  if (!labels.is_object()) labels = Json::object();
  labels["statefulset.kubernetes.io/pod-name"] = podName;
  labels["apps.kubernetes.io/pod-index"] = std::to_string(ordinal);
  labels["controller-revision-hash"] = atCurrent ? revs.currentName : revs.updateName;
  pod["spec"]["hostname"] = podName;
  const std::string serviceName = jsonString(sts, {"spec", "serviceName"});
  if (!serviceName.empty()) pod["spec"]["subdomain"] = serviceName;
  if (const Json* templates = jsonAt(sts, {"spec"}); templates && templates->contains("volumeClaimTemplates")) {
    Json& volumes = pod["spec"]["volumes"];
    if (!volumes.is_array()) volumes = Json::array();
    for (const auto& t : (*templates)["volumeClaimTemplates"]) {
      const std::string vol = jsonString(t, {"metadata", "name"});
      Json v = {{"name", vol}, {"persistentVolumeClaim", {{"claimName", vol + "-" + name + "-" + std::to_string(ordinal)}}}};
      auto it = std::find_if(volumes.begin(), volumes.end(), [&](const Json& x) { return x.value("name", "") == vol; });
      if (it != volumes.end()) *it = v;
      else volumes.push_back(v);
    }
  }
  auto c = ctx_.client.create(res::kPods, ns, pod);
  if (!c.ok()) {
    if (c.error().is(kube::ApiErrorReason::kAlreadyExists)) return {};
    events_.event(sts, "Warning", "FailedCreate",
                  "create Pod " + podName + " in StatefulSet " + name + " failed error: " + c.error().message);
    return c.error();
  }
  rw_.wrote(*ctx_.informers.pods, *c);
  events_.event(sts, "Normal", "SuccessfulCreate", "create Pod " + podName + " in StatefulSet " + name + " successful");
  return {};
}

kube::KStatus StatefulSetController::deletePod(const Json& sts, const Json& pod, const std::string& reason) {
  const std::string name = jsonString(sts, {"metadata", "name"});
  const std::string podName = jsonString(pod, {"metadata", "name"});
  auto d = deleteExact(ctx_.client, res::kPods, pod);
  if (!d.ok()) {
    events_.event(sts, "Warning", "FailedDelete",
                  "delete Pod " + podName + " in StatefulSet " + name + " failed error: " + d.error().message);
    return d.error();
  }
  rw_.wrote(*ctx_.informers.pods, *d);
  if (!reason.empty()) {
    events_.event(sts, "Warning", reason, "StatefulSet " + jsonString(sts, {"metadata", "namespace"}) + "/" + name +
                                              " is recreating failed Pod " + podName);
  }
  events_.event(sts, "Normal", "SuccessfulDelete", "delete Pod " + podName + " in StatefulSet " + name + " successful");
  return {};
}

ReconcileResult StatefulSetController::reconcile(const runtime::Request& request, const runtime::ReconcileContext&) {
  if (!rw_.await()) return ReconcileResult::retry("the cache is behind our writes");
  ObjectPtr cached = ctx_.informers.statefulSets->get(request.ns, request.name);
  if (!cached || isPodTerminating(*cached)) return ReconcileResult::ok();
  const Json& sts = *cached;
  const std::string uid = jsonString(sts, {"metadata", "uid"});
  const auto now = ctx_.clock.now();

  // Adopt orphans that are members of this set.
  for (const auto& p : selectedIn(*ctx_.informers.pods, request.ns, sts["spec"].value("selector", Json::object()))) {
    if (runtime::controllerOf(*p) || isPodTerminating(*p)) continue;
    if (statefulPodOrdinal(request.name, jsonString(*p, {"metadata", "name"})) < 0) continue;
    Json adopted = *p;
    runtime::setControllerReference(sts, adopted);
    auto u = ctx_.client.update(res::kPods, request.ns, adopted);
    if (!u.ok()) return failed(u.error());
    rw_.wrote(*ctx_.informers.pods, *u);
  }

  auto revs = syncRevisions(sts);
  if (!revs.ok()) return failed(revs.error());
  const int64_t replicas = intAt(sts, {"spec", "replicas"}, 1);
  const int64_t start = intAt(sts, {"spec", "ordinals", "start"}, 0);
  const bool monotonic = jsonString(sts, {"spec", "podManagementPolicy"}, "OrderedReady") != "Parallel";
  const bool rolling = jsonString(sts, {"spec", "updateStrategy", "type"}, "RollingUpdate") == "RollingUpdate";
  const int64_t partition = intAt(sts, {"spec", "updateStrategy", "rollingUpdate", "partition"}, 0);
  const int64_t minReady = intAt(sts, {"spec", "minReadySeconds"}, 0);

  std::map<int64_t, ObjectPtr> members, condemned;  // by ordinal
  const auto pods = ownedPods(sts);
  for (const auto& p : pods) {
    const int64_t ord = statefulPodOrdinal(request.name, jsonString(*p, {"metadata", "name"}));
    if (ord < 0) continue;
    (ord >= start && ord < start + replicas ? members : condemned)[ord] = p;
  }

  // Status, from what the cache shows before this pass acts.
  Json status = sts.value("status", Json::object());
  int64_t created = 0, ready = 0, available = 0, current = 0, updated = 0;
  std::optional<TimePoint> nextAvailable;
  for (const auto& p : pods) {
    if (statefulPodOrdinal(request.name, jsonString(*p, {"metadata", "name"})) < 0) continue;
    ++created;
    if (isPodRunningAndReady(*p)) ++ready;
    if (isPodAvailable(*p, minReady, now)) {
      ++available;
    } else if (auto at = podAvailableAt(*p, minReady)) {
      nextAvailable = nextAvailable ? std::min(*nextAvailable, *at) : *at;
    }
    if (isPodTerminating(*p)) continue;
    const std::string rev = jsonString(*p, {"metadata", "labels", "controller-revision-hash"});
    if (rev == revs->currentName) ++current;
    if (rev == revs->updateName) ++updated;
  }
  status["observedGeneration"] = intAt(sts, {"metadata", "generation"}, 0);
  status["replicas"] = created;
  status["readyReplicas"] = ready;
  status["availableReplicas"] = available;
  status["currentReplicas"] = current;
  status["updatedReplicas"] = updated;
  status["currentRevision"] = revs->currentName;
  status["updateRevision"] = revs->updateName;
  status["collisionCount"] = intAt(sts, {"status", "collisionCount"}, 0);
  if (rolling && updated == created && ready == created) {  // kube's completeRollingUpdate
    status["currentReplicas"] = updated;
    status["currentRevision"] = revs->updateName;
  }

  // Act: members in order, then the condemned, then the rolling update.
  auto healthy = [&](const Json& p) { return isPodRunningAndReady(p) && isPodAvailable(p, minReady, now); };
  bool wait = false;
  for (int64_t ord = start; ord < start + replicas && !wait; ++ord) {
    auto it = members.find(ord);
    const Json* pod = it == members.end() ? nullptr : it->second.get();
    if (!pod) {
      if (auto s = ensureClaims(sts, ord, nullptr, false); !s.ok()) return failed(s.error());
      if (auto s = createPod(sts, ord, *revs); !s.ok()) return failed(s.error());
      wait = monotonic;
      continue;
    }
    if (isPodFinished(*pod) && !isPodTerminating(*pod)) {
      if (auto s = deletePod(sts, *pod, "RecreatingFailedPod"); !s.ok()) return failed(s.error());
      wait = monotonic;
      continue;
    }
    if (auto s = ensureClaims(sts, ord, pod, false); !s.ok()) return failed(s.error());
    if (monotonic && (isPodTerminating(*pod) || !healthy(*pod))) wait = true;
  }
  if (!wait) {
    for (auto it = condemned.rbegin(); it != condemned.rend(); ++it) {
      const Json& pod = *it->second;
      if (auto s = ensureClaims(sts, it->first, &pod, true); !s.ok()) return failed(s.error());
      if (isPodTerminating(pod)) {
        if (monotonic) break;
        continue;
      }
      if (auto s = deletePod(sts, pod, ""); !s.ok()) return failed(s.error());
      if (monotonic) {
        wait = true;
        break;
      }
    }
    if (!condemned.empty()) wait = true;
  }
  if (!wait && rolling) {
    for (int64_t ord = start + replicas - 1; ord >= start + partition; --ord) {
      auto it = members.find(ord);
      if (it == members.end()) break;
      const Json& pod = *it->second;
      if (jsonString(pod, {"metadata", "labels", "controller-revision-hash"}) != revs->updateName && !isPodTerminating(pod)) {
        if (auto s = deletePod(sts, pod, ""); !s.ok()) return failed(s.error());
        break;
      }
      if (!healthy(pod)) break;
    }
  }
  if (auto s = truncateHistory(sts, *revs); !s.ok()) return failed(s.error());

  auto w = writeStatus(ctx_.client, res::kStatefulSets, sts, status);
  if (!w.ok()) return failed(w.error());
  rw_.wrote(*ctx_.informers.statefulSets, *w);
  if (nextAvailable) return requeueAt(ctx_.clock, *nextAvailable);
  return ReconcileResult::ok();
}

}  // namespace sdb::workloads
