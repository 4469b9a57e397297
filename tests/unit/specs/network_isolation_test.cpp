// Network isolation of a dedicated instance: golden files of the built NetworkPolicy, and tables for
// the NetworkIsolated verdict, the refusal of a spec.access that reaches another service, and the
// validation of spec.access.
#include "operator/specs/network_isolation.h"

#include <gtest/gtest.h>

#include "tests/unit/specs/golden_file.h"

using namespace sdb;
using namespace sdb::specs;
using sdb::specs::golden::matchesGolden;

namespace {

ServiceDatabase sdbWith(const std::string& name, const std::string& service, Json access = nullptr, const std::string& ns = "shop") {
  Json obj = {{"apiVersion", "servicedb.io/v1alpha1"},
              {"kind", "ServiceDatabase"},
              {"metadata", {{"name", name}, {"namespace", ns}, {"uid", name + "-uid"}}},
              {"spec", {{"service", service}, {"engine", "postgres"}}}};
  if (!access.is_null()) obj["spec"]["access"] = access;
  auto s = parseServiceDatabase(obj);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.ok() ? *s : ServiceDatabase{};
}

const ServiceDatabase& orders() {
  static const ServiceDatabase s = sdbWith("orders", "orders-api");
  return s;
}

InstanceNetworkInput input(const ServiceDatabase& sdb) {
  InstanceNetworkInput in;
  in.sdb = &sdb;
  in.policyName = sdb.name + "-instance";
  in.port = 5432;
  in.operatorNamespace = "servicedb-system";
  in.operatorCidrs = {"198.19.0.0/24"};
  in.ownerReference = {{"apiVersion", "servicedb.io/v1alpha1"}, {"kind", "ServiceDatabase"}, {"name", sdb.name},
                       {"uid", sdb.uid}, {"controller", true}, {"blockOwnerDeletion", true}};
  return in;
}

TEST(InstanceNetworkPolicy, DefaultAccessGolden) {
  EXPECT_TRUE(matchesGolden(instanceNetworkPolicy(input(orders())), "network_policy_default_access.json"));
}

TEST(InstanceNetworkPolicy, CustomAccessWithoutOwnerOrCidrsGolden) {
  const ServiceDatabase s = sdbWith("orders", "orders-api",
                                    Json::parse(R"({"namespaces": ["web", "shop", "web"],
      "podSelector": {"matchLabels": {"team": "orders"},
                      "matchExpressions": [{"key": "tier", "operator": "In", "values": ["api", "worker"]}]}})"));
  InstanceNetworkInput in = input(s);
  in.port = 6379;
  in.ownerReference = nullptr;
  in.operatorCidrs.clear();
  EXPECT_TRUE(matchesGolden(instanceNetworkPolicy(in), "network_policy_custom_access.json"));
}

TEST(InstanceNetworkPolicy, WithoutOperatorNamespaceHasNoOperatorPeer) {
  InstanceNetworkInput in = input(orders());
  in.operatorNamespace.clear();
  const Json from = instanceNetworkPolicy(in)["spec"]["ingress"][0]["from"];
  ASSERT_EQ(from.size(), 4u) << from;  // access pods, Jobs, replicas, the operator's CIDR
  for (const auto& peer : from) {
    EXPECT_NE(jsonString(peer, {"podSelector", "matchLabels", "app.kubernetes.io/name"}), "servicedb-operator") << peer;
  }
  EXPECT_EQ(from[3], (Json{{"ipBlock", {{"cidr", "198.19.0.0/24"}}}}));
}

Json np(const std::string& name, const std::string& spec) {
  return {{"apiVersion", "networking.k8s.io/v1"}, {"kind", "NetworkPolicy"},
          {"metadata", {{"name", name}, {"namespace", "shop"}}}, {"spec", Json::parse(spec)}};
}

// An extra policy selecting every pod of the namespace, admitting the given peers.
Json allowFrom(const std::string& name, const std::string& peers) {
  return np(name, R"({"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": )" + peers + "}]}");
}

struct IsolationCase {
  std::string what;
  std::vector<Json> extra;      // besides our own policy
  bool isolated;
  std::string policy;           // expected IsolationVerdict::policy
  std::string messagePart;      // expected within IsolationVerdict::message
  bool withoutOurs = false;
};

std::vector<IsolationCase> isolationCases() {
  const std::string access = R"({"matchLabels": {"app.kubernetes.io/name": "orders-api"}})";
  const std::string shopNs = R"({"matchLabels": {"kubernetes.io/metadata.name": "shop"}})";
  return {
      {"our policy alone", {}, true, "", "limited to the allowed peers by NetworkPolicy \"orders-instance\""},
      {"our policy missing", {np("deny-all", R"({"podSelector": {}})")}, false, "orders-instance", "\"orders-instance\" is missing", true},
      {"no policy at all", {}, false, "orders-instance", "is missing", true},
      {"extra ingress [{}] selecting the pods", {np("allow-all", R"({"podSelector": {}, "ingress": [{}]})")}, false, "allow-all",
       "NetworkPolicy \"allow-all\" ingress[0] has no \"from\", so it admits every source"},
      {"extra from: [] admits everyone", {allowFrom("empty-from", "[]")}, false, "empty-from", "admits every source"},
      {"ports do not narrow a rule that admits everyone",
       {np("port-9999", R"({"podSelector": {}, "ingress": [{"ports": [{"port": 9999}]}]})")}, false, "port-9999", "admits every source"},
      {"extra podSelector {} from a narrower access peer",
       {allowFrom("web", R"([{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders-api", "tier": "web"}}}])")}, true, "",
       "by NetworkPolicies \"orders-instance\", \"web\""},
      {"extra from the access peer in our namespace by name",
       {allowFrom("named", R"([{"namespaceSelector": )" + shopNs + R"(, "podSelector": )" + access + "}]")}, true, "", ""},
      {"extra with namespaceSelector {}", {allowFrom("any-ns", R"([{"namespaceSelector": {}, "podSelector": )" + access + "}]")}, false,
       "any-ns", "ingress[0].from[0] admits pods of every namespace (namespaceSelector {})"},
      {"namespaceSelector by another label", {allowFrom("team-ns", R"([{"namespaceSelector": {"matchLabels": {"team": "shop"}}}])")},
       false, "team-ns", "does not pin kubernetes.io/metadata.name"},
      {"namespaceSelector naming a second namespace",
       {allowFrom("two-ns", R"([{"namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In",
          "values": ["shop", "web"]}]}, "podSelector": )" + access + "}]")},
       false, "two-ns", "in namespace \"web\", not provably among the allowed peers"},
      {"namespaceSelector selecting no namespace", {allowFrom("no-ns", R"([{"namespaceSelector": {"matchExpressions":
          [{"key": "kubernetes.io/metadata.name", "operator": "DoesNotExist"}]}}])")}, true, "", ""},
      {"namespaceSelector that no namespace satisfies", {allowFrom("contradiction", R"([{"namespaceSelector": {"matchLabels": {"team": "x"},
          "matchExpressions": [{"key": "team", "operator": "NotIn", "values": ["x"]}]}}])")}, true, "", ""},
      {"extra selecting other pods only", {np("other-pods", R"({"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{}]})")},
       true, "", ""},
      {"a policy of another namespace", {[] { Json p = np("elsewhere", R"({"podSelector": {}, "ingress": [{}]})");
                                              p["metadata"]["namespace"] = "web"; return p; }()}, true, "", ""},
      {"ipBlock equal to the operator CIDR", {allowFrom("op-cidr", R"([{"ipBlock": {"cidr": "198.19.0.0/24"}}])")}, true, "", ""},
      {"ipBlock inside the operator CIDR", {allowFrom("op-half", R"([{"ipBlock": {"cidr": "198.19.0.128/25"}}])")}, true, "", ""},
      {"ipBlock around the operator CIDR", {allowFrom("wide", R"([{"ipBlock": {"cidr": "198.18.0.0/15"}}])")}, false, "wide",
       "ingress[0].from[0] admits the addresses of ipBlock 198.18.0.0/15, outside the operator's CIDRs"},
      {"ipBlock everywhere, its except does not help",
       {allowFrom("world", R"([{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["198.18.0.0/15"]}}])")}, false, "world", "0.0.0.0/0"},
      {"ipBlock beside the operator CIDR", {allowFrom("beside", R"([{"ipBlock": {"cidr": "198.19.1.0/24"}}])")}, false, "beside", ""},
      {"Egress-only policy is ignored for ingress",
       {np("egress-only", R"({"podSelector": {}, "policyTypes": ["Egress"], "ingress": [{}], "egress": [{}]})")}, true, "", ""},
      {"policyTypes absent defaults to Ingress", {np("untyped", R"({"podSelector": {}, "ingress": [{}], "egress": [{}]})")}, false,
       "untyped", "admits every source"},
      {"policyTypes [] defaults to Ingress", {np("empty-types", R"({"podSelector": {}, "policyTypes": [], "ingress": [{}]})")}, false,
       "empty-types", ""},
      {"selecting by NotIn that excludes the instance",
       {np("not-instance", R"({"podSelector": {"matchExpressions": [{"key": "servicedb.io/component", "operator": "NotIn",
          "values": ["instance"]}]}, "ingress": [{}]})")}, true, "", ""},
      {"selecting by NotIn that includes the instance",
       {np("not-backup", R"({"podSelector": {"matchExpressions": [{"key": "servicedb.io/component", "operator": "NotIn",
          "values": ["backup"]}]}, "ingress": [{}]})")}, false, "not-backup", ""},
      {"selecting by DoesNotExist of a label the instance has",
       {np("unlabelled", R"({"podSelector": {"matchExpressions": [{"key": "servicedb.io/database", "operator": "DoesNotExist"}]},
          "ingress": [{}]})")}, true, "", ""},
      {"selecting by DoesNotExist of a label the instance lacks",
       {np("no-team", R"({"podSelector": {"matchExpressions": [{"key": "team", "operator": "DoesNotExist"}]}, "ingress": [{}]})")},
       false, "no-team", ""},
      {"another service's pods", {allowFrom("billing", R"([{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "billing"}}}])")},
       false, "billing", "admits pods matching {\"matchLabels\":{\"app.kubernetes.io/name\":\"billing\"}} in namespace \"shop\""},
      {"every pod of our namespace", {allowFrom("whole-ns", R"([{"podSelector": {}}])")}, false, "whole-ns", ""},
      {"our backup Jobs", {allowFrom("backups", R"([{"podSelector": {"matchLabels": {"servicedb.io/database": "orders",
          "app.kubernetes.io/managed-by": "servicedb-operator", "servicedb.io/component": "backup"}}}])")}, true, "", ""},
      {"Jobs without the managed-by label", {allowFrom("jobs", R"([{"podSelector": {"matchLabels": {"servicedb.io/database": "orders",
          "servicedb.io/component": "backup"}}}])")}, false, "jobs", ""},
      {"another database's Jobs", {allowFrom("their-jobs", R"([{"podSelector": {"matchLabels": {"servicedb.io/database": "billing",
          "app.kubernetes.io/managed-by": "servicedb-operator", "servicedb.io/component": "backup"}}}])")}, false, "their-jobs", ""},
      {"our replicas", {allowFrom("replicas", R"([{"podSelector": {"matchLabels": {"servicedb.io/database": "orders",
          "servicedb.io/component": "replica"}}}])")}, true, "", ""},
      {"the operator in its namespace", {allowFrom("operator", R"([{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name":
          "servicedb-system"}}, "podSelector": {"matchLabels": {"app.kubernetes.io/name": "servicedb-operator"}}}])")}, true, "", ""},
      {"operator-looking pods in our namespace", {allowFrom("fake-operator", R"([{"podSelector": {"matchLabels":
          {"app.kubernetes.io/name": "servicedb-operator"}}}])")}, false, "fake-operator", ""},
      {"a plain deny-all", {np("deny-all", R"({"podSelector": {}, "policyTypes": ["Ingress"]})")}, true, "", ""},
      {"the first offender by name", {allowFrom("b-open", "[]"), allowFrom("a-open", "[]")}, false, "a-open", ""},
      {"a peer naming nothing", {allowFrom("odd", "[{}]")}, false, "odd", "cannot be read"},
      {"an unreadable selector", {np("bad", R"({"podSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}})")}, false, "bad",
       "cannot be read (spec.podSelector.matchExpressions[0].values: must be non-empty for In)"},
  };
}

