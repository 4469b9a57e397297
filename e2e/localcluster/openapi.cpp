// OpenAPI v3: the root lists every group-version; each document carries the kinds' schemas with
// x-kubernetes-group-version-kind. Custom resources get their CRD's schema (so `kubectl explain`
// shows our descriptions); built-in kinds get a minimal schema that preserves unknown fields
// (simplified, see e2e/README.md).
#include <functional>
#include <set>

#include "e2e/localcluster/api_server.h"

namespace sdb::localcluster {

namespace {

std::string gvPath(const std::string& group, const std::string& version) {
  return group.empty() ? "api/" + version : "apis/" + group + "/" + version;
}

std::string schemaName(const apimachinery::ResourceInfo& i) {
  // io.k8s.api.apps.v1.StatefulSet style for built-ins; reversed group for custom resources.
  std::string g = i.ref.group.empty() ? "core" : i.ref.group;
  if (i.crd) {
    std::string rev;
    size_t end = g.size();
    while (true) {
      size_t dot = g.rfind('.', end - 1);
      rev += (rev.empty() ? "" : ".") + g.substr(dot == std::string::npos ? 0 : dot + 1, end - (dot == std::string::npos ? 0 : dot + 1));
      if (dot == std::string::npos) break;
      end = dot;
    }
    return rev + "." + i.ref.version + "." + i.ref.kind;
  }
  return "io.k8s.api." + g + "." + i.ref.version + "." + i.ref.kind;
}

const char* kObjectMetaRef = "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

}  // namespace

Json openApiRoot(const apimachinery::Registry& registry) {
  Json paths = Json::object();
  for (const auto& i : registry.all()) {
    const std::string p = gvPath(i.ref.group, i.ref.version);
    // The hash changes whenever the set of kinds or their schemas change, so clients refetch.
    Json doc = openApiGroupVersion(registry, i.ref.group, i.ref.version);
    paths[p] = {{"serverRelativeURL", "/openapi/v3/" + p + "?hash=" + std::to_string(std::hash<std::string>{}(doc.dump()))}};
  }
  return {{"paths", paths}};
}

// The operations clients look for: kubectl checks that PATCH declares the fieldValidation query
// parameter before it relies on server-side field validation.
Json operations(const apimachinery::ResourceInfo& i) {
  const std::string base = "/" + gvPath(i.ref.group, i.ref.version) + (i.ref.namespaced ? "/namespaces/{namespace}/" : "/") + i.ref.resource;
  const Json gvk = {{"group", i.ref.group}, {"version", i.ref.version}, {"kind", i.ref.kind}};
  auto param = [](const std::string& name, const std::string& description) {
    return Json{{"name", name}, {"in", "query"}, {"description", description}, {"schema", {{"type", "string"}, {"uniqueItems", true}}}};
  };
  const Json writeParams = {param("dryRun", "When present, the modifications are not persisted."),
                            param("fieldManager", "The name of the actor making the change."),
                            param("fieldValidation", "Ignore, Warn or Strict: what to do with unknown or duplicate fields.")};
  const Json ok = {{"200", {{"description", "OK"}}}};
  auto op = [&](const std::string& action, const Json& params) {
    return Json{{"x-kubernetes-group-version-kind", gvk}, {"x-kubernetes-action", action}, {"parameters", params}, {"responses", ok},
                {"operationId", action + i.ref.kind}};
  };
  Json paths = Json::object();
  paths[base] = {{"get", op("list", Json::array())}, {"post", op("post", writeParams)}};
  paths[base + "/{name}"] = {{"get", op("get", Json::array())}, {"put", op("put", writeParams)},
                             {"patch", op("patch", writeParams)}, {"delete", op("delete", Json::array())}};
  return paths;
}

Json openApiGroupVersion(const apimachinery::Registry& registry, const std::string& group, const std::string& version) {
  Json schemas = Json::object();
  Json paths = Json::object();
  bool any = false;
  for (const auto& i : registry.all()) {
    if (i.ref.group != group || i.ref.version != version) continue;
    any = true;
    paths.update(operations(i));
    Json s;
    if (i.crd) {
      s = i.crd->version(version)->schema->raw();
      if (!s.contains("properties")) s["properties"] = Json::object();
      s["properties"]["metadata"] = {{"description", "Standard object's metadata."}, {"allOf", {{{"$ref", kObjectMetaRef}}}}};
    } else {
      s = {{"type", "object"},
           {"description", i.ref.kind + " (schema simplified by the local cluster: fields are not described)."},
           {"properties",
            {{"apiVersion", {{"type", "string"}, {"description", "APIVersion of this object."}}},
             {"kind", {{"type", "string"}, {"description", "Kind of this object."}}},
             {"metadata", {{"description", "Standard object's metadata."}, {"allOf", {{{"$ref", kObjectMetaRef}}}}}}}},
           {"x-kubernetes-preserve-unknown-fields", true}};
    }
    s["x-kubernetes-group-version-kind"] = {{{"group", group}, {"version", version}, {"kind", i.ref.kind}}};
    schemas[schemaName(i)] = s;
  }
  if (!any) return nullptr;
  schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"] = {
      {"type", "object"},
      {"description", "ObjectMeta is metadata that all persisted resources must have."},
      {"properties",
       {{"name", {{"type", "string"}, {"description", "Name must be unique within a namespace."}}},
        {"namespace", {{"type", "string"}, {"description", "Namespace defines the space within which each name must be unique."}}},
        {"generateName", {{"type", "string"}, {"description", "An optional prefix used to generate a unique name."}}},
        {"labels", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}, {"description", "Map of string keys and values for organizing objects."}}},
        {"annotations", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}, {"description", "Unstructured key value map."}}},
        {"finalizers", {{"type", "array"}, {"items", {{"type", "string"}}}, {"description", "Must be empty before the object is deleted."}}},
        {"ownerReferences", {{"type", "array"}, {"items", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}, {"description", "Objects depended by this object."}}},
        {"resourceVersion", {{"type", "string"}, {"description", "An opaque value that represents the internal version of this object."}}},
        {"uid", {{"type", "string"}, {"description", "UID is the unique in time and space value for this object."}}},
        {"generation", {{"type", "integer"}, {"format", "int64"}, {"description", "A sequence number representing a specific generation of the desired state."}}},
        {"creationTimestamp", {{"type", "string"}, {"format", "date-time"}, {"description", "When this object was created."}}},
        {"deletionTimestamp", {{"type", "string"}, {"format", "date-time"}, {"description", "When this object will be deleted."}}},
        {"deletionGracePeriodSeconds", {{"type", "integer"}, {"format", "int64"}, {"description", "Seconds allowed for graceful termination."}}},
        {"managedFields", {{"type", "array"}, {"items", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}, {"description", "Which managers own which fields."}}}}}};
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
          {"paths", paths},
          {"components", {{"schemas", schemas}}}};
}

}  // namespace sdb::localcluster
