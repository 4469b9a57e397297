#include "operator/runtime/status_writer.h"

#include "operator/runtime/conditions.h"

namespace sdb::runtime {

kube::KResult<StatusWriteOutcome> updateStatusWithRetry(kube::KubeClient& client, const kube::ResourceRef& ref,
                                                        const std::string& ns, const std::string& name,
                                                        const StatusCompute& compute,
                                                        const std::string& fieldManager, int maxAttempts) {
  StatusWriteOutcome out;
  for (int attempt = 1;; ++attempt) {
    out.attempts = attempt;
    auto current = client.get(ref, ns, name);
    if (!current.ok()) return current.error();
    Json stored = current->contains("status") ? (*current)["status"] : Json::object();
    Json next = stored;
    compute(*current, next);
    if (statusSemanticallyEqual(stored, next)) {
      out.object = std::move(*current);
      return out;
    }
    Json obj = std::move(*current);
    obj["status"] = next;
    kube::WriteOptions opts;
    opts.fieldManager = fieldManager;
    auto written = client.updateStatus(ref, ns, obj, opts);
    if (written.ok()) {
      out.written = true;
      out.object = std::move(*written);
      return out;
    }
    if (!written.error().is(kube::ApiErrorReason::kConflict) || attempt >= maxAttempts) return written.error();
  }
}

bool isJsonSubset(const Json& subset, const Json& superset) {
  if (subset.is_object()) {
    if (!superset.is_object()) return false;
    for (auto it = subset.begin(); it != subset.end(); ++it) {
      auto found = superset.find(it.key());
      if (found == superset.end()) {
        if (it.value().is_null()) continue;
        return false;
      }
      if (!isJsonSubset(it.value(), *found)) return false;
    }
    return true;
  }
  if (subset.is_array()) {
    if (!superset.is_array() || subset.size() != superset.size()) return false;
    for (size_t i = 0; i < subset.size(); ++i) {
      if (!isJsonSubset(subset[i], superset[i])) return false;
    }
    return true;
  }
  if (subset.is_number() && superset.is_number()) return subset.get<double>() == superset.get<double>();
  return subset == superset;
}

kube::KResult<ApplyOutcome> applyIfChanged(kube::KubeClient& client, const kube::ResourceRef& ref, const Json& desired,
                                           const std::optional<Json>& live, const std::string& fieldManager) {
  ApplyOutcome out;
  if (live) {
    Json compare = desired;
    compare.erase("apiVersion");
    compare.erase("kind");
    if (isJsonSubset(compare, *live)) {
      out.object = *live;
      return out;
    }
  }
  kube::PatchOptions opts;
  opts.fieldManager = fieldManager;
  opts.force = true;
  auto r = client.patch(ref, jsonString(desired, {"metadata", "namespace"}), jsonString(desired, {"metadata", "name"}),
                        kube::PatchType::kApply, dumpJson(desired), opts);
  if (!r.ok() && r.error().is(kube::ApiErrorReason::kNotFound) && !live) {
    // kube-apiserver creates on apply; a server that answers 404 instead (older local stores) gets
    // an explicit create with the same field manager.
    kube::WriteOptions wo;
    wo.fieldManager = fieldManager;
    r = client.create(ref, jsonString(desired, {"metadata", "namespace"}), desired, wo);
  }
  if (!r.ok()) return r.error();
  out.applied = true;
  out.object = std::move(*r);
  return out;
}

}  // namespace sdb::runtime
