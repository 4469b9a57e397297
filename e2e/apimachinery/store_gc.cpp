// Store: garbage collection through ownerReferences and namespace termination, as
// kube-controller-manager's garbage collector and namespace controller carry them out:
// - an owner deleted with Orphan (finalizer "orphan"): its dependents lose their ownerReference to
//   it, then the finalizer goes;
// - a dependent whose owners are all gone (absent, or another object under the same name) is
//   deleted; one with a remaining owner only loses the dangling references;
// - an owner deleted with Foreground (finalizer "foregroundDeletion"): its dependents are deleted
//   (in the foreground themselves when they have dependents); the finalizer goes once no dependent
//   with blockOwnerDeletion remains;
// - an owner that is being deleted but still exists (other finalizers) keeps its dependents;
// - a terminating namespace: everything in it is deleted (finalizers respected), its conditions
//   say what remains, then its "kubernetes" finalizer goes and the namespace with it.
// Writes go through the ordinary write paths (watch events, managedFields under
// "kube-controller-manager").
#include <algorithm>

#include "e2e/apimachinery/store_impl.h"

namespace sdb::apimachinery {

namespace {

const char* kOrphan = "orphan";
const char* kForeground = "foregroundDeletion";
const char* kManager = "kube-controller-manager";

bool hasFinalizer(const Json& obj, const std::string& f) {
  const Json* list = jsonAt(obj, {"metadata", "finalizers"});
  return list && list->is_array() && std::find(list->begin(), list->end(), Json(f)) != list->end();
}

Json withoutFinalizer(Json obj, const std::string& f) {
  Json& list = obj["metadata"]["finalizers"];
  list.erase(std::remove(list.begin(), list.end(), Json(f)), list.end());
  if (list.empty()) obj["metadata"].erase("finalizers");
  return obj;
}

bool deleting(const Json& obj) { return jsonAt(obj, {"metadata", "deletionTimestamp"}) != nullptr; }

std::string groupOf(const std::string& apiVersion) {
  const size_t slash = apiVersion.find('/');
  return slash == std::string::npos ? "" : apiVersion.substr(0, slash);
}

}  // namespace

size_t Store::collectGarbage() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->collectGarbageLocked();
}

bool Store::waitForGarbage(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->gcWake.wait_for(lock, timeout, [&] { return impl_->gcDirty; });
  const bool dirty = impl_->gcDirty;
  impl_->gcDirty = false;
  return dirty;
}