TEST(EvaluateIsolation, Table) {
  const InstanceNetworkInput in = input(orders());
  const Labels pod = standardLabels(orders(), Component::kInstance);
  for (const auto& c : isolationCases()) {
    std::vector<Json> policies = c.extra;
    if (!c.withoutOurs) policies.push_back(instanceNetworkPolicy(in));
    const IsolationVerdict v = evaluateIsolation(in, pod, policies);
    EXPECT_EQ(v.isolated, c.isolated) << c.what << ": " << v.message;
    EXPECT_EQ(v.policy, c.policy) << c.what << ": " << v.message;
    EXPECT_NE(v.message.find(c.messagePart), std::string::npos) << c.what << ": " << v.message;
  }
}

TEST(EvaluateIsolation, OurPolicyAlteredOrNotSelecting) {
  const InstanceNetworkInput in = input(orders());
  const Labels pod = standardLabels(orders(), Component::kInstance);
  Json widened = instanceNetworkPolicy(in);
  widened["spec"]["ingress"][0]["from"].push_back({{"namespaceSelector", Json::object()}});
  IsolationVerdict v = evaluateIsolation(in, pod, {widened});
  EXPECT_FALSE(v.isolated);
  EXPECT_EQ(v.policy, "orders-instance");
  EXPECT_NE(v.message.find("every namespace"), std::string::npos) << v.message;

  Json elsewhere = instanceNetworkPolicy(in);
  elsewhere["spec"]["podSelector"]["matchLabels"]["servicedb.io/database"] = "billing";
  v = evaluateIsolation(in, pod, {elsewhere});
  EXPECT_FALSE(v.isolated);
  EXPECT_EQ(v.policy, "");
  EXPECT_EQ(v.message, "no NetworkPolicy isolates the instance pods");
}

