// Store: patches (JSON merge, JSON, strategic merge) and server-side apply, each a read-modify-write
// under the store's lock.
#include "e2e/apimachinery/managed_fields.h"
#include "e2e/apimachinery/patch.h"
#include "e2e/apimachinery/store_impl.h"
#include "e2e/apimachinery/strategic_merge.h"
#include "operator/schema/yaml_json.h"

namespace sdb::apimachinery {

using kube::ApiError;
using kube::KResult;

KResult<Json> Store::patch(const kube::ResourceRef& r, const std::string& urlNs, const std::string& name,
                           kube::PatchType type, const std::string& body, const kube::PatchOptions& opts,
                           const std::string& subresource, RequestContext* ctx) {
  auto resolved = resolve(r.group, r.version, r.resource);
  if (!resolved.ok()) return resolved.error();
  const ResourceInfo& info = *resolved;
  if (!subresource.empty() && (subresource != "status" || !info.statusSubresource)) {
    return kube::notFoundError(info.ref.resource + "/" + subresource, info.ref.group, name);
  }
  const bool apply = type == kube::PatchType::kApply;
  std::vector<kube::StatusCause> causes;
  if (!apply && opts.force) causes.push_back({"FieldValueForbidden", "Forbidden: may not be specified for non-apply patch", "force"});
  for (auto& c : validateFieldManager(opts.fieldManager, apply)) causes.push_back(std::move(c));
  if (!causes.empty()) return fieldManagerError("PatchOptions", causes);
  if (type == kube::PatchType::kStrategicMerge && info.crd) {
    ApiError e = kube::fromHttpResponse(415, "");
    e.message = "the body of the request was in an unknown format - accepted media types include: "
                "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";
    return e;
  }
  Result<Json> parsed = apply ? schema::yamlToJson(body) : parseJson(body, "patch body");
  if (!parsed.ok()) {
    return kube::badRequestError(apply ? "error decoding YAML: " + parsed.error().message : parsed.error().message);
  }
  const std::string ns = info.ref.namespaced ? urlNs : "";
  std::lock_guard<std::mutex> lock(impl_->mu);
  const std::string key = Impl::key(info, ns, name);
  auto it = impl_->objects.find(key);
  const Json* current = it == impl_->objects.end() ? nullptr : &it->second;

  if (apply) {
    Json config = std::move(*parsed);
    if (!config.is_object()) return kube::badRequestError("error decoding YAML: the applied configuration must be an object");
    const std::string configName = jsonString(config, {"metadata", "name"});
    if (!configName.empty() && configName != name) {
      return kube::badRequestError("the name of the object (" + configName + ") does not match the name on the URL (" + name + ")");
    }
    const std::string configNs = jsonString(config, {"metadata", "namespace"});
    if (info.ref.namespaced && !configNs.empty() && configNs != ns) {
      return kube::badRequestError("the namespace of the provided object does not match the namespace sent on the request");
    }
    if (!current && !subresource.empty()) return kube::notFoundError(info.ref.resource, info.ref.group, name);
    const FieldManagerScope scope = fieldManagerScope(info, subresource, formatRfc3339(impl_->clock->now()), ns, name);
    const Json old = current ? *current : Json();
    auto applied = applyConfiguration(current ? old : scope.emptyObject, config, opts.fieldManager, opts.force, scope);
    if (!applied.ok()) return applied.error();
    if (!current) {
      (*applied)["metadata"]["name"] = name;
      return impl_->createLocked(info, ns, std::move(*applied), opts, ctx, true);
    }
    return impl_->replaceLocked(info, key, old, std::move(*applied), opts, subresource, ctx, true);
  }

  if (!current) return kube::notFoundError(info.ref.resource, info.ref.group, name);
  const Json old = *current;
  Json next;
  switch (type) {
    case kube::PatchType::kMerge:
      next = applyMergePatch(old, *parsed);
      break;
    case kube::PatchType::kStrategicMerge: {
      auto patched = applyStrategicMergePatch(old, *parsed, *schemaFor(info));
      if (!patched.ok()) return patched.error();
      next = std::move(*patched);
      break;
    }
    case kube::PatchType::kJson: {
      auto patched = applyJsonPatch(old, *parsed);
      if (!patched.ok()) return kube::invalidError(r.kind, r.group, name, {{"FieldValueInvalid", patched.error().message, ""}});
      next = std::move(*patched);
      break;
    }
    case kube::PatchType::kApply:
      break;
  }
  return impl_->replaceLocked(info, key, old, std::move(next), opts, subresource, ctx, false);
}

}  // namespace sdb::apimachinery
