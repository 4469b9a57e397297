// Cross-check of the operator's symbolic NetworkIsolated verdict (operator/specs/network_isolation.h)
// against the node's concrete NetworkPolicy evaluator (e2e/kubelet/network_policy.h), two
// independent implementations of networking.k8s.io/v1: for thousands of random policy sets built
// from a pool of peers, and a world of pods from a pool of label sets and namespaces, whenever the
// verdict is "isolated", the concrete evaluator must admit no pod and no outside address that is
// not an allowed peer. The allowed peers are computed here from the documented contract, with the
// local cluster's own label selectors, not with the operator's code.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "e2e/apimachinery/selectors.h"
#include "e2e/kubelet/network_policy.h"
#include "operator/specs/network_isolation.h"

namespace sdb::kubelet {
namespace {

using LabelMap = std::map<std::string, std::string>;

const char* const kOperatorNs = "servicedb-system";
const char* const kOperatorCidr = "198.19.0.0/24";

bool inCidr(const std::string& ip, const std::string& cidr) {
  const size_t slash = cidr.find('/');
  in_addr a{}, net{};
  if (::inet_pton(AF_INET, ip.c_str(), &a) != 1 || ::inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &net) != 1) return false;
  const int bits = std::stoi(cidr.substr(slash + 1));
  const uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (ntohl(a.s_addr) & mask) == (ntohl(net.s_addr) & mask);
}

struct Source {
  std::string ns;      // "" for an address outside the cluster
  LabelMap labels;
  std::string ip;
};

// The world: every label set in every namespace, plus addresses outside the pod network.
struct World {
  std::vector<Json> pods;
  std::vector<Json> namespaces;
  std::vector<Source> sources;
  Json instance;
};

World makeWorld(const specs::ServiceDatabase& sdb) {
  const std::vector<LabelMap> labelSets = {
      {},
      {{"app.kubernetes.io/name", "orders-api"}},
      {{"app.kubernetes.io/name", "orders-api"}, {"tier", "web"}},
      {{"app.kubernetes.io/name", "billing-api"}},
      {{"team", "orders"}},
      {{"app.kubernetes.io/name", "servicedb-operator"}},
      {{"servicedb.io/database", "orders"}, {"app.kubernetes.io/managed-by", "servicedb-operator"}, {"servicedb.io/component", "backup"}},
      {{"servicedb.io/database", "orders"}, {"app.kubernetes.io/managed-by", "servicedb-operator"}, {"servicedb.io/component", "migrate"}},
      {{"servicedb.io/database", "orders"}, {"servicedb.io/component", "restore"}},
      {{"servicedb.io/database", "billing"}, {"app.kubernetes.io/managed-by", "servicedb-operator"}, {"servicedb.io/component", "backup"}},
      {{"servicedb.io/database", "orders"}, {"servicedb.io/component", "replica"}},
      {{"servicedb.io/database", "billing"}, {"app.kubernetes.io/managed-by", "servicedb-operator"}, {"servicedb.io/component", "instance"}},
  };
  World w;
  const std::vector<std::pair<std::string, std::string>> nss = {{"shop", "shop"}, {"web", "shop"}, {kOperatorNs, "ops"}, {"other", "x"}};
  int host = 1;
  auto addPod = [&](const std::string& ns, const LabelMap& labels) {
    const std::string ip = "198.18.1." + std::to_string(host++);
    Json pod = {{"metadata", {{"namespace", ns}, {"name", "p" + std::to_string(host)}, {"labels", labels}}},
                {"spec", {{"containers", Json::array({{{"name", "c"}, {"ports", Json::array({{{"containerPort", 5432}}})}}})}}},
                {"status", {{"phase", "Running"}, {"podIP", ip}}}};
    w.pods.push_back(pod);
    return pod;
  };
  for (const auto& [ns, team] : nss) {
    w.namespaces.push_back({{"metadata", {{"name", ns}, {"labels", {{"team", team}}}}}});
    for (const auto& labels : labelSets) {
      addPod(ns, labels);
      w.sources.push_back({ns, labels, jsonString(w.pods.back(), {"status", "podIP"})});
    }
  }
  w.instance = addPod(sdb.ns, specs::standardLabels(sdb, specs::Component::kInstance));
  for (const char* ip : {"198.19.0.5", "198.19.0.200", "198.19.1.5", "198.18.200.1", "8.8.8.8"}) w.sources.push_back({"", {}, ip});
  return w;
}

// The documented allowed peers (docs/api.md "Access and isolation"), independently of specs/.
bool allowed(const Source& s, const specs::ServiceDatabase& sdb) {
  if (inCidr(s.ip, kOperatorCidr)) return true;
  if (s.ns.empty()) return false;
  auto has = [&](const char* key, const std::string& value) {
    auto it = s.labels.find(key);
    return it != s.labels.end() && it->second == value;
  };
  auto access = apimachinery::LabelSelector::fromJson(specs::effectiveAccessPodSelector(sdb));
  const auto accessNs = specs::effectiveAccessNamespaces(sdb);
  if (access.ok() && access->matches(s.labels) && std::count(accessNs.begin(), accessNs.end(), s.ns) > 0) return true;
  if (s.ns == kOperatorNs && has("app.kubernetes.io/name", "servicedb-operator")) return true;
  if (s.ns != sdb.ns || !has("servicedb.io/database", sdb.name)) return false;
  if (has("servicedb.io/component", "replica")) return true;
  return has("app.kubernetes.io/managed-by", "servicedb-operator") &&
         (has("servicedb.io/component", "backup") || has("servicedb.io/component", "restore") || has("servicedb.io/component", "migrate"));
}

bool admits(const DirectionRules& ingress, const std::string& ip) {
  if (!ingress.isolated) return true;
  for (const auto& r : ingress.rules) {  // ports ignored: admitted on any port counts
    if (r.anyPeer || std::count(r.podIPs.begin(), r.podIPs.end(), ip) > 0) return true;
    for (const auto& b : r.blocks) {
      if (inCidr(ip, b.cidr) && std::none_of(b.except.begin(), b.except.end(), [&](const auto& e) { return inCidr(ip, e); })) return true;
    }
  }
  return false;
}

std::vector<Json> peerPool() {
  const std::vector<std::string> texts = {
      R"({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders-api"}}})",
      R"({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders-api", "tier": "web"}}})",
      R"({"podSelector": {}})",
      R"({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "billing-api"}}})",
      R"({"podSelector": {"matchLabels": {"team": "orders"}}})",
      R"({"podSelector": {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": ["orders-api", "billing-api"]}]}})",
      R"({"podSelector": {"matchExpressions": [{"key": "servicedb.io/component", "operator": "NotIn", "values": ["instance"]}]}})",
      R"({"podSelector": {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "DoesNotExist"}]}})",
      R"({"podSelector": {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "NotIn", "values": ["billing-api"]}]}})",
      R"({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders-api"},
          "matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}})",
      R"({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders-api"},
          "matchExpressions": [{"key": "tier", "operator": "Exists"}]}})",
      R"({"podSelector": {"matchLabels": {"servicedb.io/database": "orders", "app.kubernetes.io/managed-by": "servicedb-operator"},
          "matchExpressions": [{"key": "servicedb.io/component", "operator": "In", "values": ["backup", "restore"]}]}})",
      R"({"podSelector": {"matchLabels": {"servicedb.io/database": "orders", "servicedb.io/component": "restore"}}})",
      R"({"podSelector": {"matchLabels": {"servicedb.io/database": "orders", "servicedb.io/component": "replica"}}})",
      R"({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "servicedb-operator"}}})",
      R"({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}, "podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders-api"}}})",
      R"({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "web"}}, "podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders-api"}}})",
      R"({"namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["shop", "web"]}]},
          "podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders-api"}}})",
      R"({"namespaceSelector": {}, "podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders-api"}}})",
      R"({"namespaceSelector": {"matchLabels": {"team": "shop"}}, "podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders-api"}}})",
      R"({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "servicedb-system"}},
          "podSelector": {"matchLabels": {"app.kubernetes.io/name": "servicedb-operator"}}})",
      R"({"namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["other"]}]}})",
      R"({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}})",
      R"({"ipBlock": {"cidr": "198.19.0.0/24"}})",
      R"({"ipBlock": {"cidr": "198.19.0.128/25"}})",
      R"({"ipBlock": {"cidr": "198.18.0.0/15"}})",
      R"({"ipBlock": {"cidr": "0.0.0.0/0", "except": ["198.18.0.0/15"]}})",
      R"({"ipBlock": {"cidr": "198.19.1.0/24"}})",
  };
  std::vector<Json> out;
  for (const auto& t : texts) out.push_back(Json::parse(t));
  return out;
}