size_t Store::Impl::collectGarbageLocked() {
  size_t writes = 0;
  kube::WriteOptions asController;
  asController.fieldManager = kManager;

  // The resource of a stored object, in the version it is stored in.
  auto infoOf = [&](const std::string& key, const Json& obj) -> std::optional<ResourceInfo> {
    const size_t a = key.find('/'), b = key.find('/', a + 1);
    const std::string group = key.substr(0, a), resource = key.substr(a + 1, b - a - 1);
    const std::string apiVersion = obj.value("apiVersion", "");
    const std::string version = apiVersion.substr(apiVersion.find('/') == std::string::npos ? 0 : apiVersion.find('/') + 1);
    if (auto i = registry->byResource(group, version, resource)) return i;
    for (const auto& i : registry->all()) {
      if (i.ref.group == group && i.ref.resource == resource) return i;
    }
    return std::nullopt;
  };
  auto update = [&](const std::string& key, Json next, const std::string& subresource = "") {
    auto it = objects.find(key);
    if (it == objects.end()) return;
    const Json old = it->second;
    auto info = infoOf(key, old);
    if (info && replaceLocked(*info, key, old, std::move(next), asController, subresource, nullptr, false).ok()) ++writes;
  };
  auto remove = [&](const std::string& key, const std::string& policy) {
    auto it = objects.find(key);
    if (it == objects.end()) return;
    auto info = infoOf(key, it->second);
    kube::DeleteOptions o;
    o.propagationPolicy = policy;
    o.preconditionUid = jsonString(it->second, {"metadata", "uid"});
    if (info && removeLocked(*info, key, o, nullptr).ok()) ++writes;
  };

  // Who depends on whom, by uid.
  std::map<std::string, std::vector<std::string>> dependents;
  std::vector<std::string> keys;
  for (const auto& [key, obj] : objects) {
    keys.push_back(key);
    if (const Json* refs = jsonAt(obj, {"metadata", "ownerReferences"}); refs && refs->is_array()) {
      for (const auto& r : *refs) {
        if (r.is_object() && r.contains("uid") && r["uid"].is_string()) dependents[r["uid"].get<std::string>()].push_back(key);
      }
    }
  }
  auto dependentsOf = [&](const Json& owner) {
    std::vector<std::string> out;
    const std::string uid = jsonString(owner, {"metadata", "uid"});
    if (auto d = dependents.find(uid); d != dependents.end()) {
      for (const auto& k : d->second) {
        if (objects.count(k)) out.push_back(k);
      }
    }
    return out;
  };

  // 1. Orphaning owners release their dependents, then their finalizer.
  for (const auto& key : keys) {
    auto it = objects.find(key);
    if (it == objects.end() || !deleting(it->second) || !hasFinalizer(it->second, kOrphan)) continue;
    const Json owner = it->second;
    const std::string uid = jsonString(owner, {"metadata", "uid"});
    for (const auto& dk : dependentsOf(owner)) {
      Json dep = objects.at(dk);
      Json& refs = dep["metadata"]["ownerReferences"];
      refs.erase(std::remove_if(refs.begin(), refs.end(), [&](const Json& r) { return r.value("uid", "") == uid; }), refs.end());
      if (refs.empty()) dep["metadata"].erase("ownerReferences");
      update(dk, std::move(dep));
    }
    update(key, withoutFinalizer(owner, kOrphan));
  }

  // 2. Dependents whose owners are gone or deleting theirs in the foreground.
  for (const auto& key : keys) {
    auto it = objects.find(key);
    if (it == objects.end() || deleting(it->second)) continue;
    const Json obj = it->second;
    const Json* refs = jsonAt(obj, {"metadata", "ownerReferences"});
    if (!refs || !refs->is_array() || refs->empty()) continue;
    const std::string ns = jsonString(obj, {"metadata", "namespace"});
    std::vector<std::string> solid, dangling, waiting;  // by uid
    for (const auto& r : *refs) {
      const std::string uid = r.value("uid", "");
      auto ownerInfo = registry->byKind(groupOf(r.value("apiVersion", "")), r.value("kind", ""));
      if (!ownerInfo) {
        solid.push_back(uid);  // a kind nobody serves: unresolvable, so never collected
        continue;
      }
      if (ownerInfo->ref.namespaced && ns.empty()) {
        dangling.push_back(uid);  // a cluster-scoped object cannot have a namespaced owner
        continue;
      }
      auto o = objects.find(Impl::key(*ownerInfo, ownerInfo->ref.namespaced ? ns : "", r.value("name", "")));
      if (o == objects.end() || jsonString(o->second, {"metadata", "uid"}) != uid) dangling.push_back(uid);
      else if (deleting(o->second) && hasFinalizer(o->second, kForeground)) waiting.push_back(uid);
      else solid.push_back(uid);
    }
    if (dangling.empty() && waiting.empty()) continue;
    if (!solid.empty()) {
      // Still owned: only the references to owners that are gone (or waiting on it) go.
      Json next = obj;
      Json& r = next["metadata"]["ownerReferences"];
      r.erase(std::remove_if(r.begin(), r.end(),
                             [&](const Json& x) {
                               const std::string uid = x.value("uid", "");
                               return std::count(dangling.begin(), dangling.end(), uid) ||
                                      std::count(waiting.begin(), waiting.end(), uid);
                             }),
              r.end());
      update(key, std::move(next));
      continue;
    }
    std::string policy = "Background";
    if (!waiting.empty() && !dependentsOf(obj).empty()) policy = "Foreground";
    else if (hasFinalizer(obj, kOrphan)) policy = "Orphan";
    else if (hasFinalizer(obj, kForeground)) policy = "Foreground";
    remove(key, policy);
  }

  // 3. Foreground owners go once no dependent blocks them.
  for (const auto& key : keys) {
    auto it = objects.find(key);
    if (it == objects.end() || !deleting(it->second) || !hasFinalizer(it->second, kForeground)) continue;
    const Json owner = it->second;
    const std::string uid = jsonString(owner, {"metadata", "uid"});
    bool blocked = false;
    for (const auto& dk : dependentsOf(owner)) {
      for (const auto& r : objects.at(dk)["metadata"]["ownerReferences"]) {
        if (r.value("uid", "") == uid && r.value("blockOwnerDeletion", false)) blocked = true;
      }
    }
    if (!blocked) update(key, withoutFinalizer(owner, kForeground));
  }

  // 4. Terminating namespaces: delete the contents, report what remains, then finish.
  for (const auto& key : keys) {
    if (key.rfind("/namespaces/", 0) != 0) continue;
    auto it = objects.find(key);
    if (it == objects.end() || !deleting(it->second)) continue;
    const std::string ns = jsonString(it->second, {"metadata", "name"});
    std::vector<std::string> content;
    for (const auto& [k, o] : objects) {
      if (jsonString(o, {"metadata", "namespace"}) == ns && k.rfind("/namespaces/", 0) != 0) content.push_back(k);
    }
    for (const auto& k : content) {
      if (objects.count(k) && !deleting(objects.at(k))) remove(k, "Background");
    }
    std::map<std::string, int> remaining, finalizers;  // by group-resource / by finalizer
    for (const auto& k : content) {
      auto o = objects.find(k);
      if (o == objects.end()) continue;
      const size_t a = k.find('/'), b = k.find('/', a + 1);
      const std::string group = k.substr(0, a), resource = k.substr(a + 1, b - a - 1);
      ++remaining[group.empty() ? resource : resource + "." + group];
      if (const Json* f = jsonAt(o->second, {"metadata", "finalizers"}); f && f->is_array()) {
        for (const auto& x : *f) {
          if (x.is_string()) ++finalizers[x.get<std::string>()];
        }
      }
    }
    const Json nsObj = objects.at(key);
    if (remaining.empty()) {
      const Json* specFinalizers = jsonAt(nsObj, {"spec", "finalizers"});
      if (specFinalizers && specFinalizers->is_array() && !specFinalizers->empty()) {
        Json next = nsObj;
        Json& f = next["spec"]["finalizers"];
        f.erase(std::remove(f.begin(), f.end(), Json("kubernetes")), f.end());
        update(key, std::move(next), "finalize");
      }
      if (objects.count(key) && !hasFinalizers(objects.at(key), *infoOf(key, nsObj))) remove(key, "");
      continue;
    }
    std::string contentMsg, finalizerMsg;
    for (const auto& [gr, n] : remaining) contentMsg += (contentMsg.empty() ? "" : ", ") + gr + " has " + std::to_string(n) + " resource instances";
    for (const auto& [f, n] : finalizers) finalizerMsg += (finalizerMsg.empty() ? "" : ", ") + f + " in " + std::to_string(n) + " resource instances";
    auto cond = [](const char* type, bool status, const char* reason, const std::string& message) {
      return Json{{"type", type}, {"status", status ? "True" : "False"}, {"reason", reason}, {"message", message}};
    };
    Json conditions = Json::array({
        cond("NamespaceDeletionDiscoveryFailure", false, "ResourcesDiscovered", "All resources successfully discovered"),
        cond("NamespaceDeletionGroupVersionParsingFailure", false, "ParsedGroupVersions", "All legacy kube types successfully parsed"),
        cond("NamespaceDeletionContentFailure", false, "ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
        cond("NamespaceContentRemaining", true, "SomeResourcesRemain", "Some resources are remaining: " + contentMsg),
        finalizers.empty() ? cond("NamespaceFinalizersRemaining", false, "ContentHasNoFinalizers", "All content-preserving finalizers finished")
                           : cond("NamespaceFinalizersRemaining", true, "SomeFinalizersRemain",
                                  "Some content in the namespace has finalizers remaining: " + finalizerMsg),
    });
    // Transition times move only when a condition's status does.
    const std::string now = formatRfc3339(clock->now());
    const Json* before = jsonAt(nsObj, {"status", "conditions"});
    for (auto& c : conditions) {
      c["lastTransitionTime"] = now;
      if (before && before->is_array()) {
        for (const auto& b : *before) {
          if (b.value("type", "") == c["type"] && b.value("status", "") == c["status"] && b.contains("lastTransitionTime")) {
            c["lastTransitionTime"] = b["lastTransitionTime"];
          }
        }
      }
    }
    if (before && *before == conditions) continue;
    Json next = nsObj;
    next["status"]["conditions"] = std::move(conditions);
    update(key, std::move(next), "status");
  }
  return writes;
}

}  // namespace sdb::apimachinery
