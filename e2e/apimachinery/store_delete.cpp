// Store: deletion with kube-apiserver's propagation policies (Background, Foreground, Orphan) and
// the first half of namespace termination (the collector in store_gc.cpp does the rest).
#include <algorithm>

#include "e2e/apimachinery/store_impl.h"

namespace sdb::apimachinery {

using kube::KResult;
using WT = kube::WatchEvent::Type;

namespace {

const char* kOrphan = "orphan";
const char* kForeground = "foregroundDeletion";

bool isNamespace(const ResourceInfo& info) { return info.ref.group.empty() && info.ref.resource == "namespaces"; }

std::vector<std::string> strings(const Json* list) {
  std::vector<std::string> out;
  if (list && list->is_array()) {
    for (const auto& v : *list) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

}  // namespace

bool hasFinalizers(const Json& obj, const ResourceInfo& info) {
  if (!strings(jsonAt(obj, {"metadata", "finalizers"})).empty()) return true;
  return isNamespace(info) && !strings(jsonAt(obj, {"spec", "finalizers"})).empty();
}

KResult<Json> Store::remove(const kube::ResourceRef& r, const std::string& urlNs, const std::string& name,
                            const kube::DeleteOptions& opts, RequestContext* ctx) {
  auto resolved = resolve(r.group, r.version, r.resource);
  if (!resolved.ok()) return resolved.error();
  const ResourceInfo& info = *resolved;
  const std::string& p = opts.propagationPolicy;
  if (!p.empty() && p != "Foreground" && p != "Background" && p != "Orphan") {
    return kube::invalidError("DeleteOptions", "meta.k8s.io", "",
                              {{"FieldValueNotSupported",
                                "Unsupported value: \"" + p + "\": supported values: \"Foreground\", \"Background\", \"Orphan\"",
                                "propagationPolicy"}});
  }
  const std::string ns = info.ref.namespaced ? urlNs : "";
  std::lock_guard<std::mutex> lock(impl_->mu);
  const std::string key = Impl::key(info, ns, name);
  if (!impl_->objects.count(key)) return kube::notFoundError(info.ref.resource, info.ref.group, name);
  if (isNamespace(info) && (name == "default" || name == "kube-system" || name == "kube-public")) {
    // The NamespaceLifecycle admission plugin's immortal namespaces.
    kube::ApiError e = kube::fromHttpResponse(403, "");
    e.reason = kube::ApiErrorReason::kForbidden;
    e.message = "namespaces \"" + name + "\" is forbidden: this namespace may not be deleted";
    e.name = name;
    e.kind = "namespaces";
    return e;
  }
  return impl_->removeLocked(info, key, opts, ctx);
}

KResult<Json> Store::Impl::removeLocked(const ResourceInfo& info, const std::string& key, const kube::DeleteOptions& opts,
                                        RequestContext* ctx) {
  Json obj = objects.at(key);
  const std::string name = jsonString(obj, {"metadata", "name"});
  const std::string uid = jsonString(obj, {"metadata", "uid"}), rv = jsonString(obj, {"metadata", "resourceVersion"});
  if (opts.preconditionUid && *opts.preconditionUid != uid) {
    return kube::conflictError(info.ref.resource, info.ref.group, name,
                               "Precondition failed: UID in precondition: " + *opts.preconditionUid + ", UID in object meta: " + uid);
  }
  if (opts.preconditionResourceVersion && *opts.preconditionResourceVersion != rv) {
    return kube::conflictError(info.ref.resource, info.ref.group, name,
                               "Precondition failed: ResourceVersion in precondition: " + *opts.preconditionResourceVersion +
                                   ", ResourceVersion in object meta: " + rv);
  }
  if (opts.dryRun) return obj;

  // The garbage collector's finalizers, as the request's policy (or else the object's existing
  // ones, or else the kind's default) asks for them.
  const std::vector<std::string> current = strings(jsonAt(obj, {"metadata", "finalizers"}));
  const bool hadOrphan = std::count(current.begin(), current.end(), kOrphan) > 0;
  const bool hadForeground = std::count(current.begin(), current.end(), kForeground) > 0;
  bool orphan = false, foreground = false;
  if (opts.propagationPolicy == "Orphan") {
    orphan = true;
  } else if (opts.propagationPolicy == "Foreground") {
    foreground = true;
  } else if (opts.propagationPolicy.empty()) {
    if (hadOrphan) orphan = true;
    else if (hadForeground) foreground = true;
    else if (info.ref.group == "batch" && info.ref.resource == "jobs") {
      orphan = true;  // batch/v1 Jobs keep their pods unless told otherwise
      if (ctx) {
        ctx->warnings.push_back("child pods are preserved by default when jobs are deleted; set propagationPolicy=Background "
                                "to remove them or set propagationPolicy=Orphan to suppress this warning");
      }
    }
  }
  std::vector<std::string> finalizers;
  for (const auto& f : current) {
    if (f != kOrphan && f != kForeground) finalizers.push_back(f);
  }
  if (orphan) finalizers.push_back(kOrphan);
  if (foreground) finalizers.push_back(kForeground);

  const Json old = obj;
  Json& meta = obj["metadata"];
  const bool deleting = meta.contains("deletionTimestamp");
  auto markDeleting = [&] {
    if (!finalizers.empty()) meta["finalizers"] = finalizers;
    else meta.erase("finalizers");
    if (!deleting) {
      meta["deletionTimestamp"] = formatRfc3339(clock->now());
      meta["deletionGracePeriodSeconds"] = 0;
      if (info.hasSpec) meta["generation"] = meta.value("generation", int64_t{0}) + 1;
    }
    if (obj == old) return KResult<Json>(obj);
    return commitPut(info, key, std::move(obj), WT::kModified, &old);
  };
  if (isNamespace(info)) {
    // The first deletion starts termination; the collector empties the namespace, removes its
    // "kubernetes" finalizer and then deletes it.
    if (!deleting || hasFinalizers(old, info)) {
      obj["status"]["phase"] = "Terminating";
      return markDeleting();
    }
  }
  if (!finalizers.empty()) return markDeleting();

  auto deleted = commitDelete(info, key, std::move(obj));
  if (deleted.ok() && info.ref.resource == "customresourcedefinitions") {
    // The CRD's objects go with it.
    const std::string group = jsonString(*deleted, {"spec", "group"});
    const std::string plural = jsonString(*deleted, {"spec", "names", "plural"});
    for (const auto& ci : registry->all()) {
      if (!ci.crd || ci.ref.group != group || ci.ref.resource != plural) continue;
      const std::string prefix = Impl::prefix(ci, "");
      std::vector<std::pair<std::string, Json>> doomed;
      for (auto o = objects.lower_bound(prefix); o != objects.end() && o->first.rfind(prefix, 0) == 0; ++o) {
        doomed.emplace_back(o->first, o->second);
      }
      for (auto& [k, o] : doomed) (void)commitDelete(ci, k, std::move(o));
      break;
    }
    registry->removeCrd(name);
  }
  return deleted;
}

}  // namespace sdb::apimachinery
