// StatefulSet: ControllerRevisions (the template history) and the claims of each ordinal.
#include <algorithm>
#include <set>

#include "e2e/workloads/pod_util.h"
#include "e2e/workloads/statefulset.h"
#include "operator/runtime/object_helpers.h"

namespace sdb::workloads {

namespace res = kube::resources;

namespace {

Json templateOfRevision(const Json& rev) {
  Json t = jsonAt(rev, {"data", "spec", "template"}) ? rev["data"]["spec"]["template"] : Json::object();
  t.erase("$patch");
  return t;
}

int64_t revisionNumber(const ObjectPtr& r) { return r->value("revision", int64_t{0}); }

}  // namespace

kube::KResult<StatefulSetController::Revisions> StatefulSetController::syncRevisions(const Json& sts) {
  const std::string ns = jsonString(sts, {"metadata", "namespace"});
  const std::string name = jsonString(sts, {"metadata", "name"});
  auto all = controlledBy(*ctx_.informers.controllerRevisions, jsonString(sts, {"metadata", "uid"}));
  const Json tmpl = sts["spec"].value("template", Json::object());
  const std::string hash = templateHash(tmpl, intAt(sts, {"status", "collisionCount"}, 0));
  Revisions out;
  out.updateName = name + "-" + hash;
  out.updateTemplate = tmpl;
  int64_t maxRevision = 0;
  ObjectPtr existing;
  for (const auto& r : all) {
    maxRevision = std::max(maxRevision, revisionNumber(r));
    if (jsonString(*r, {"metadata", "name"}) == out.updateName) existing = r;
  }
  if (!existing) {
    Json data_tmpl = tmpl;
    data_tmpl["$patch"] = "replace";
    Json labels = jsonAt(tmpl, {"metadata", "labels"}) ? tmpl["metadata"]["labels"] : Json::object();
    labels["controller.kubernetes.io/hash"] = hash;
    Json rev = {{"apiVersion", "apps/v1"},
                {"kind", "ControllerRevision"},
                {"metadata", {{"name", out.updateName}, {"namespace", ns}, {"labels", labels}}},
                {"data", {{"spec", {{"template", data_tmpl}}}}},
                {"revision", maxRevision + 1}};
    runtime::setControllerReference(sts, rev);
    auto c = ctx_.client.create(res::kControllerRevisions, ns, rev);
    if (!c.ok() && !c.error().is(kube::ApiErrorReason::kAlreadyExists)) return c.error();
    if (c.ok()) rw_.wrote(*ctx_.informers.controllerRevisions, *c);
  } else if (revisionNumber(existing) < maxRevision) {
    // Rolling back to an earlier template makes that revision the newest again.
    Json bumped = *existing;
    bumped["revision"] = maxRevision + 1;
    auto u = ctx_.client.update(res::kControllerRevisions, ns, bumped);
    if (!u.ok()) return u.error();
    rw_.wrote(*ctx_.informers.controllerRevisions, *u);
  }
  out.currentName = jsonString(sts, {"status", "currentRevision"});
  out.currentTemplate = tmpl;
  bool found = false;
  for (const auto& r : all) {
    if (jsonString(*r, {"metadata", "name"}) == out.currentName) {
      out.currentTemplate = templateOfRevision(*r);
      found = true;
    }
  }
  if (!found) out.currentName = out.updateName;
  return out;
}

kube::KStatus StatefulSetController::truncateHistory(const Json& sts, const Revisions& revs) {
  auto all = controlledBy(*ctx_.informers.controllerRevisions, jsonString(sts, {"metadata", "uid"}));
  std::set<std::string> live = {revs.currentName, revs.updateName};
  for (const auto& p : ownedPods(sts)) live.insert(jsonString(*p, {"metadata", "labels", "controller-revision-hash"}));
  std::vector<ObjectPtr> history;
  for (const auto& r : all) {
    if (!live.count(jsonString(*r, {"metadata", "name"}))) history.push_back(r);
  }
  const int64_t limit = intAt(sts, {"spec", "revisionHistoryLimit"}, 10);
  if (static_cast<int64_t>(history.size()) <= limit) return {};
  std::sort(history.begin(), history.end(), [](const ObjectPtr& a, const ObjectPtr& b) { return revisionNumber(a) < revisionNumber(b); });
  for (size_t i = 0; i < history.size() - static_cast<size_t>(limit); ++i) {
    auto d = deleteExact(ctx_.client, res::kControllerRevisions, *history[i]);
    if (!d.ok()) return d.error();
    rw_.wrote(*ctx_.informers.controllerRevisions, *d);
  }
  return {};
}

kube::KStatus StatefulSetController::ensureClaims(const Json& sts, int64_t ordinal, const Json* pod, bool condemned) {
  const Json* templates = jsonAt(sts, {"spec"});
  if (!templates || !templates->contains("volumeClaimTemplates") || !(*templates)["volumeClaimTemplates"].is_array()) {
    return {};
  }
  const std::string ns = jsonString(sts, {"metadata", "namespace"});
  const std::string name = jsonString(sts, {"metadata", "name"});
  const std::string whenDeleted = jsonString(sts, {"spec", "persistentVolumeClaimRetentionPolicy", "whenDeleted"}, "Retain");
  const std::string whenScaled = jsonString(sts, {"spec", "persistentVolumeClaimRetentionPolicy", "whenScaled"}, "Retain");
  const std::string stsUid = jsonString(sts, {"metadata", "uid"});
  const std::string podUid = pod ? jsonString(*pod, {"metadata", "uid"}) : "";
  // The owners a claim should have under the retention policy (kube's updateClaimOwnerRefForSetAndPod).
  auto wantedRefs = [&](const Json& current) {
    Json refs = Json::array();
    if (current.is_array()) {
      for (const auto& r : current) {
        const std::string uid = r.value("uid", "");
        if (uid == stsUid && whenDeleted != "Delete") continue;
        if (!podUid.empty() && uid == podUid && !(condemned && whenScaled == "Delete")) continue;
        refs.push_back(r);
      }
    }
    auto has = [&](const std::string& uid) {
      return std::any_of(refs.begin(), refs.end(), [&](const Json& r) { return r.value("uid", "") == uid; });
    };
    if (whenDeleted == "Delete" && !has(stsUid)) {
      refs.push_back({{"apiVersion", "apps/v1"}, {"kind", "StatefulSet"}, {"name", name}, {"uid", stsUid}});
    }
    if (condemned && whenScaled == "Delete" && pod && !has(podUid)) {
      refs.push_back({{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", jsonString(*pod, {"metadata", "name"})}, {"uid", podUid}});
    }
    return refs;
  };
  for (const auto& t : (*templates)["volumeClaimTemplates"]) {
    const std::string claimName = jsonString(t, {"metadata", "name"}) + "-" + name + "-" + std::to_string(ordinal);
    ObjectPtr existing = ctx_.informers.claims->get(ns, claimName);
    if (existing) {
      if (isPodTerminating(*existing)) {
        return kube::conflictError("persistentvolumeclaims", "", claimName, "the claim is being deleted");
      }
      const Json current = (*existing)["metadata"].value("ownerReferences", Json::array());
      const Json refs = wantedRefs(current);
      if (refs != current) {
        Json updated = *existing;
        if (refs.empty()) updated["metadata"].erase("ownerReferences");
        else updated["metadata"]["ownerReferences"] = refs;
        auto u = ctx_.client.update(res::kPersistentVolumeClaims, ns, updated);
        if (!u.ok()) return u.error();
        rw_.wrote(*ctx_.informers.claims, *u);
      }
      continue;
    }
    if (condemned) continue;
    Json labels = jsonAt(t, {"metadata", "labels"}) ? t["metadata"]["labels"] : Json::object();
    if (const Json* ml = jsonAt(sts, {"spec", "selector", "matchLabels"}); ml && ml->is_object()) {
      for (auto it = ml->begin(); it != ml->end(); ++it) labels[it.key()] = it.value();
    }
    Json claim = {{"apiVersion", "v1"},
                  {"kind", "PersistentVolumeClaim"},
                  {"metadata", {{"name", claimName}, {"namespace", ns}}},
                  {"spec", t.value("spec", Json::object())}};
    if (!labels.empty()) claim["metadata"]["labels"] = labels;
    if (const Json* a = jsonAt(t, {"metadata", "annotations"}); a && a->is_object()) claim["metadata"]["annotations"] = *a;
    const Json refs = wantedRefs(Json::array());
    if (!refs.empty()) claim["metadata"]["ownerReferences"] = refs;
    auto c = ctx_.client.create(res::kPersistentVolumeClaims, ns, claim);
    const std::string podName = name + "-" + std::to_string(ordinal);
    if (!c.ok() && !c.error().is(kube::ApiErrorReason::kAlreadyExists)) {
      events_.event(sts, "Warning", "FailedCreate", "create Claim " + claimName + " for Pod " + podName + " in StatefulSet " +
                                                        name + " failed error: " + c.error().message);
      return c.error();
    }
    if (c.ok()) {
      rw_.wrote(*ctx_.informers.claims, *c);
      events_.event(sts, "Normal", "SuccessfulCreate",
                    "create Claim " + claimName + " Pod " + podName + " in StatefulSet " + name + " success");
    }
  }
  return {};
}

}  // namespace sdb::workloads
