#include "e2e/apimachinery/registry.h"

namespace sdb::apimachinery {
namespace {

const std::vector<std::string> kAllVerbs = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};

ResourceInfo builtin(const kube::ResourceRef& ref, std::string singular, std::vector<std::string> shortNames,
                     std::vector<std::string> categories, bool status, bool hasSpec) {
  ResourceInfo i;
  i.ref = ref;
  i.singular = std::move(singular);
  i.listKind = ref.kind + "List";
  i.shortNames = std::move(shortNames);
  i.categories = std::move(categories);
  i.verbs = kAllVerbs;
  i.statusSubresource = status;
  i.hasSpec = hasSpec;
  return i;
}

}  // namespace

Registry::Registry() {
  using namespace kube::resources;
  const kube::ResourceRef roles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
  const kube::ResourceRef clusterRoles{"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false};
  const kube::ResourceRef roleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true};
  const kube::ResourceRef clusterRoleBindings{"rbac.authorization.k8s.io", "v1", "clusterrolebindings",
                                              "ClusterRoleBinding", false};
  infos_ = {
      builtin(kNamespaces, "namespace", {"ns"}, {}, true, true),
      builtin(kSecrets, "secret", {}, {}, false, false),
      builtin(kConfigMaps, "configmap", {"cm"}, {}, false, false),
      builtin(kServices, "service", {"svc"}, {"all"}, true, true),
      builtin(kEndpoints, "endpoints", {"ep"}, {}, false, false),
      builtin(kServiceAccounts, "serviceaccount", {"sa"}, {}, false, false),
      builtin(kPods, "pod", {"po"}, {"all"}, true, true),
      builtin(kNodes, "node", {"no"}, {}, true, true),
      builtin(kPersistentVolumeClaims, "persistentvolumeclaim", {"pvc"}, {}, true, true),
      builtin(kEvents, "event", {"ev"}, {}, false, false),
      builtin(kStatefulSets, "statefulset", {"sts"}, {"all"}, true, true),
      builtin(kDeployments, "deployment", {"deploy"}, {"all"}, true, true),
      builtin(kReplicaSets, "replicaset", {"rs"}, {"all"}, true, true),
      builtin(kControllerRevisions, "controllerrevision", {}, {}, false, false),
      builtin(kJobs, "job", {}, {"all"}, true, true),
      builtin(kCronJobs, "cronjob", {"cj"}, {"all"}, true, true),
      builtin(kNetworkPolicies, "networkpolicy", {"netpol"}, {}, false, true),
      builtin(kPodDisruptionBudgets, "poddisruptionbudget", {"pdb"}, {}, true, true),
      builtin(kLeases, "lease", {}, {}, false, true),
      builtin(kStorageClasses, "storageclass", {"sc"}, {}, false, false),
      builtin(kCustomResourceDefinitions, "customresourcedefinition", {"crd", "crds"}, {"api-extensions"}, true, true),
      builtin(roles, "role", {}, {}, false, false),
      builtin(clusterRoles, "clusterrole", {}, {}, false, false),
      builtin(roleBindings, "rolebinding", {}, {}, false, false),
      builtin(clusterRoleBindings, "clusterrolebinding", {}, {}, false, false),
  };
  for (auto& i : infos_) {
    if (i.ref.resource == "pods") i.logSubresource = true;
    if (i.ref.resource == "serviceaccounts") i.tokenSubresource = true;
    if (i.ref.resource == "events" || i.ref.resource == "endpoints") i.hasSpec = false;
  }
}

std::optional<ResourceInfo> Registry::byResource(const std::string& group, const std::string& version,
                                                 const std::string& resource) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& i : infos_) {
    if (i.ref.group == group && i.ref.version == version && i.ref.resource == resource) return i;
  }
  return std::nullopt;
}

std::optional<ResourceInfo> Registry::byKind(const std::string& group, const std::string& kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& i : infos_) {
    if (i.ref.group == group && i.ref.kind == kind) return i;
  }
  return std::nullopt;
}

std::vector<ResourceInfo> Registry::all() const {
  std::lock_guard<std::mutex> lock(mu_);
  return infos_;
}

std::vector<ResourceInfo> Registry::addCrd(std::shared_ptr<const schema::Crd> crd) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(infos_, [&](const ResourceInfo& i) { return i.crd && i.crd->name == crd->name; });
  std::vector<ResourceInfo> added;
  for (const auto& v : crd->versions) {
    if (!v.served) continue;
    ResourceInfo i;
    i.ref = {crd->group, v.name, crd->plural, crd->kind, crd->namespaced()};
    i.singular = crd->singular;
    i.listKind = crd->listKind;
    i.shortNames = crd->shortNames;
    i.categories = crd->categories;
    i.verbs = kAllVerbs;
    i.statusSubresource = v.statusSubresource;
    i.scaleSubresource = !v.scaleSubresource.is_null();
    i.hasSpec = true;
    i.crd = crd;
    infos_.push_back(i);
    added.push_back(i);
  }
  return added;
}

void Registry::removeCrd(const std::string& crdName) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(infos_, [&](const ResourceInfo& i) { return i.crd && i.crd->name == crdName; });
}

}  // namespace sdb::apimachinery
