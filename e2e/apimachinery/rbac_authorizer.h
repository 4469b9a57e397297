// RBAC authorization with kube-apiserver's semantics (k8s.io/kubernetes plugin/pkg/auth/authorizer/rbac):
// a pure function from (user, request attributes, the RBAC objects) to allow or deny with a reason.
//
// - Role and ClusterRole rules: apiGroups, resources ("*", "pods", "pods/log", "*/status"),
//   resourceNames (only requests that name an object), verbs ("*"), nonResourceURLs ("/apis/*");
// - RoleBindings grant their Role's or ClusterRole's rules in their own namespace only;
//   ClusterRoleBindings grant everywhere, cluster-scoped resources included;
// - subjects: User, Group (system:authenticated, system:serviceaccounts,
//   system:serviceaccounts:<ns>, ...), ServiceAccount (namespace defaults to the RoleBinding's);
// - a ClusterRole with aggregationRule also has the rules of every ClusterRole its selectors match
//   (kube's aggregation controller writes them into `rules`; we compute them when authorizing);
// - a binding whose role is missing grants nothing; a denial then carries kube's reason
//   `RBAC: clusterrole.rbac.authorization.k8s.io "x" not found`.
// The default policy (bootstrapPolicy) is the part of kube's bootstrap roles clients rely on:
// discovery (/api, /apis, /openapi, /version, health paths) for authenticated users, cluster-admin
// bound to system:masters, and system:basic-user.
//
// Contract: pure functions over values; thread-safe. loadRbacPolicy reads the store (thread-safe).
#pragma once

#include <string>
#include <vector>

#include "e2e/apimachinery/store.h"
#include "operator/core/json.h"
#include "operator/kube/api_error.h"

namespace sdb::apimachinery {

struct AuthUser {
  std::string name;                 // "system:serviceaccount:ns:sa"
  std::vector<std::string> groups;  // "system:serviceaccounts", "system:authenticated", ...
};

// What kube-apiserver's RequestInfo resolver extracts from a request (see requestAttributes in
// e2e/localcluster/request_attributes.h for the HTTP side).
struct RequestAttributes {
  bool resourceRequest = true;
  std::string verb;  // get list watch create update patch delete deletecollection; or the lower-case method
  std::string apiGroup, apiVersion, resource, subresource, ns, name;
  std::string path;  // the URL path (non-resource requests are authorized by it)
};

struct RbacPolicy {
  std::vector<Json> roles, clusterRoles, roleBindings, clusterRoleBindings;
};

struct AuthorizationDecision {
  bool allowed = false;
  // On allow, kube's `RBAC: allowed by RoleBinding "rb/ns" of Role "r" to ServiceAccount "sa/ns"`;
  // on deny, "" or `RBAC: role.rbac.authorization.k8s.io "r" not found` (missing roles).
  std::string reason;
};

AuthorizationDecision authorize(const RbacPolicy& policy, const AuthUser& user, const RequestAttributes& attrs);

// The 403 kube-apiserver answers a denied request with (responsewriters.Forbidden): message
// `secrets "x" is forbidden: User "u" cannot get resource "secrets" in API group "" in the namespace "ns"`,
// reason Forbidden, details {name, group, kind = resource}.
kube::ApiError forbiddenError(const AuthUser& user, const RequestAttributes& attrs, const std::string& reason);

// kube's bootstrap ClusterRoles and ClusterRoleBindings that we model (see the header comment).
std::vector<Json> bootstrapClusterRoles();
std::vector<Json> bootstrapClusterRoleBindings();

// The RBAC objects in the store now.
RbacPolicy loadRbacPolicy(Store& store);

}  // namespace sdb::apimachinery