struct Random {
  std::mt19937 gen{20240611};
  size_t below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(gen); }
  bool chance(int percent) { return below(100) < static_cast<size_t>(percent); }
};

Json randomPolicy(Random& r, const std::vector<Json>& peers, int index) {
  const std::vector<std::string> selectors = {
      R"({})", R"({"matchLabels": {"servicedb.io/database": "orders"}})", R"({"matchLabels": {"app": "other"}})",
      R"({"matchExpressions": [{"key": "servicedb.io/component", "operator": "NotIn", "values": ["instance"]}]})",
      R"({"matchExpressions": [{"key": "team", "operator": "DoesNotExist"}]})"};
  const std::vector<Json> types = {nullptr, Json::array({"Ingress"}), Json::array({"Egress"}), Json::array({"Ingress", "Egress"})};
  Json spec = {{"podSelector", Json::parse(selectors[r.below(selectors.size())])}};
  if (Json t = types[r.below(types.size())]; !t.is_null()) spec["policyTypes"] = t;
  Json rules = Json::array();
  for (size_t i = 0, n = r.below(3); i < n; ++i) {
    Json rule = Json::object();
    if (!r.chance(10)) {
      Json from = Json::array();
      for (size_t j = 0, m = 1 + r.below(3); j < m; ++j) from.push_back(peers[r.below(peers.size())]);
      rule["from"] = from;
    }
    if (r.chance(30)) rule["ports"] = Json::array({{{"port", 5432}}});
    rules.push_back(rule);
  }
  if (!rules.empty() || r.chance(50)) spec["ingress"] = rules;
  return {{"metadata", {{"namespace", r.chance(10) ? "web" : "shop"}, {"name", "extra-" + std::to_string(index)}}}, {"spec", spec}};
}

