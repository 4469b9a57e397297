#include "e2e/apimachinery/type_schema.h"

#include <sstream>

namespace sdb::apimachinery {

namespace {

using Mut = std::shared_ptr<TypeNode>;

// A struct whose unknown keys are structs too and whose unknown lists are atomic: what a built-in
// field without markers is.
const TypeRef& looseType() {
  static const TypeRef t = std::make_shared<TypeNode>();
  return t;
}

// Fields nothing declares (x-kubernetes-preserve-unknown-fields): every key is owned on its own.
const TypeRef& deducedType() {
  static const TypeRef t = [] {
    auto n = std::make_shared<TypeNode>();
    n->undeclaredAreMembers = true;
    return TypeRef(n);
  }();
  return t;
}

Mut node() { return std::make_shared<TypeNode>(); }

// The node at a dotted path below `root` ("spec.template"; "[]" steps into list items), created as
// plain structs where missing. Nodes are only shared once construction is over.
TypeNode& at(const Mut& root, const std::string& path) {
  TypeNode* n = root.get();
  std::stringstream ss(path);
  std::string seg;
  while (std::getline(ss, seg, '.')) {
    bool item = seg.size() > 2 && seg.substr(seg.size() - 2) == "[]";
    if (item) seg.resize(seg.size() - 2);
    auto& slot = n->fields[seg];
    if (!slot) slot = node();
    n = const_cast<TypeNode*>(slot.get());
    if (item) {
      if (!n->items) n->items = node();
      n = const_cast<TypeNode*>(n->items.get());
    }
  }
  return *n;
}

void attach(const Mut& root, const std::string& path, TypeRef t) {
  const size_t dot = path.rfind('.');
  TypeNode& parent = dot == std::string::npos ? *root : at(root, path.substr(0, dot));
  parent.fields[dot == std::string::npos ? path : path.substr(dot + 1)] = std::move(t);
}

// An associative list keyed by `keys` (server-side apply) with a strategic merge key.
// An empty `mergeKey` means the list has no strategic merge strategy (replaced by a patch).
void mapList(TypeNode& n, std::vector<std::string> keys, const std::string& mergeKey, const std::string& strategy = "merge") {
  n.listType = ListType::kMap;
  n.keys = std::move(keys);
  n.patchMergeKey = mergeKey;
  n.patchStrategy = mergeKey.empty() ? "" : strategy;
  if (!n.items) n.items = node();
}

void atomic(TypeNode& n) { n.atomic = true; }

void mapOfScalars(TypeNode& n) { n.undeclaredAreMembers = true; }

void conditions(const Mut& root, const std::string& path) { mapList(at(root, path), {"type"}, "type"); }

TypeRef objectMeta() {
  static const TypeRef t = [] {
    Mut m = node();
    TypeNode& finalizers = at(m, "finalizers");
    finalizers.listType = ListType::kSet;
    finalizers.patchStrategy = "merge";
    TypeNode& owners = at(m, "ownerReferences");
    mapList(owners, {"uid"}, "uid");
    atomic(at(m, "ownerReferences[]"));
    mapOfScalars(at(m, "labels"));
    mapOfScalars(at(m, "annotations"));
    return TypeRef(m);
  }();
  return t;
}

TypeRef labelSelector() {
  static const TypeRef t = [] {
    Mut s = node();
    s->atomic = true;
    return TypeRef(s);
  }();
  return t;
}

TypeRef container() {
  static const TypeRef t = [] {
    Mut c = node();
    mapList(at(c, "ports"), {"containerPort", "protocol"}, "containerPort");
    at(c, "ports").keyDefaults["protocol"] = "TCP";
    mapList(at(c, "env"), {"name"}, "name");
    for (const char* ref : {"configMapKeyRef", "fieldRef", "fileKeyRef", "resourceFieldRef", "secretKeyRef"}) {
      atomic(at(c, std::string("env[].valueFrom.") + ref));
    }
    mapList(at(c, "volumeMounts"), {"mountPath"}, "mountPath");
    at(c, "volumeMounts[].bindMountOptions").listType = ListType::kSet;
    mapList(at(c, "volumeDevices"), {"devicePath"}, "devicePath");
    mapList(at(c, "resources.claims"), {"name"}, "");
    mapOfScalars(at(c, "resources.limits"));
    mapOfScalars(at(c, "resources.requests"));
    return TypeRef(c);
  }();
  return t;
}

TypeRef podSpec() {
  static const TypeRef t = [] {
    Mut p = node();
    for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
      mapList(at(p, list), {"name"}, "name");
      at(p, list).items = container();
    }
    mapList(at(p, "volumes"), {"name"}, "name", "merge,retainKeys");
    for (const char* ref : {"cephfs.secretRef", "cinder.secretRef", "csi.nodePublishSecretRef", "flexVolume.secretRef",
                            "iscsi.secretRef", "rbd.secretRef", "scaleIO.secretRef", "storageos.secretRef",
                            "ephemeral.volumeClaimTemplate.spec.selector", "ephemeral.volumeClaimTemplate.spec.dataSource"}) {
      atomic(at(p, std::string("volumes[].") + ref));
    }
    mapList(at(p, "imagePullSecrets"), {"name"}, "name");
    atomic(at(p, "imagePullSecrets[]"));
    mapList(at(p, "hostAliases"), {"ip"}, "ip");
    mapList(at(p, "topologySpreadConstraints"), {"topologyKey", "whenUnsatisfiable"}, "topologyKey");
    attach(p, "topologySpreadConstraints[].labelSelector", labelSelector());
    mapList(at(p, "schedulingGates"), {"name"}, "name");
    mapList(at(p, "resourceClaims"), {"name"}, "name", "merge,retainKeys");
    mapList(at(p, "resources.claims"), {"name"}, "");
    atomic(at(p, "nodeSelector"));
    mapOfScalars(at(p, "overhead"));
    atomic(at(p, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"));
    return TypeRef(p);
  }();
  return t;
}

TypeRef podTemplateSpec() {
  static const TypeRef t = [] {
    Mut p = node();
    p->fields["metadata"] = objectMeta();
    p->fields["spec"] = podSpec();
    return TypeRef(p);
  }();
  return t;
}

TypeRef jobSpec() {
  static const TypeRef t = [] {
    Mut j = node();
    j->fields["selector"] = labelSelector();
    j->fields["template"] = podTemplateSpec();
    return TypeRef(j);
  }();
  return t;
}

Mut kindRoot() {
  Mut r = node();
  r->fields["metadata"] = objectMeta();
  return r;
}

TypeRef builtinSchema(const std::string& group, const std::string& resource) {
  Mut r = kindRoot();
  if (group.empty()) {
    if (resource == "namespaces") {
      conditions(r, "status.conditions");
    } else if (resource == "services") {
      mapList(at(r, "spec.ports"), {"port", "protocol"}, "port");
      at(r, "spec.ports").keyDefaults["protocol"] = "TCP";
      atomic(at(r, "spec.selector"));
      conditions(r, "status.conditions");
    } else if (resource == "serviceaccounts") {
      mapList(at(r, "secrets"), {"name"}, "name");
      atomic(at(r, "secrets[]"));
    } else if (resource == "pods") {
      r->fields["spec"] = podSpec();
      conditions(r, "status.conditions");
      mapList(at(r, "status.podIPs"), {"ip"}, "ip");
      mapList(at(r, "status.hostIPs"), {"ip"}, "ip");
      at(r, "status.hostIPs").listType = ListType::kAtomic;
    } else if (resource == "persistentvolumeclaims") {
      attach(r, "spec.selector", labelSelector());
      atomic(at(r, "spec.dataSource"));
      mapOfScalars(at(r, "spec.resources.requests"));
      mapOfScalars(at(r, "spec.resources.limits"));
      conditions(r, "status.conditions");
    } else if (resource == "events") {
      atomic(at(r, "involvedObject"));
      atomic(at(r, "related"));
    } else if (resource == "configmaps" || resource == "secrets") {
      mapOfScalars(at(r, "data"));
      mapOfScalars(at(r, resource == "secrets" ? "stringData" : "binaryData"));
    }
  } else if (group == "apps") {
    attach(r, "spec.selector", labelSelector());
    attach(r, "spec.template", podTemplateSpec());
    conditions(r, "status.conditions");
    if (resource == "deployments") at(r, "spec.strategy").patchStrategy = "retainKeys";
  } else if (group == "batch") {
    if (resource == "jobs") {
      r->fields["spec"] = jobSpec();
      // Job conditions are an atomic list for server-side apply but merge by type in a strategic patch.
      at(r, "status.conditions").patchStrategy = "merge";
      at(r, "status.conditions").patchMergeKey = "type";
      at(r, "status.uncountedTerminatedPods.failed").listType = ListType::kSet;
      at(r, "status.uncountedTerminatedPods.succeeded").listType = ListType::kSet;
    } else {
      attach(r, "spec.jobTemplate.metadata", objectMeta());
      attach(r, "spec.jobTemplate.spec", jobSpec());
    }
  } else if (group == "networking.k8s.io") {
    attach(r, "spec.podSelector", labelSelector());
  } else if (group == "policy") {
    attach(r, "spec.selector", labelSelector());  // patchStrategy=replace; atomic anyway
    conditions(r, "status.conditions");
    mapOfScalars(at(r, "status.disruptedPods"));
  } else if (group == "rbac.authorization.k8s.io") {
    atomic(at(r, "roleRef"));
  } else if (group == "apiextensions.k8s.io") {
    conditions(r, "status.conditions");
  } else if (group == "storage.k8s.io") {
    mapOfScalars(at(r, "parameters"));
  }
  return r;
}

// ------------------------------------------------------------------ custom resources

TypeRef fromOpenApi(const Json& s);

TypeRef objectFromOpenApi(const Json& s) {
  Mut n = node();
  if (const Json* props = jsonAt(s, {"properties"})) {
    for (const auto& [k, v] : props->items()) n->fields[k] = fromOpenApi(v);
  }
  const Json* ap = jsonAt(s, {"additionalProperties"});
  n->undeclaredAreMembers = true;
  n->elements = ap && ap->is_object() ? fromOpenApi(*ap) : deducedType();
  if (s.value("x-kubernetes-map-type", "") == "atomic") n->atomic = true;
  if (s.value("x-kubernetes-embedded-resource", false)) {
    n->fields["metadata"] = objectMeta();
  }
  return n;
}

TypeRef fromOpenApi(const Json& s) {
  if (!s.is_object()) return deducedType();
  const std::string type = s.value("type", "");
  if (type == "array") {
    Mut n = node();
    const std::string lt = s.value("x-kubernetes-list-type", "atomic");
    const Json* items = jsonAt(s, {"items"});
    n->items = items ? fromOpenApi(*items) : deducedType();
    if (lt == "set") {
      n->listType = ListType::kSet;
    } else if (lt == "map") {
      n->listType = ListType::kMap;
      if (const Json* keys = jsonAt(s, {"x-kubernetes-list-map-keys"}); keys && keys->is_array()) {
        for (const auto& k : *keys) {
          if (!k.is_string()) continue;
          n->keys.push_back(k.get<std::string>());
          if (items) {
            if (const Json* d = jsonAt(*items, {"properties", k.get<std::string>(), "default"})) n->keyDefaults[k] = *d;
          }
        }
      }
    }
    return n;
  }
  if (type == "object" || s.contains("properties") || s.contains("additionalProperties") ||
      s.value("x-kubernetes-preserve-unknown-fields", false)) {
    return objectFromOpenApi(s);
  }
  return deducedType();  // scalars (and int-or-string): leaves whatever the type node says
}

}  // namespace

const TypeNode& fieldType(const TypeNode& t, const std::string& key, bool* named) {
  auto it = t.fields.find(key);
  if (named) *named = it != t.fields.end() || !t.undeclaredAreMembers;
  if (it != t.fields.end() && it->second) return *it->second;
  if (t.elements) return *t.elements;
  return t.undeclaredAreMembers ? *deducedType() : *looseType();
}

const TypeNode& itemType(const TypeNode& t) {
  if (t.items) return *t.items;
  return t.undeclaredAreMembers ? *deducedType() : *looseType();
}

TypeRef schemaFor(const ResourceInfo& info) {
  if (info.crd) {
    const schema::CrdVersion* v = info.crd->version(info.ref.version);
    TypeRef root = v && v->schema ? fromOpenApi(v->schema->raw()) : deducedType();
    auto r = std::make_shared<TypeNode>(*root);
    r->fields["metadata"] = objectMeta();
    r->fields["apiVersion"] = deducedType();
    r->fields["kind"] = deducedType();
    return r;
  }
  // Built-in schemas are small; they are built once per kind and shared.
  static const std::map<std::string, TypeRef> cache = [] {
    std::map<std::string, TypeRef> m;
    for (const auto& i : Registry().all()) m[i.ref.group + "/" + i.ref.resource] = builtinSchema(i.ref.group, i.ref.resource);
    return m;
  }();
  auto it = cache.find(info.ref.group + "/" + info.ref.resource);
  return it != cache.end() ? it->second : builtinSchema(info.ref.group, info.ref.resource);
}

Json emptyObjectFor(const ResourceInfo& info) {
  if (info.crd) return {{"apiVersion", info.ref.apiVersion()}, {"kind", info.ref.kind}};
  const Json meta = {{"creationTimestamp", nullptr}};
  const Json podTemplate = {{"metadata", meta}, {"spec", {{"containers", nullptr}}}};
  Json o = {{"metadata", meta}};
  const std::string& r = info.ref.resource;
  if (r == "namespaces" || r == "pods" || r == "persistentvolumeclaims" || r == "services" || r == "jobs" ||
      r == "cronjobs" || r == "statefulsets" || r == "deployments" || r == "poddisruptionbudgets" ||
      r == "customresourcedefinitions") {
    o["spec"] = Json::object();
    o["status"] = Json::object();
  }
  if (r == "networkpolicies" || r == "leases") o["spec"] = Json::object();
  if (r == "pods") o["spec"]["containers"] = nullptr;
  if (r == "persistentvolumeclaims") o["spec"]["resources"] = Json::object();
  if (r == "services") o["status"]["loadBalancer"] = Json::object();
  if (r == "networkpolicies") o["spec"]["podSelector"] = Json::object();
  if (r == "statefulsets" || r == "deployments" || r == "jobs") o["spec"]["template"] = podTemplate;
  if (r == "statefulsets") o["spec"]["updateStrategy"] = Json::object();
  if (r == "deployments") o["spec"]["strategy"] = Json::object();
  if (r == "cronjobs") o["spec"]["jobTemplate"] = {{"metadata", meta}, {"spec", {{"template", podTemplate}}}};
  if (r == "events") o["involvedObject"] = Json::object(), o["source"] = Json::object();
  if (r == "rolebindings" || r == "clusterrolebindings") o["roleRef"] = Json::object();
  if (r == "customresourcedefinitions") o["spec"]["names"] = Json::object(), o["status"]["acceptedNames"] = Json::object();
  return o;
}

}  // namespace sdb::apimachinery
