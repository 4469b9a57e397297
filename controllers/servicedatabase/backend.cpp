#include "controllers/servicedatabase/backend.h"

namespace sdb::controllers::servicedatabase {

std::string BackendRegistry::supported() const {
  std::string out;
  for (const auto& [key, backend] : backends_) {
    if (!out.empty()) out += ", ";
    out += key.first + " (" + key.second + ")";
  }
  return out.empty() ? "none" : out;
}

Problem problemFromEngineError(const Error& e, const std::string& doing) {
  const std::string message = doing + ": " + e.message;
  switch (e.code) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kTimeout:
    case ErrorCode::kIO:
      return {"ServerUnreachable", message, false, true};
    case ErrorCode::kPermissionDenied:
      // Wrong admin password, or an admin without the privileges docs/engines/*.md lists: a human
      // must fix the Secret or the server; we keep retrying with backoff meanwhile.
      return {"PermissionDenied", message, true, true};
    case ErrorCode::kFailedPrecondition:
      return {"ForeignObject", message, true, true};
    case ErrorCode::kInvalidArgument:
      return {"InvalidSpec", message, true, false};
    default:
      return {"EngineError", message, false, true};
  }
}

}  // namespace sdb::controllers::servicedatabase

namespace sdb::controllers::servicedatabase {

kube::KStatus orphanFrom(kube::KubeClient& client, const kube::ResourceRef& kind, const Json& object,
                         const std::string& sdbName, const std::string& fieldManager) {
  const Json* refs = jsonAt(object, {"metadata", "ownerReferences"});
  if (!refs || !refs->is_array()) return {};
  Json keep = Json::array();
  for (const auto& r : *refs) {
    if (!(r.value("kind", "") == "ServiceDatabase" && r.value("name", "") == sdbName)) keep.push_back(r);
  }
  if (keep.size() == refs->size()) return {};
  Json ops = Json::array({{{"op", "test"}, {"path", "/metadata/resourceVersion"},
                           {"value", jsonString(object, {"metadata", "resourceVersion"})}}});
  if (keep.empty()) {
    ops.push_back({{"op", "remove"}, {"path", "/metadata/ownerReferences"}});
  } else {
    ops.push_back({{"op", "replace"}, {"path", "/metadata/ownerReferences"}, {"value", keep}});
  }
  kube::PatchOptions opts;
  opts.fieldManager = fieldManager;
  auto r = client.patch(kind, jsonString(object, {"metadata", "namespace"}), jsonString(object, {"metadata", "name"}),
                        kube::PatchType::kJson, dumpJson(ops), opts);
  if (!r.ok()) return r.error();
  return {};
}

}  // namespace sdb::controllers::servicedatabase