TEST(NetworkIsolationCrossCheck, IsolatedVerdictsAdmitOnlyAllowedPeersConcretely) {
  const std::vector<Json> accesses = {
      Json::object(),
      Json{{"namespaces", {"shop", "web"}}},
      Json::parse(R"({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "orders-api", "tier": "web"}}})"),
  };
  const auto peers = peerPool();
  Random r;
  int isolated = 0, notIsolated = 0, isolatedWithExtraRules = 0;
  for (const auto& access : accesses) {
    auto parsed = specs::parseServiceDatabase({{"metadata", {{"name", "orders"}, {"namespace", "shop"}}},
                                               {"spec", {{"service", "orders-api"}, {"engine", "postgres"}, {"access", access}}}});
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    const specs::ServiceDatabase sdb = *parsed;
    specs::InstanceNetworkInput in;
    in.sdb = &sdb;
    in.policyName = "orders-instance";
    in.port = 5432;
    in.operatorNamespace = kOperatorNs;
    in.operatorCidrs = {kOperatorCidr};
    const World world = makeWorld(sdb);
    const PolicyPod instance = policyPodFrom(world.instance, jsonString(world.instance, {"status", "podIP"}));

    for (int scenario = 0; scenario < 1000; ++scenario) {
      std::vector<Json> policies;
      if (!r.chance(5)) policies.push_back(specs::instanceNetworkPolicy(in));
      for (size_t i = 0, n = r.below(4); i < n; ++i) policies.push_back(randomPolicy(r, peers, static_cast<int>(i)));
      if (!policies.empty() && r.chance(10)) {  // someone edits a policy: one more peer
        Json& p = policies[r.below(policies.size())];
        p["spec"]["ingress"].push_back({{"from", Json::array({peers[r.below(peers.size())]})}});
      }
      const specs::IsolationVerdict verdict = specs::evaluateIsolation(in, instance.labels, policies);
      if (!verdict.isolated) {
        ++notIsolated;
        continue;
      }
      ++isolated;
      if (policies.size() > 1) ++isolatedWithExtraRules;
      const PodPolicyRules rules = evaluatePolicies(instance, makePolicySnapshot(world.pods, world.namespaces, policies));
      ASSERT_TRUE(rules.ingress.isolated) << verdict.message;
      for (const auto& source : world.sources) {
        if (admits(rules.ingress, source.ip)) {
          ASSERT_TRUE(allowed(source, sdb)) << "verdict: " << verdict.message << "\nadmitted " << source.ip << " in \"" << source.ns
                                            << "\" " << Json(source.labels) << "\npolicies: " << Json(policies).dump(1);
        }
      }
      // The allowed peers themselves all get in (the built policy is not too narrow either).
      for (const auto& source : world.sources) {
        if (allowed(source, sdb)) {
          ASSERT_TRUE(admits(rules.ingress, source.ip)) << source.ip << " " << Json(source.labels);
        }
      }
    }
  }
  std::printf("isolated %d (with extra policies %d), not isolated %d\n", isolated, isolatedWithExtraRules, notIsolated);
  // Both answers occur, and isolation is proven with extra policies present, not only for ours alone.
  EXPECT_GT(isolated, 1000);
  EXPECT_GT(notIsolated, 500);
  EXPECT_GT(isolatedWithExtraRules, 600);
}

}  // namespace
}  // namespace sdb::kubelet
