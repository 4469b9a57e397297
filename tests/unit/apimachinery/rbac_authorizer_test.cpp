// RBAC authorization as kube-apiserver decides it: one table of (policy, user, request) -> decision.
#include "e2e/apimachinery/rbac_authorizer.h"

#include <gtest/gtest.h>

namespace sdb::apimachinery {
namespace {

Json role(const std::string& ns, const std::string& name, Json rules) {
  Json m = {{"name", name}};
  if (!ns.empty()) m["namespace"] = ns;
  return {{"kind", ns.empty() ? "ClusterRole" : "Role"}, {"metadata", m}, {"rules", std::move(rules)}};
}

Json binding(const std::string& ns, const std::string& name, const std::string& roleKind, const std::string& roleName,
             Json subjects) {
  Json m = {{"name", name}};
  if (!ns.empty()) m["namespace"] = ns;
  return {{"kind", ns.empty() ? "ClusterRoleBinding" : "RoleBinding"},
          {"metadata", m},
          {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", roleKind}, {"name", roleName}}},
          {"subjects", std::move(subjects)}};
}

Json sa(const std::string& ns, const std::string& name) {
  Json s = {{"kind", "ServiceAccount"}, {"name", name}};
  if (!ns.empty()) s["namespace"] = ns;
  return s;
}

const AuthUser kOperator{"system:serviceaccount:ops:op",
                         {"system:serviceaccounts", "system:serviceaccounts:ops", "system:authenticated"}};
const AuthUser kLocal{"system:serviceaccount:b:op", {"system:serviceaccounts", "system:serviceaccounts:b", "system:authenticated"}};
const AuthUser kOther{"system:serviceaccount:app:web",
                      {"system:serviceaccounts", "system:serviceaccounts:app", "system:authenticated"}};

RequestAttributes res(const std::string& verb, const std::string& group, const std::string& resource,
                      const std::string& ns = "", const std::string& name = "", const std::string& sub = "") {
  RequestAttributes a;
  a.verb = verb;
  a.apiGroup = group;
  a.apiVersion = "v1";
  a.resource = resource;
  a.ns = ns;
  a.name = name;
  a.subresource = sub;
  return a;
}

RequestAttributes path(const std::string& p) {
  RequestAttributes a;
  a.resourceRequest = false;
  a.verb = "get";
  a.path = p;
  return a;
}

RbacPolicy policy() {
  RbacPolicy p;
  p.roles = {
      role("a", "secrets-reader", {{{"apiGroups", {""}}, {"resources", {"secrets"}}, {"verbs", {"get", "list", "watch"}}}}),
      role("a", "one-secret",
           {{{"apiGroups", {""}}, {"resources", {"secrets"}}, {"resourceNames", {"only"}}, {"verbs", {"update"}}}}),
      role("a", "logs", {{{"apiGroups", {""}}, {"resources", {"pods/log"}}, {"verbs", {"get"}}}}),
      role("a", "statuses", {{{"apiGroups", {"*"}}, {"resources", {"*/status"}}, {"verbs", {"update"}}}}),
      role("b", "everything", {{{"apiGroups", {"*"}}, {"resources", {"*"}}, {"verbs", {"*"}}}}),
  };
  p.clusterRoles = bootstrapClusterRoles();
  p.clusterRoles.push_back(role("", "leases", {{{"apiGroups", {"coordination.k8s.io"}}, {"resources", {"leases"}},
                                                {"verbs", {"get", "update"}}}}));
  p.clusterRoles.push_back(role("", "ns-reader", {{{"apiGroups", {""}}, {"resources", {"namespaces"}}, {"verbs", {"list"}}}}));
  Json aggregate = role("", "aggregate", Json::array());
  aggregate["aggregationRule"] = {{"clusterRoleSelectors", {{{"matchLabels", {{"agg", "yes"}}}}}}};
  p.clusterRoles.push_back(aggregate);
  Json part = role("", "part", {{{"apiGroups", {"batch"}}, {"resources", {"jobs"}}, {"verbs", {"create"}}}});
  part["metadata"]["labels"] = {{"agg", "yes"}};
  p.clusterRoles.push_back(part);
  p.clusterRoleBindings = bootstrapClusterRoleBindings();
  p.clusterRoleBindings.push_back(binding("", "ns-reader", "ClusterRole", "ns-reader", {sa("ops", "op")}));
  p.clusterRoleBindings.push_back(binding("", "all-sas-aggregate", "ClusterRole", "aggregate",
                                          {{{"kind", "Group"}, {"name", "system:serviceaccounts:ops"}}}));
  p.roleBindings = {
      binding("a", "r1", "Role", "secrets-reader", {sa("ops", "op")}),
      binding("a", "r2", "Role", "one-secret", {sa("ops", "op")}),
      binding("a", "r3", "Role", "logs", {sa("ops", "op")}),
      binding("a", "r4", "Role", "statuses", {sa("ops", "op")}),
      // A ClusterRole bound by a RoleBinding: only in that namespace.
      binding("a", "r5", "ClusterRole", "leases", {sa("ops", "op")}),
      // ServiceAccount subject without a namespace: the binding's namespace.
      binding("b", "r6", "Role", "everything", {sa("", "op")}),
      binding("c", "dangling", "Role", "gone", {sa("ops", "op")}),
  };
  return p;
}

struct Case {
  const char* what;
  AuthUser user;
  RequestAttributes attrs;
  bool allowed;
};

TEST(RbacAuthorizer, Table) {
  const RbacPolicy p = policy();
  const Case cases[] = {
      {"role verbs: get", kOperator, res("get", "", "secrets", "a", "x"), true},
      {"role verbs: list", kOperator, res("list", "", "secrets", "a"), true},
      {"role verbs: create not granted", kOperator, res("create", "", "secrets", "a"), false},
      {"role is namespaced", kOperator, res("get", "", "secrets", "z", "x"), false},
      {"other identity", kOther, res("get", "", "secrets", "a", "x"), false},
      {"wrong group", kOperator, res("get", "apps", "secrets", "a", "x"), false},
      {"resourceNames: the named object", kOperator, res("update", "", "secrets", "a", "only"), true},
      {"resourceNames: another object", kOperator, res("update", "", "secrets", "a", "other"), false},
      {"resourceNames: no name (create)", kOperator, res("update", "", "secrets", "a"), false},
      {"subresource pods/log", kOperator, res("get", "", "pods", "a", "p", "log"), true},
      {"pods/log does not grant pods", kOperator, res("get", "", "pods", "a", "p"), false},
      {"secrets does not grant a subresource", kOperator, res("get", "", "secrets", "a", "x", "status"), false},
      {"*/status", kOperator, res("update", "servicedb.io", "servicedatabases", "a", "x", "status"), true},
      {"*/status is not the main resource", kOperator, res("update", "servicedb.io", "servicedatabases", "a", "x"), false},
      {"* covers subresources", kLocal, res("create", "", "serviceaccounts", "b", "x", "token"), true},
      {"* wildcards", kLocal, res("deletecollection", "apps", "statefulsets", "b"), true},
      {"subject namespace defaults to the binding's", kOperator, res("get", "", "pods", "b", "x"), false},
      {"ClusterRole by RoleBinding: its namespace", kOperator, res("update", "coordination.k8s.io", "leases", "a", "l"), true},
      {"ClusterRole by RoleBinding: not elsewhere", kOperator, res("update", "coordination.k8s.io", "leases", "z", "l"), false},
      {"ClusterRole by RoleBinding: not cluster-wide", kOperator, res("list", "coordination.k8s.io", "leases"), false},
      {"ClusterRoleBinding: cluster scope", kOperator, res("list", "", "namespaces"), true},
      {"ClusterRoleBinding: in a namespace too", kOperator, res("list", "", "namespaces", "q"), true},
      {"group subject + aggregationRule", kOperator, res("create", "batch", "jobs", "q"), true},
      {"aggregation: only selected rules", kOperator, res("delete", "batch", "jobs", "q", "j"), false},
      {"group of another namespace", kOther, res("create", "batch", "jobs", "q"), false},
      {"discovery for authenticated users", kOther, path("/apis/apps/v1"), true},
      {"openapi", kOther, path("/openapi/v3"), true},
      {"version", kOther, path("/version"), true},
      {"unknown path", kOther, path("/metrics"), false},
      {"unauthenticated: version only", AuthUser{"system:anonymous", {"system:unauthenticated"}}, path("/version"), true},
      {"unauthenticated: no discovery", AuthUser{"system:anonymous", {"system:unauthenticated"}}, path("/api"), false},
      {"system:masters", AuthUser{"admin", {"system:masters"}}, res("delete", "", "nodes", "", "n"), true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(authorize(p, c.user, c.attrs).allowed, c.allowed) << c.what;
  }
}

TEST(RbacAuthorizer, AllowNamesTheBindingAsKubeDoes) {
  EXPECT_EQ(authorize(policy(), kOperator, res("update", "coordination.k8s.io", "leases", "a", "l")).reason,
            "RBAC: allowed by RoleBinding \"r5/a\" of ClusterRole \"leases\" to ServiceAccount \"op/ops\"");
  EXPECT_EQ(authorize(policy(), kOperator, res("list", "", "namespaces")).reason,
            "RBAC: allowed by ClusterRoleBinding \"ns-reader\" of ClusterRole \"ns-reader\" to ServiceAccount \"op/ops\"");
  EXPECT_EQ(authorize(policy(), kOther, path("/version")).reason,
            "RBAC: allowed by ClusterRoleBinding \"system:discovery\" of ClusterRole \"system:discovery\" to Group "
            "\"system:authenticated\"");
}

TEST(RbacAuthorizer, MissingRoleIsTheReason) {
  auto d = authorize(policy(), kOperator, res("get", "", "configmaps", "c", "x"));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "RBAC: role.rbac.authorization.k8s.io \"gone\" not found");
  EXPECT_EQ(authorize(policy(), kOperator, res("get", "", "configmaps", "z", "x")).reason, "");
}

TEST(RbacAuthorizer, ForbiddenMessagesAreKubeApiservers) {
  const AuthUser u{"system:serviceaccount:ns:sa", {}};
  auto e = forbiddenError(u, res("get", "", "secrets", "ns", "foo"), "");
  EXPECT_EQ(e.httpCode, 403);
  EXPECT_EQ(e.message,
            "secrets \"foo\" is forbidden: User \"system:serviceaccount:ns:sa\" cannot get resource \"secrets\" in API "
            "group \"\" in the namespace \"ns\"");
  EXPECT_EQ(e.kind, "secrets");
  EXPECT_EQ(e.name, "foo");
  EXPECT_EQ(forbiddenError(u, res("list", "", "secrets", "ns"), "").message,
            "secrets is forbidden: User \"system:serviceaccount:ns:sa\" cannot list resource \"secrets\" in API group "
            "\"\" in the namespace \"ns\"");
  EXPECT_EQ(forbiddenError(u, res("list", "storage.k8s.io", "storageclasses"), "").message,
            "storageclasses.storage.k8s.io is forbidden: User \"system:serviceaccount:ns:sa\" cannot list resource "
            "\"storageclasses\" in API group \"storage.k8s.io\" at the cluster scope");
  EXPECT_EQ(forbiddenError(u, res("create", "", "serviceaccounts", "ns", "x", "token"), "").message,
            "serviceaccounts \"x\" is forbidden: User \"system:serviceaccount:ns:sa\" cannot create resource "
            "\"serviceaccounts/token\" in API group \"\" in the namespace \"ns\"");
  EXPECT_EQ(forbiddenError(u, path("/metrics"), "").message,
            "forbidden: User \"system:serviceaccount:ns:sa\" cannot get path \"/metrics\"");
  EXPECT_EQ(forbiddenError(u, res("get", "", "secrets", "ns", "foo"), "RBAC: x").message.substr(0, 14), "secrets \"foo\" ");
}

}  // namespace
}  // namespace sdb::apimachinery
