#include "e2e/apimachinery/rbac_authorizer.h"

#include <algorithm>

#include "e2e/apimachinery/selectors.h"

namespace sdb::apimachinery {

namespace {

const kube::ResourceRef kRoles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
const kube::ResourceRef kClusterRoles{"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false};
const kube::ResourceRef kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true};
const kube::ResourceRef kClusterRoleBindings{"rbac.authorization.k8s.io", "v1", "clusterrolebindings",
                                             "ClusterRoleBinding", false};

std::vector<std::string> strings(const Json& rule, const char* key) {
  std::vector<std::string> out;
  if (const Json* a = jsonAt(rule, {key}); a && a->is_array()) {
    for (const auto& v : *a) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

bool has(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

bool verbMatches(const Json& rule, const std::string& verb) {
  const auto verbs = strings(rule, "verbs");
  return has(verbs, "*") || has(verbs, verb);
}

// rbac/v1 helpers' ResourceMatches: "*", the combined "resource/subresource", or "*/subresource".
bool resourceMatches(const Json& rule, const RequestAttributes& a) {
  const std::string combined = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  for (const auto& r : strings(rule, "resources")) {
    if (r == "*" || r == combined) return true;
    if (!a.subresource.empty() && r == "*/" + a.subresource) return true;
  }
  return false;
}

bool ruleAllows(const Json& rule, const RequestAttributes& a) {
  if (!verbMatches(rule, a.verb)) return false;
  if (!a.resourceRequest) {
    for (const auto& u : strings(rule, "nonResourceURLs")) {
      if (u == "*" || u == a.path) return true;
      if (!u.empty() && u.back() == '*' && a.path.rfind(u.substr(0, u.size() - 1), 0) == 0) return true;
    }
    return false;
  }
  const auto groups = strings(rule, "apiGroups");
  if (!has(groups, "*") && !has(groups, a.apiGroup)) return false;
  if (!resourceMatches(rule, a)) return false;
  const auto names = strings(rule, "resourceNames");
  return names.empty() || (!a.name.empty() && has(names, a.name));
}

bool subjectMatches(const Json& subject, const AuthUser& user, const std::string& bindingNamespace) {
  const std::string kind = subject.value("kind", "");
  const std::string name = subject.value("name", "");
  if (kind == "User") return name == user.name;
  if (kind == "Group") return has(user.groups, name);
  if (kind == "ServiceAccount") {
    std::string ns = subject.value("namespace", "");
    if (ns.empty()) ns = bindingNamespace;
    return !ns.empty() && user.name == "system:serviceaccount:" + ns + ":" + name;
  }
  return false;
}

// The binding's first subject that is the user, or null.
const Json* subjectFor(const Json& binding, const AuthUser& user) {
  const std::string ns = jsonString(binding, {"metadata", "namespace"});
  if (const Json* subjects = jsonAt(binding, {"subjects"}); subjects && subjects->is_array()) {
    for (const auto& s : *subjects) {
      if (subjectMatches(s, user, ns)) return &s;
    }
  }
  return nullptr;
}

// kube's describer: `RoleBinding "rb/ns" of ClusterRole "r" to ServiceAccount "sa/ns"`.
std::string describe(const Json& binding, const Json& subject) {
  const std::string ns = jsonString(binding, {"metadata", "namespace"});
  const std::string name = jsonString(binding, {"metadata", "name"});
  const std::string kind = subject.value("kind", "");
  std::string who = subject.value("name", "");
  if (kind == "ServiceAccount") who += "/" + (subject.value("namespace", "").empty() ? ns : subject.value("namespace", ""));
  return std::string(ns.empty() ? "ClusterRoleBinding " : "RoleBinding ") + Json(ns.empty() ? name : name + "/" + ns).dump() +
         " of " + jsonString(binding, {"roleRef", "kind"}) + " " + Json(jsonString(binding, {"roleRef", "name"})).dump() +
         " to " + kind + " " + Json(who).dump();
}

const Json* findNamed(const std::vector<Json>& objects, const std::string& ns, const std::string& name) {
  for (const auto& o : objects) {
    if (jsonString(o, {"metadata", "name"}) == name && jsonString(o, {"metadata", "namespace"}) == ns) return &o;
  }
  return nullptr;
}

// The rules of a ClusterRole, with those of the ClusterRoles its aggregationRule selects.
std::vector<Json> clusterRoleRules(const RbacPolicy& policy, const Json& role) {
  std::vector<Json> rules;
  if (const Json* r = jsonAt(role, {"rules"}); r && r->is_array()) rules.assign(r->begin(), r->end());
  const Json* selectors = jsonAt(role, {"aggregationRule", "clusterRoleSelectors"});
  if (!selectors || !selectors->is_array()) return rules;
  const std::string self = jsonString(role, {"metadata", "name"});
  for (const auto& sel : *selectors) {
    auto selector = LabelSelector::fromJson(sel);
    if (!selector.ok() || selector->empty()) continue;  // kube: an empty selector selects nothing here
    for (const auto& other : policy.clusterRoles) {
      if (jsonString(other, {"metadata", "name"}) == self || !selector->matches(other)) continue;
      if (const Json* r = jsonAt(other, {"rules"}); r && r->is_array()) rules.insert(rules.end(), r->begin(), r->end());
    }
  }
  return rules;
}

struct Visit {
  bool allowed = false;
  std::string by;
  std::vector<std::string> errors;
};

void visitBinding(const RbacPolicy& policy, const Json& binding, const Json& subject, const RequestAttributes& a, Visit& v) {
  const std::string ns = jsonString(binding, {"metadata", "namespace"});
  const std::string kind = jsonString(binding, {"roleRef", "kind"});
  const std::string name = jsonString(binding, {"roleRef", "name"});
  std::vector<Json> rules;
  if (kind == "ClusterRole") {
    const Json* role = findNamed(policy.clusterRoles, "", name);
    if (!role) {
      v.errors.push_back("clusterrole.rbac.authorization.k8s.io \"" + name + "\" not found");
      return;
    }
    rules = clusterRoleRules(policy, *role);
  } else if (kind == "Role" && !ns.empty()) {
    const Json* role = findNamed(policy.roles, ns, name);
    if (!role) {
      v.errors.push_back("role.rbac.authorization.k8s.io \"" + name + "\" not found");
      return;
    }
    if (const Json* r = jsonAt(*role, {"rules"}); r && r->is_array()) rules.assign(r->begin(), r->end());
  }
  for (const auto& rule : rules) {
    if (ruleAllows(rule, a)) {
      v.allowed = true;
      v.by = "RBAC: allowed by " + describe(binding, subject);
      return;
    }
  }
}

Json clusterRole(const std::string& name, Json rules) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "ClusterRole"},
          {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/bootstrapping", "rbac-defaults"}}},
                        {"annotations", {{"rbac.authorization.kubernetes.io/autoupdate", "true"}}}}},
          {"rules", std::move(rules)}};
}

Json clusterRoleBinding(const std::string& name, const std::vector<std::string>& groups) {
  Json subjects = Json::array();
  for (const auto& g : groups) subjects.push_back({{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Group"}, {"name", g}});
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "ClusterRoleBinding"},
          {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/bootstrapping", "rbac-defaults"}}},
                        {"annotations", {{"rbac.authorization.kubernetes.io/autoupdate", "true"}}}}},
          {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", name}}},
          {"subjects", subjects}};
}

std::vector<Json> items(Store& store, const kube::ResourceRef& ref) {
  auto list = store.list(ref, "", {});
  if (!list.ok() || !list->contains("items")) return {};
  return (*list)["items"].get<std::vector<Json>>();
}

}  // namespace

AuthorizationDecision authorize(const RbacPolicy& policy, const AuthUser& user, const RequestAttributes& a) {
  Visit v;
  for (const auto& b : policy.clusterRoleBindings) {
    const Json* subject = subjectFor(b, user);
    if (!subject) continue;
    visitBinding(policy, b, *subject, a, v);
    if (v.allowed) return {true, v.by};
  }
  if (a.resourceRequest && !a.ns.empty()) {
    for (const auto& b : policy.roleBindings) {
      const Json* subject = jsonString(b, {"metadata", "namespace"}) == a.ns ? subjectFor(b, user) : nullptr;
      if (!subject) continue;
      visitBinding(policy, b, *subject, a, v);
      if (v.allowed) return {true, v.by};
    }
  }
  AuthorizationDecision d;
  if (v.errors.size() == 1) d.reason = "RBAC: " + v.errors[0];
  if (v.errors.size() > 1) {
    d.reason = "RBAC: [";
    for (size_t i = 0; i < v.errors.size(); ++i) d.reason += (i ? ", " : "") + v.errors[i];
    d.reason += "]";
  }
  return d;
}

kube::ApiError forbiddenError(const AuthUser& user, const RequestAttributes& a, const std::string& reason) {
  std::string msg;
  const Json q(user.name);
  if (!a.resourceRequest) {
    msg = "User " + q.dump() + " cannot " + a.verb + " path " + Json(a.path).dump();
  } else {
    const std::string resource = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
    msg = "User " + q.dump() + " cannot " + a.verb + " resource " + Json(resource).dump() + " in API group " +
          Json(a.apiGroup).dump() +
          (a.ns.empty() ? std::string(" at the cluster scope") : " in the namespace " + Json(a.ns).dump());
  }
  if (!reason.empty()) msg += ": " + reason;
  // apierrors.NewForbidden(groupResource, name, err).
  kube::ApiError e = kube::fromHttpResponse(403, "");
  e.reason = kube::ApiErrorReason::kForbidden;
  e.httpCode = 403;
  const std::string gr = a.resource.empty() ? "" : (a.apiGroup.empty() ? a.resource : a.resource + "." + a.apiGroup);
  if (gr.empty()) e.message = "forbidden: " + msg;
  else if (a.name.empty()) e.message = gr + " is forbidden: " + msg;
  else e.message = gr + " " + Json(a.name).dump() + " is forbidden: " + msg;
  e.name = a.name;
  e.group = a.apiGroup;
  e.kind = a.resource;
  return e;
}

std::vector<Json> bootstrapClusterRoles() {
  const Json healthAndVersion = {"/healthz", "/livez", "/readyz", "/version", "/version/"};
  Json discovery = healthAndVersion;
  for (const char* p : {"/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*"}) discovery.push_back(p);
  return {
      clusterRole("cluster-admin", Json::array({{{"apiGroups", {"*"}}, {"resources", {"*"}}, {"verbs", {"*"}}},
                                                {{"nonResourceURLs", {"*"}}, {"verbs", {"*"}}}})),
      clusterRole("system:discovery", Json::array({{{"nonResourceURLs", discovery}, {"verbs", {"get"}}}})),
      clusterRole("system:public-info-viewer", Json::array({{{"nonResourceURLs", healthAndVersion}, {"verbs", {"get"}}}})),
      clusterRole("system:basic-user",
                  Json::array({{{"apiGroups", {"authorization.k8s.io"}},
                                {"resources", {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}},
                                {"verbs", {"create"}}}})),
  };
}

std::vector<Json> bootstrapClusterRoleBindings() {
  return {
      clusterRoleBinding("cluster-admin", {"system:masters"}),
      clusterRoleBinding("system:discovery", {"system:authenticated"}),
      clusterRoleBinding("system:public-info-viewer", {"system:authenticated", "system:unauthenticated"}),
      clusterRoleBinding("system:basic-user", {"system:authenticated"}),
  };
}

RbacPolicy loadRbacPolicy(Store& store) {
  RbacPolicy p;
  p.roles = items(store, kRoles);
  p.clusterRoles = items(store, kClusterRoles);
  p.roleBindings = items(store, kRoleBindings);
  p.clusterRoleBindings = items(store, kClusterRoleBindings);
  return p;
}

}  // namespace sdb::apimachinery
