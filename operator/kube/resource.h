// Identifies an API resource: group/version/resource (the URL form) plus its Kind and scope.
//
// Contract: plain values. Well-known built-in resources are provided as constants so callers never
// spell paths by hand.
#pragma once

#include <string>

namespace sdb::kube {

struct ResourceRef {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // plural, lower case: "statefulsets"
  std::string kind;      // "StatefulSet"
  bool namespaced = true;

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "statefulsets.apps" / "pods" — the form used in error messages and RBAC.
  std::string groupResource() const { return group.empty() ? resource : resource + "." + group; }
  bool operator==(const ResourceRef& o) const {
    return group == o.group && version == o.version && resource == o.resource;
  }
};

namespace resources {
inline const ResourceRef kNamespaces{"", "v1", "namespaces", "Namespace", false};
inline const ResourceRef kSecrets{"", "v1", "secrets", "Secret", true};
inline const ResourceRef kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
inline const ResourceRef kServices{"", "v1", "services", "Service", true};
inline const ResourceRef kEndpoints{"", "v1", "endpoints", "Endpoints", true};
inline const ResourceRef kServiceAccounts{"", "v1", "serviceaccounts", "ServiceAccount", true};
inline const ResourceRef kPods{"", "v1", "pods", "Pod", true};
inline const ResourceRef kNodes{"", "v1", "nodes", "Node", false};
inline const ResourceRef kPersistentVolumeClaims{"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true};
inline const ResourceRef kEvents{"", "v1", "events", "Event", true};
inline const ResourceRef kStatefulSets{"apps", "v1", "statefulsets", "StatefulSet", true};
inline const ResourceRef kDeployments{"apps", "v1", "deployments", "Deployment", true};
inline const ResourceRef kReplicaSets{"apps", "v1", "replicasets", "ReplicaSet", true};
inline const ResourceRef kControllerRevisions{"apps", "v1", "controllerrevisions", "ControllerRevision", true};
inline const ResourceRef kJobs{"batch", "v1", "jobs", "Job", true};
inline const ResourceRef kCronJobs{"batch", "v1", "cronjobs", "CronJob", true};
inline const ResourceRef kNetworkPolicies{"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true};
inline const ResourceRef kPodDisruptionBudgets{"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true};
inline const ResourceRef kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};
inline const ResourceRef kStorageClasses{"storage.k8s.io", "v1", "storageclasses", "StorageClass", false};
inline const ResourceRef kCustomResourceDefinitions{"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                                                    "CustomResourceDefinition", false};
inline const ResourceRef kServiceDatabases{"servicedb.io", "v1alpha1", "servicedatabases", "ServiceDatabase", true};
inline const ResourceRef kBackupPolicies{"servicedb.io", "v1alpha1", "backuppolicies", "BackupPolicy", true};
inline const ResourceRef kReadReplicas{"servicedb.io", "v1alpha1", "readreplicas", "ReadReplica", true};
inline const ResourceRef kAuditStores{"servicedb.io", "v1alpha1", "auditstores", "AuditStore", true};
}  // namespace resources

}  // namespace sdb::kube
