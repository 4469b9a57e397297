#include "operator/runtime/object_helpers.h"

namespace sdb::runtime {

std::string objectKey(const std::string& ns, const std::string& name) { return ns.empty() ? name : ns + "/" + name; }

std::string objectKey(const Json& obj) {
  return objectKey(jsonString(obj, {"metadata", "namespace"}), jsonString(obj, {"metadata", "name"}));
}

std::pair<std::string, std::string> splitKey(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

bool hasFinalizer(const Json& obj, const std::string& finalizer) {
  const Json* f = jsonAt(obj, {"metadata", "finalizers"});
  if (!f || !f->is_array()) return false;
  for (const auto& v : *f) {
    if (v.is_string() && v.get<std::string>() == finalizer) return true;
  }
  return false;
}

namespace {
kube::KResult<Json> patchFinalizers(kube::KubeClient& client, const kube::ResourceRef& ref, const Json& obj,
                                    const Json& finalizers, const std::string& fieldManager) {
  Json ops = Json::array();
  ops.push_back({{"op", "test"}, {"path", "/metadata/resourceVersion"},
                 {"value", jsonString(obj, {"metadata", "resourceVersion"})}});
  ops.push_back({{"op", jsonAt(obj, {"metadata", "finalizers"}) ? "replace" : "add"},
                 {"path", "/metadata/finalizers"},
                 {"value", finalizers}});
  kube::PatchOptions opts;
  opts.fieldManager = fieldManager;
  auto r = client.patch(ref, jsonString(obj, {"metadata", "namespace"}), jsonString(obj, {"metadata", "name"}),
                        kube::PatchType::kJson, dumpJson(ops), opts);
  if (!r.ok() && (r.error().is(kube::ApiErrorReason::kInvalid) || r.error().is(kube::ApiErrorReason::kBadRequest)) &&
      r.error().message.find("test") != std::string::npos) {
    // A failed `test` op means our copy was stale: report it as the conflict it is.
    auto e = r.error();
    e.reason = kube::ApiErrorReason::kConflict;
    e.httpCode = 409;
    return e;
  }
  return r;
}
}  // namespace

kube::KResult<Json> ensureFinalizer(kube::KubeClient& client, const kube::ResourceRef& ref, const Json& obj,
                                    const std::string& finalizer, const std::string& fieldManager) {
  if (hasFinalizer(obj, finalizer)) return obj;
  Json list = Json::array();
  if (const Json* f = jsonAt(obj, {"metadata", "finalizers"}); f && f->is_array()) list = *f;
  list.push_back(finalizer);
  return patchFinalizers(client, ref, obj, list, fieldManager);
}

kube::KResult<Json> removeFinalizer(kube::KubeClient& client, const kube::ResourceRef& ref, const Json& obj,
                                    const std::string& finalizer, const std::string& fieldManager) {
  if (!hasFinalizer(obj, finalizer)) return obj;
  Json list = Json::array();
  for (const auto& v : *jsonAt(obj, {"metadata", "finalizers"})) {
    if (!(v.is_string() && v.get<std::string>() == finalizer)) list.push_back(v);
  }
  return patchFinalizers(client, ref, obj, list, fieldManager);
}

Json controllerReference(const Json& owner) {
  return {{"apiVersion", owner.value("apiVersion", "")},
          {"kind", owner.value("kind", "")},
          {"name", jsonString(owner, {"metadata", "name"})},
          {"uid", jsonString(owner, {"metadata", "uid"})},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

std::optional<Json> controllerOf(const Json& obj) {
  const Json* refs = jsonAt(obj, {"metadata", "ownerReferences"});
  if (!refs || !refs->is_array()) return std::nullopt;
  for (const auto& r : *refs) {
    if (r.is_object() && r.value("controller", false)) return r;
  }
  return std::nullopt;
}

bool setControllerReference(const Json& owner, Json& child) {
  Json ref = controllerReference(owner);
  if (auto existing = controllerOf(child); existing && existing->value("uid", "") != ref["uid"]) return false;
  Json& meta = child["metadata"];
  if (!meta.contains("ownerReferences") || !meta["ownerReferences"].is_array()) meta["ownerReferences"] = Json::array();
  for (auto& r : meta["ownerReferences"]) {
    if (r.value("uid", "") == ref["uid"]) {
      r = ref;
      return true;
    }
  }
  meta["ownerReferences"].push_back(ref);
  return true;
}

}  // namespace sdb::runtime