// Whatever spec.access says, the policy we build passes our own check, and a peer wider than it
// by one namespace or one label does not.
TEST(EvaluateIsolation, BuiltPoliciesAreIsolatedForCustomAccess) {
  const std::vector<Json> accesses = {
      nullptr,
      Json::parse(R"({"namespaces": ["web", "shop"]})"),
      Json::parse(R"({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["api", "worker"]},
                                                           {"key": "canary", "operator": "DoesNotExist"}]}, "namespaces": ["web"]})"),
  };
  for (const auto& access : accesses) {
    const ServiceDatabase s = sdbWith("orders", "orders-api", access);
    const InstanceNetworkInput in = input(s);
    const Labels pod = standardLabels(s, Component::kInstance);
    const Json ours = instanceNetworkPolicy(in);
    IsolationVerdict v = evaluateIsolation(in, pod, {ours});
    EXPECT_TRUE(v.isolated) << access << ": " << v.message;

    const Json accessPeer = ours["spec"]["ingress"][0]["from"][0];
    Json otherNs = accessPeer;
    otherNs["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] = "elsewhere";
    v = evaluateIsolation(in, pod, {ours, allowFrom("other-ns", Json::array({otherNs}).dump())});
    EXPECT_FALSE(v.isolated) << access;
    Json wider = accessPeer;
    wider["podSelector"] = Json::object();
    v = evaluateIsolation(in, pod, {ours, allowFrom("wider", Json::array({wider}).dump())});
    EXPECT_FALSE(v.isolated) << access;
  }
}

