// Network isolation of a dedicated database instance (docs/api.md, "Access and isolation"): the one
// NetworkPolicy that admits exactly the allowed peers, the check behind the NetworkIsolated
// condition, and the refusal of a spec.access that reaches into another service.
//
// The allowed peers of an instance, to its port over TCP (allowedPeers):
//   (1) the access pods: spec.access.podSelector (default app.kubernetes.io/name=<service>) in each
//       namespace of spec.access.namespaces (default: the ServiceDatabase's own);
//   (2) the operator: pods labelled `operatorPodLabels` in `operatorNamespace` (left out when
//       operatorNamespace is "");
//   (3) this database's own Jobs: servicedb.io/database=<name>, app.kubernetes.io/managed-by=
//       servicedb-operator, servicedb.io/component In [backup, migrate, restore], own namespace;
//   (4) its replicas: servicedb.io/database=<name>, servicedb.io/component=replica, own namespace;
//   (5) each `operatorCidrs` entry, as an ipBlock (an operator outside the pod network).
// Every pod peer names its namespace with a namespaceSelector on kubernetes.io/metadata.name (which
// kube-apiserver sets on every Namespace), the own namespace included, so nothing is implicit.
//
// evaluateIsolation proves, without seeing any pod, that the NetworkPolicies of the namespace admit
// nothing beyond those peers: policies add up, so every ingress rule of every policy that selects
// the instance pods and isolates Ingress must admit only peers that are provably within an allowed
// peer (label selector implication, see label_selector.h; an ipBlock contained in an operatorCidrs
// entry). Ports are ignored (a rule that admits a foreign pod on any port breaks isolation).
// Anything it cannot prove, including a policy it cannot read, counts as not isolated.
//
// Contract: pure functions, no I/O, thread-safe. Output is deterministic: equal inputs give equal
// JSON and equal verdicts (policies are examined in name order).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "operator/core/json.h"
#include "operator/specs/labels.h"
#include "operator/specs/servicedatabase.h"

namespace sdb::specs {

inline constexpr const char* kLabelNamespaceName = "kubernetes.io/metadata.name";

// Every function taking this needs `sdb` set; it is borrowed for the call only.
struct InstanceNetworkInput {
  const ServiceDatabase* sdb = nullptr;
  std::string policyName;                // metadata.name of the NetworkPolicy (the caller names it)
  int port = 0;                          // the engine's port (5432, 6379, 27017)
  std::string operatorNamespace;         // where the operator's pods run
  Labels operatorPodLabels = {{"app.kubernetes.io/name", "servicedb-operator"}};
  std::vector<std::string> operatorCidrs;  // extra ipBlocks for an operator running outside the pod network (dev, e2e); may be empty
  Json ownerReference;                   // put into metadata.ownerReferences as is (may be null = none)
};

// One allowed pod peer: pods matching `podSelector` (a metav1.LabelSelector) in any of `namespaces`.
struct AllowedPeer {
  std::string what;                     // "access pods", "the operator", "backup/restore/migrate Jobs", "replicas"
  std::vector<std::string> namespaces;  // sorted, without duplicates
  Json podSelector;
};

// Peers (1) to (4) above, in that order. (5) is in.operatorCidrs.
std::vector<AllowedPeer> allowedPeers(const InstanceNetworkInput& in);

// The labels that select the instance pods: servicedb.io/database=<name>,
// servicedb.io/component=instance, app.kubernetes.io/managed-by=servicedb-operator.
Labels instancePodSelector(const ServiceDatabase& sdb);

// The NetworkPolicy for server-side apply: selects the instance pods, policyTypes [Ingress], one
// ingress rule on `port`/TCP from every allowed peer (one `from` entry per pod peer and namespace,
// then the ipBlocks). Labels: standardLabels(sdb, Component::kInstance).
// Call validateAccess first: an invalid spec.access would be copied into the policy as written.
Json instanceNetworkPolicy(const InstanceNetworkInput& in);

struct IsolationVerdict {
  bool isolated = false;
  std::string policy;   // the offending policy's name ("" when isolated or when none selects)
  std::string message;  // human sentence: which policy, which rule/peer admits what; for the NetworkIsolated condition
};

// `policies`: EVERY NetworkPolicy of the instance's namespace, as stored (objects naming another
// namespace are skipped); `podLabels`: the instance pods' labels. Not isolated when our policy
// (in.policyName) is missing, when no selecting policy isolates Ingress, or when any rule of a
// selecting policy admits a peer not provably allowed (the first such, by policy name, is named).
IsolationVerdict evaluateIsolation(const InstanceNetworkInput& in, const Labels& podLabels, const std::vector<Json>& policies);

// spec.access itself: the podSelector must be a valid label selector (operators In/NotIn with
// values, Exists/DoesNotExist without, valid label keys and values) and the namespaces DNS labels.
// std::nullopt when fine; otherwise a message naming the field, e.g.
// "spec.access.podSelector.matchExpressions[0].values: must be non-empty for In".
std::optional<std::string> validateAccess(const ServiceDatabase& sdb);

// A spec.access that could select the pods of another ServiceDatabase's owner service is refused:
// for every `other` of a different service (others of the same service may share access; sdb itself
// is skipped by namespace and name), other.ns is among sdb's effective access namespaces and the
// effective access selector is satisfiable together with app.kubernetes.io/name=<other.service>.
// Returns a message naming spec.access.podSelector (and spec.access.namespaces when the namespace
// came from there) and the other ServiceDatabase, the first in (namespace, name) order; std::nullopt
// when fine. An invalid selector returns validateAccess's message.
std::optional<std::string> accessConflict(const ServiceDatabase& sdb, const std::vector<ServiceDatabase>& others);

}  // namespace sdb::specs
