// Store: writes (create, update, patch, delete) and admission of what is written.
#include <algorithm>

#include "e2e/apimachinery/builtin_admission.h"
#include "e2e/apimachinery/builtin_rules.h"
#include "e2e/apimachinery/managed_fields.h"
#include "e2e/apimachinery/pod_security.h"
#include "e2e/apimachinery/store_impl.h"

namespace sdb::apimachinery {

using kube::ApiError;
using kube::KResult;
using WT = kube::WatchEvent::Type;

namespace {

ApiError badRequest(const std::string& m) { return kube::badRequestError(m); }

ApiError invalid(const ResourceInfo& info, const std::string& name, std::vector<kube::StatusCause> causes) {
  return kube::invalidError(info.ref.kind, info.ref.group, name, std::move(causes));
}

std::vector<kube::StatusCause> toCauses(const std::vector<schema::FieldError>& errors) {
  std::vector<kube::StatusCause> out;
  for (const auto& e : errors) out.push_back({e.type, e.message, e.field});
  return out;
}

Json specPart(const Json& o, bool statusSubresource) {
  Json c = o;
  c.erase("metadata");
  if (statusSubresource) c.erase("status");
  return c;
}

void addWarnings(RequestContext* ctx, const std::vector<std::string>& w) {
  if (ctx) ctx->warnings.insert(ctx->warnings.end(), w.begin(), w.end());
}

}  // namespace


KResult<Admitted> admit(const ResourceInfo& info, Json obj, const Json* old, const kube::WriteOptions& opts,
                        const std::string& name) {
  Admitted out;
  if (info.crd) {
    const schema::CrdVersion* v = info.crd->version(info.ref.version);
    std::vector<std::string> pruned;
    v->schema->prune(obj, &pruned);
    if (!pruned.empty() && opts.fieldValidation == "Strict") {
      std::string msg = "strict decoding error: ";
      for (size_t i = 0; i < pruned.size(); ++i) msg += (i ? ", " : "") + std::string("unknown field \"") + pruned[i] + "\"";
      return badRequest(msg);
    }
    if (opts.fieldValidation != "Ignore") {
      for (const auto& p : pruned) out.warnings.push_back("unknown field \"" + p + "\"");
    }
    v->schema->applyDefaults(obj);
    auto errors = v->schema->validate(obj);
    if (!errors.empty()) return invalid(info, name, toCauses(errors));
  } else if (info.ref.resource != "customresourcedefinitions") {
    defaultBuiltin(info, obj, old == nullptr);
    auto causes = validateBuiltin(info, obj, old == nullptr);
    if (!causes.empty()) return invalid(info, name, std::move(causes));
  } else {
    auto crd = schema::Crd::fromJson(obj);
    if (!crd.ok()) {
      return invalid(info, name, {{"FieldValueInvalid", crd.error().message, "spec"}});
    }
    if (old) {
      const std::string oldScope = jsonString(*old, {"spec", "scope"});
      if (oldScope != crd->scope) {
        return invalid(info, name, {{"FieldValueInvalid", "Invalid value: \"" + crd->scope + "\": field is immutable", "spec.scope"}});
      }
    }
  }
  if (!info.crd) normalizeBuiltin(info, obj);
  out.object = std::move(obj);
  return out;
}

void setCrdStatus(Json& obj, const std::string& now) {
  const Json& names = obj["spec"]["names"];
  Json conditions = Json::array();
  for (const char* type : {"NamesAccepted", "Established"}) {
    conditions.push_back({{"type", type}, {"status", "True"}, {"lastTransitionTime", now},
                          {"reason", std::string(type) == "Established" ? "InitialNamesAccepted" : "NoConflicts"},
                          {"message", std::string(type) == "Established" ? "the initial names have been accepted"
                                                                           : "no conflicts found"}});
  }
  Json stored = Json::array();
  for (const auto& v : obj["spec"]["versions"]) {
    if (v.value("storage", false)) stored.push_back(v["name"]);
  }
  obj["status"] = {{"conditions", conditions}, {"acceptedNames", names}, {"storedVersions", stored}};
}


FieldManagerScope fieldManagerScope(const ResourceInfo& info, const std::string& subresource, const std::string& now,
                                    const std::string& ns, const std::string& name) {
  FieldManagerScope s;
  s.type = schemaFor(info);
  s.apiVersion = info.ref.apiVersion();
  s.kind = info.ref.kind;
  s.subresource = subresource;
  s.statusSubresource = info.statusSubresource;
  s.now = now;
  s.objectName = ns + "/" + name;
  s.emptyObject = emptyObjectFor(info);
  return s;
}

namespace {

Json withoutManagedFields(Json o) {
  if (o.contains("metadata") && o["metadata"].is_object()) o["metadata"].erase("managedFields");
  return o;
}

void setManagedFields(Json& obj, Json managed) {
  if (managed.is_null()) obj["metadata"].erase("managedFields");
  else obj["metadata"]["managedFields"] = std::move(managed);
}

}  // namespace

kube::ApiError fieldManagerError(const char* optionsKind, const std::vector<kube::StatusCause>& causes) {
  return kube::invalidError(optionsKind, "meta.k8s.io", "", causes);
}

KResult<Json> Store::create(const kube::ResourceRef& r, const std::string& urlNs, Json obj, const kube::WriteOptions& opts,
                            RequestContext* ctx) {
  auto resolved = resolve(r.group, r.version, r.resource);
  if (!resolved.ok()) return resolved.error();
  if (!obj.is_object()) return badRequest("the body of the request was not a JSON object");
  if (auto causes = validateFieldManager(opts.fieldManager, false); !causes.empty()) {
    return fieldManagerError("CreateOptions", causes);
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->createLocked(*resolved, urlNs, std::move(obj), opts, ctx, false);
}

KResult<Json> Store::Impl::createLocked(const ResourceInfo& info, const std::string& urlNs, Json obj,
                                        const kube::WriteOptions& opts, RequestContext* ctx, bool applied) {
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = Json::object();
  Json& meta = obj["metadata"];
  const std::string ns = info.ref.namespaced ? urlNs : "";
  if (info.ref.namespaced) {
    const std::string bodyNs = jsonString(obj, {"metadata", "namespace"});
    if (!bodyNs.empty() && bodyNs != ns) {
      return badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    meta["namespace"] = ns;
  } else {
    meta.erase("namespace");
  }
  obj["apiVersion"] = info.ref.apiVersion();
  obj["kind"] = info.ref.kind;
  std::string name = meta.value("name", "");
  if (name.empty()) {
    const std::string gen = meta.value("generateName", "");
    if (gen.empty()) {
      return invalid(info, "", {{"FieldValueRequired", "Required value: name or generateName is required", "metadata.name"}});
    }
    static const std::string alphabet = "bcdfghjklmnpqrstvwxz2456789";
    name = gen + random->string(5, alphabet).valueOr("xxxxx");
    meta["name"] = name;
  }
  for (const char* f : {"uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                        "generation", "selfLink"}) {
    meta.erase(f);
  }
  meta["uid"] = newUid();  // before admission: a Job's generated selector names it
  if (info.statusSubresource && info.ref.resource != "namespaces" && info.ref.resource != "services") obj.erase("status");
  Json sentManagedFields = meta.contains("managedFields") ? meta["managedFields"] : Json(nullptr);
  auto admitted = admit(info, withoutManagedFields(std::move(obj)), nullptr, opts, name);
  if (!admitted.ok()) return admitted.error();
  addWarnings(ctx, admitted->warnings);
  obj = std::move(admitted->object);

  if (info.ref.namespaced) {
    auto nsInfo = registry->byResource("", "v1", "namespaces");
    auto nsObj = objects.find(Impl::key(*nsInfo, "", ns));
    if (nsObj == objects.end()) return kube::notFoundError("namespaces", "", ns);
    if (jsonAt(nsObj->second, {"metadata", "deletionTimestamp"})) {
      // The NamespaceLifecycle admission plugin's answer.
      kube::ApiError e = kube::fromHttpResponse(403, "");
      e.reason = kube::ApiErrorReason::kForbidden;
      e.message = info.ref.groupResource() + " \"" + name + "\" is forbidden: unable to create new content in namespace " + ns +
                  " because it is being terminated";
      e.name = name;
      e.group = info.ref.group;
      e.kind = info.ref.resource;
      e.causes = {{"NamespaceTerminating", "namespace " + ns + " is being terminated", "metadata.namespace"}};
      return e;
    }
    // The PodSecurity admission plugin (pod_security.h): enforce rejects pods, warn warns.
    auto podSecurity = admitPodSecurity(info, obj, nsObj->second);
    if (podSecurity.denied) return *podSecurity.denied;
    addWarnings(ctx, podSecurity.warnings);
  }
  const std::string key = Impl::key(info, ns, name);
  if (objects.count(key)) return kube::alreadyExistsError(info.ref.resource, info.ref.group, name);
  const std::string now = formatRfc3339(clock->now());
  Json& m = obj["metadata"];
  m["creationTimestamp"] = now;
  if (info.hasSpec) m["generation"] = 1;
  // Built-in defaults that clients rely on.
  if (info.ref.resource == "namespaces") {
    obj["status"] = {{"phase", "Active"}};
    if (!jsonAt(obj, {"spec", "finalizers"})) obj["spec"]["finalizers"] = {"kubernetes"};
  } else if (info.ref.resource == "services") {
    Json& spec = obj["spec"];
    if (!spec.contains("type")) spec["type"] = "ClusterIP";
    if (spec.value("clusterIP", "") != "None") {
      std::string ip = spec.value("clusterIP", "");
      if (ip.empty()) {
        ip = allocateClusterIp();
        if (ip.empty()) {
          return invalid(info, name, {{"FieldValueInvalid", "Internal error: failed to allocate a serviceIP: range is full", "spec.clusterIPs"}});
        }
      } else if (!usedClusterIps.insert(ip).second) {
        return invalid(info, name, {{"FieldValueInvalid", "Invalid value: \"" + ip + "\": provided IP is already allocated", "spec.clusterIP"}});
      }
      spec["clusterIP"] = ip;
      spec["clusterIPs"] = {ip};
    }
    if (!spec.contains("sessionAffinity")) spec["sessionAffinity"] = "None";
    obj["status"] = {{"loadBalancer", Json::object()}};
  } else if (info.ref.resource == "pods") {
    obj["status"] = {{"phase", "Pending"}};
  } else if (info.ref.resource == "customresourcedefinitions") {
    setCrdStatus(obj, now);
  }
  if (applied) {
    setManagedFields(obj, sentManagedFields);
  } else {
    if (!sentManagedFields.is_null()) obj["metadata"]["managedFields"] = sentManagedFields;
    FieldManagerScope scope = fieldManagerScope(info, "", now, ns, name);
    setManagedFields(obj, trackUpdate(scope.emptyObject, obj, opts.fieldManager, scope, true));
  }
  if (opts.dryRun) {
    if (info.ref.resource == "services") usedClusterIps.erase(jsonString(obj, {"spec", "clusterIP"}));
    return obj;
  }
  auto stored = commitPut(info, key, std::move(obj), WT::kAdded, nullptr);
  if (stored.ok() && info.ref.resource == "customresourcedefinitions") {
    auto crd = schema::Crd::fromJson(*stored);
    if (crd.ok()) registry->addCrd(std::make_shared<const schema::Crd>(std::move(*crd)));
  }
  return stored;
}

KResult<Json> Store::update(const kube::ResourceRef& r, const std::string& urlNs, const std::string& name, Json obj,
                            const kube::WriteOptions& opts, const std::string& subresource, RequestContext* ctx) {
  auto resolved = resolve(r.group, r.version, r.resource);
  if (!resolved.ok()) return resolved.error();
  const ResourceInfo& info = *resolved;
  const bool finalize = subresource == "finalize" && info.ref.group.empty() && info.ref.resource == "namespaces";
  if (!subresource.empty() && !finalize && (subresource != "status" || !info.statusSubresource)) {
    return kube::notFoundError(info.ref.resource + "/" + subresource, info.ref.group, name);
  }
  if (!obj.is_object()) return badRequest("the body of the request was not a JSON object");
  const std::string bodyName = jsonString(obj, {"metadata", "name"});
  if (!bodyName.empty() && bodyName != name) {
    return badRequest("the name of the object (" + bodyName + ") does not match the name on the URL (" + name + ")");
  }
  if (auto causes = validateFieldManager(opts.fieldManager, false); !causes.empty()) {
    return fieldManagerError("UpdateOptions", causes);
  }
  const std::string ns = info.ref.namespaced ? urlNs : "";
  std::lock_guard<std::mutex> lock(impl_->mu);
  const std::string key = Impl::key(info, ns, name);
  auto it = impl_->objects.find(key);
  if (it == impl_->objects.end()) return kube::notFoundError(info.ref.resource, info.ref.group, name);
  const Json old = it->second;
  return impl_->replaceLocked(info, key, old, std::move(obj), opts, subresource, ctx, false);
}

KResult<Json> Store::Impl::replaceLocked(const ResourceInfo& info, const std::string& key, const Json& old, Json obj,
                                         const kube::WriteOptions& opts, const std::string& subresource,
                                         RequestContext* ctx, bool applied) {
  const std::string name = jsonString(old, {"metadata", "name"});
  const std::string bodyRv = jsonString(obj, {"metadata", "resourceVersion"});
  if (!bodyRv.empty() && bodyRv != jsonString(old, {"metadata", "resourceVersion"})) {
    return kube::conflictError(info.ref.resource, info.ref.group, name,
                               "the object has been modified; please apply your changes to the latest version and try again");
  }
  Json next;
  const bool isNamespace = info.ref.group.empty() && info.ref.resource == "namespaces";
  if (subresource == "status") {
    next = old;
    if (obj.contains("status")) next["status"] = obj["status"];
    else next.erase("status");
    if (applied) setManagedFields(next, jsonAt(obj, {"metadata", "managedFields"}) ? obj["metadata"]["managedFields"] : Json(nullptr));
  } else if (subresource == "finalize") {
    // A namespace's spec.finalizers change only through /finalize.
    next = old;
    if (const Json* f = jsonAt(obj, {"spec", "finalizers"})) next["spec"]["finalizers"] = *f;
    else if (next.contains("spec")) next["spec"].erase("finalizers");
  } else {
    next = std::move(obj);
    if (!next.contains("metadata") || !next["metadata"].is_object()) next["metadata"] = Json::object();
    if (info.statusSubresource) {
      if (old.contains("status")) next["status"] = old["status"];
      else next.erase("status");
    }
    for (const char* f : {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation",
                          "namespace", "name"}) {
      if (old["metadata"].contains(f)) next["metadata"][f] = old["metadata"][f];
      else next["metadata"].erase(f);
    }
    if (isNamespace) {
      if (const Json* f = jsonAt(old, {"spec", "finalizers"})) next["spec"]["finalizers"] = *f;
      else if (next.contains("spec") && next["spec"].is_object()) next["spec"].erase("finalizers");
    }
  }
  next["apiVersion"] = info.ref.apiVersion();
  next["kind"] = info.ref.kind;
  next["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"];
  if (info.ref.resource == "services" && old.contains("spec") && old["spec"].contains("clusterIP")) {
    const std::string want = jsonString(next, {"spec", "clusterIP"});
    if (!want.empty() && want != old["spec"]["clusterIP"].get<std::string>()) {
      return invalid(info, name, {{"FieldValueInvalid", "Invalid value: \"" + want + "\": field is immutable", "spec.clusterIP"}});
    }
    next["spec"]["clusterIP"] = old["spec"]["clusterIP"];
    if (old["spec"].contains("clusterIPs")) next["spec"]["clusterIPs"] = old["spec"]["clusterIPs"];
  }
  Json sentManagedFields = jsonAt(next, {"metadata", "managedFields"}) ? next["metadata"]["managedFields"] : Json(nullptr);
  auto admitted = admit(info, withoutManagedFields(std::move(next)), &old, opts, name);
  if (!admitted.ok()) return admitted.error();
  addWarnings(ctx, admitted->warnings);
  next = std::move(admitted->object);
  if (info.ref.resource == "customresourcedefinitions") setCrdStatus(next, jsonString(old["status"]["conditions"][0], {"lastTransitionTime"}));
  if (subresource.empty() && !info.crd) {
    auto lookup = [this](const std::string& resource, const std::string& objName) -> const Json* {
      auto sc = registry->byResource(resource == "storageclasses" ? "storage.k8s.io" : "", "v1", resource);
      if (!sc) return nullptr;
      auto it = objects.find(Impl::key(*sc, "", objName));
      return it == objects.end() ? nullptr : &it->second;
    };
    if (auto refused = checkBuiltinUpdate(info, next, old, lookup)) return *refused;
  }
  if (info.hasSpec && specPart(next, info.statusSubresource) != specPart(old, info.statusSubresource)) {
    next["metadata"]["generation"] = old["metadata"].value("generation", int64_t{0}) + 1;
  }
  if (applied) {
    setManagedFields(next, sentManagedFields);
  } else {
    if (!sentManagedFields.is_null()) next["metadata"]["managedFields"] = sentManagedFields;
    FieldManagerScope scope = fieldManagerScope(info, subresource, formatRfc3339(clock->now()), jsonString(old, {"metadata", "namespace"}), name);
    setManagedFields(next, trackUpdate(old, next, opts.fieldManager, scope, false));
  }
  // A no-op write (ownership aside from its timestamps) stores nothing and keeps the resourceVersion.
  const Json* nextFields = jsonAt(next, {"metadata", "managedFields"});
  const Json* oldFields = jsonAt(old, {"metadata", "managedFields"});
  if (withoutManagedFields(next) == withoutManagedFields(old) &&
      sameOwnership(nextFields ? *nextFields : Json(nullptr), oldFields ? *oldFields : Json(nullptr))) {
    return old;
  }
  if (opts.dryRun) return next;
  if (next["metadata"].contains("deletionTimestamp") && !hasFinalizers(next, info)) return commitDelete(info, key, std::move(next));
  auto stored = commitPut(info, key, std::move(next), WT::kModified, &old);
  if (stored.ok() && info.ref.resource == "customresourcedefinitions") {
    auto crd = schema::Crd::fromJson(*stored);
    if (crd.ok()) registry->addCrd(std::make_shared<const schema::Crd>(std::move(*crd)));
  }
  return stored;
}

}  // namespace sdb::apimachinery