TEST(AccessConflict, Table) {
  struct Case {
    std::string what;
    Json access;
    std::vector<ServiceDatabase> others;
    std::string conflict;  // "" = none; else a part of the message
  };
  const ServiceDatabase billing = sdbWith("billing", "billing-api");
  const ServiceDatabase search = sdbWith("search", "search-api");
  const ServiceDatabase ordersToo = sdbWith("orders-archive", "orders-api");
  const ServiceDatabase webBilling = sdbWith("billing", "billing-api", nullptr, "web");
  const Json everyPod = Json::parse(R"({"podSelector": {"matchLabels": {}}})");
  const Json team = Json::parse(R"({"podSelector": {"matchLabels": {"team": "x"}}})");
  const std::vector<Case> cases = {
      {"default access", nullptr, {billing, search}, ""},
      {"every pod", everyPod, {billing}, "spec.access.podSelector: could select the pods of service \"billing-api\" "
                                         "(app.kubernetes.io/name=billing-api), the owner of ServiceDatabase shop/billing"},
      {"a label other services may carry", team, {billing}, "ServiceDatabase shop/billing"},
      {"pinned to our service", Json::parse(R"({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders-api", "team": "x"}}})"),
       {billing}, ""},
      {"NotIn the other service", Json::parse(R"({"podSelector": {"matchExpressions": [{"key": "app.kubernetes.io/name",
          "operator": "NotIn", "values": ["billing-api"]}]}})"), {billing}, ""},
      {"NotIn one service, but a third exists", Json::parse(R"({"podSelector": {"matchExpressions": [{"key": "app.kubernetes.io/name",
          "operator": "NotIn", "values": ["billing-api"]}]}})"), {billing, search}, "ServiceDatabase shop/search"},
      {"In two services", Json::parse(R"({"podSelector": {"matchExpressions": [{"key": "app.kubernetes.io/name",
          "operator": "In", "values": ["orders-api", "billing-api"]}]}})"), {billing}, "\"billing-api\""},
      {"DoesNotExist on the name label", Json::parse(R"({"podSelector": {"matchExpressions": [{"key": "app.kubernetes.io/name",
          "operator": "DoesNotExist"}]}})"), {billing}, ""},
      {"same service may share", team, {ordersToo}, ""},
      {"itself is skipped, even a stale view naming another service", team, {sdbWith("orders", "renamed-api")}, ""},
      {"other namespace not reached", team, {webBilling}, ""},
      {"other namespace reached through spec.access.namespaces",
       Json::parse(R"({"podSelector": {"matchLabels": {"team": "x"}}, "namespaces": ["shop", "web"]})"), {webBilling},
       "spec.access.podSelector (in namespace \"web\" of spec.access.namespaces): could select the pods of service \"billing-api\""},
      {"first conflict in namespace/name order", team, {search, billing}, "ServiceDatabase shop/billing"},
      {"invalid selector", Json::parse(R"({"podSelector": {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}})"),
       {}, "spec.access.podSelector.matchExpressions[0].values: must be empty for Exists"},
  };
  for (const auto& c : cases) {
    const ServiceDatabase s = sdbWith("orders", "orders-api", c.access);
    auto got = accessConflict(s, c.others);
    if (c.conflict.empty()) {
      EXPECT_EQ(got, std::nullopt) << c.what;
    } else {
      ASSERT_TRUE(got.has_value()) << c.what;
      EXPECT_NE(got->find(c.conflict), std::string::npos) << c.what << ": " << *got;
    }
  }
}

TEST(ValidateAccess, Table) {
  struct Case {
    std::string access;
    std::string error;  // "" = valid
  };
  const std::vector<Case> cases = {
      {R"({})", ""},
      {R"({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders-api"}}, "namespaces": ["shop", "web-1"]})", ""},
      {R"({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["batch"]}, {"key": "x", "operator": "Exists"}]}})", ""},
      {R"({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In"}]}})",
       "spec.access.podSelector.matchExpressions[0].values: must be non-empty for In"},
      {R"({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": []}]}})",
       "spec.access.podSelector.matchExpressions[0].values: must be non-empty for NotIn"},
      {R"({"podSelector": {"matchExpressions": [{"key": "x", "operator": "Exists"}, {"key": "tier", "operator": "DoesNotExist", "values": ["a"]}]}})",
       "spec.access.podSelector.matchExpressions[1].values: must be empty for DoesNotExist"},
      {R"({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "Gt", "values": ["1"]}]}})",
       "spec.access.podSelector.matchExpressions[0].operator: unknown operator \"Gt\" (In, NotIn, Exists or DoesNotExist)"},
      {R"({"podSelector": {"matchLabels": {"tier": "has space"}}})",
       "spec.access.podSelector.matchLabels[\"tier\"]: value \"has space\" may contain only letters, digits, '-', '_' and '.'"},
      {R"({"namespaces": ["shop", "Web"]})", "spec.access.namespaces[1]: \"Web\" is not a namespace name"},
  };
  for (const auto& c : cases) {
    const ServiceDatabase s = sdbWith("orders", "orders-api", Json::parse(c.access));
    auto got = validateAccess(s);
    if (c.error.empty()) {
      EXPECT_EQ(got, std::nullopt) << c.access;
    } else {
      ASSERT_TRUE(got.has_value()) << c.access;
      EXPECT_EQ(got->rfind(c.error, 0), 0u) << c.access << ": " << *got;
    }
  }
}

}  // namespace
