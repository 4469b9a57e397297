// NetworkPolicy evaluation as a table of cases: each names the Kubernetes documentation section or
// upstream e2e scenario (test/e2e/network/netpol) it follows, and states the expected allow-set as
// a one-line summary.
#include <gtest/gtest.h>

#include "e2e/kubelet/network_policy.h"

namespace sdb::kubelet {
namespace {

Json pod(const std::string& ns, const std::string& name, const std::string& ip, Json labels, Json ports = Json::array()) {
  return {{"metadata", {{"namespace", ns}, {"name", name}, {"labels", labels}}},
          {"spec", {{"containers", {{{"name", "c"}, {"ports", ports}}}}}},
          {"status", {{"phase", "Running"}, {"podIP", ip}}}};
}

Json policy(const std::string& ns, const std::string& name, Json spec) {
  return {{"metadata", {{"namespace", ns}, {"name", name}}}, {"spec", spec}};
}

// Namespaces a (team=a) and b (team=b), each with a pod labelled app=client (the regression case:
// identical labels in two namespaces); the server in a has named ports.
PolicySnapshot world(std::vector<Json> policies) {
  const Json serverPorts = {{{"name", "http"}, {"containerPort", 80}},
                            {{"name", "serve-81"}, {"containerPort", 81}},
                            {{"name", "dns"}, {"containerPort", 53}, {"protocol", "UDP"}}};
  std::vector<Json> pods = {pod("a", "server", "198.18.1.10", {{"app", "server"}}, serverPorts),
                            pod("a", "client", "198.18.1.11", {{"app", "client"}}),
                            pod("b", "client", "198.18.1.21", {{"app", "client"}}, {{{"name", "http"}, {"containerPort", 8080}}}),
                            pod("b", "other", "198.18.1.22", {{"app", "other"}}),
                            pod("a", "no-ip", "", {{"app", "client"}})};
  Json done = pod("a", "done", "198.18.1.30", {{"app", "client"}});
  done["status"]["phase"] = "Succeeded";
  pods.push_back(done);
  std::vector<Json> namespaces = {{{"metadata", {{"name", "a"}, {"labels", {{"team", "a"}}}}}},
                                  {{"metadata", {{"name", "b"}, {"labels", {{"team", "b"}}}}}}};
  return makePolicySnapshot(pods, namespaces, policies);
}

std::string summary(const DirectionRules& d) {
  if (!d.isolated) return "open";
  std::string s = "isolated";
  for (const auto& r : d.rules) {
    s += " |";
    if (r.anyPeer) s += " any-peer";
    for (const auto& ip : r.podIPs) s += " " + ip;
    for (const auto& b : r.blocks) {
      s += " " + b.cidr;
      for (const auto& e : b.except) s += " !" + e;
    }
    s += " :";
    if (r.anyPort) s += " any-port";
    for (const auto& p : r.ports) {
      s += " " + p.protocol + (p.port ? "/" + std::to_string(p.port) : "/*") + (p.endPort ? "-" + std::to_string(p.endPort) : "");
    }
    for (const auto& pp : r.peerPorts) s += " " + pp.ip + "/" + pp.protocol + "/" + std::to_string(pp.port);
  }
  return s;
}

struct Case {
  std::string source;  // where the case comes from
  std::vector<Json> policies;
  std::string podNs, podName;
  std::string ingress, egress;
};

// A NetworkPolicy whose spec is given as JSON text.
Json np(const std::string& ns, const std::string& name, const std::string& spec) {
  return policy(ns, name, Json::parse(spec));
}

std::vector<Case> cases() {
  const std::string server = R"("podSelector": {"matchLabels": {"app": "server"}})";
  const std::string client = R"("podSelector": {"matchLabels": {"app": "client"}})";
  return {
      {"no policy: a pod is non-isolated (k8s docs: Network Policies / The two sorts of pod isolation)", {}, "a", "server", "open", "open"},
      {"k8s docs: Default policies / default-deny-ingress; upstream: should support a 'default-deny-ingress' policy",
       {np("a", "deny", R"({"podSelector": {}, "policyTypes": ["Ingress"]})")}, "a", "server", "isolated", "open"},
      {"a policy of another namespace does not select the pod",
       {np("b", "deny", R"({"podSelector": {}, "policyTypes": ["Ingress"]})")}, "a", "server", "open", "open"},
      {"a podSelector that does not match the pod leaves it open",
       {np("a", "deny", R"({"podSelector": {"matchLabels": {"app": "nobody"}}})")}, "a", "server", "open", "open"},
      {"k8s docs: Default policies / allow-all-ingress; upstream: should support allow-all policy",
       {np("a", "all", R"({"podSelector": {}, "ingress": [{}]})")}, "a", "server", "isolated | any-peer : any-port", "open"},
      {"upstream: should enforce policy to allow traffic only from a pod in the same namespace based on PodSelector",
       {np("a", "p", "{" + server + R"(, "ingress": [{"from": [{)" + client + "}]}]}")},
       "a", "server", "isolated | 198.18.1.11 : any-port", "open"},
      {"upstream: should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector",
       {np("a", "p", "{" + server + R"(, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "b"}}}]}]})")},
       "a", "server", "isolated | 198.18.1.21 198.18.1.22 : any-port", "open"},
      {"upstream: should enforce policy based on NamespaceSelector with MatchExpressions",
       {np("a", "p", "{" + server + R"(, "ingress": [{"from": [{"namespaceSelector": {"matchExpressions":
          [{"key": "team", "operator": "NotIn", "values": ["a"]}]}}]}]})")},
       "a", "server", "isolated | 198.18.1.21 198.18.1.22 : any-port", "open"},
      {"upstream: should enforce policy based on PodSelector and NamespaceSelector (one peer with both: AND)",
       {np("a", "p", "{" + server + R"(, "ingress": [{"from": [{"namespaceSelector": {}, )" + client + "}]}]}")},
       "a", "server", "isolated | 198.18.1.11 198.18.1.21 : any-port", "open"},
      {"k8s docs: Behavior of to and from selectors (two peers: OR)",
       {np("a", "p", "{" + server + R"(, "ingress": [{"from": [{)" + client + R"(}, {"namespaceSelector": {"matchLabels": {"team": "b"}}}]}]})")},
       "a", "server", "isolated | 198.18.1.11 198.18.1.21 198.18.1.22 : any-port", "open"},
      {"regression: identically labelled pods in two namespaces, told apart by namespaceSelector (kubernetes.io/metadata.name)",
       {np("a", "p", "{" + server + R"(, "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "b"}}, )" +
                             client + "}]}]}")},
       "a", "server", "isolated | 198.18.1.21 : any-port", "open"},
      {"k8s docs: Declare Network Policy (ipBlock with except); upstream: should enforce except clause while egress access to server in CIDR block",
       {np("a", "p", "{" + server + R"(, "ingress": [{"from": [{"ipBlock": {"cidr": "198.18.1.0/24", "except": ["198.18.1.21/32"]}}]}]})")},
       "a", "server", "isolated | 198.18.1.0/24 !198.18.1.21/32 : any-port", "open"},
      {"upstream: should enforce policy based on Ports (number; protocol defaults to TCP)",
       {np("a", "p", "{" + server + R"(, "ingress": [{"ports": [{"port": 81}]}]})")}, "a", "server", "isolated | any-peer : TCP/81", "open"},
      {"upstream: should allow ingress access on one named port; named ports resolve in the destination pod",
       {np("a", "p", "{" + server + R"(, "ingress": [{"ports": [{"port": "serve-81"}, {"port": "missing"}, {"port": "dns", "protocol": "UDP"}]}]})")},
       "a", "server", "isolated | any-peer : TCP/81 UDP/53", "open"},
      {"k8s docs: Targeting a range of ports (endPort); a port entry without port means every port of its protocol",
       {np("a", "p", "{" + server + R"(, "ingress": [{"ports": [{"port": 8000, "endPort": 8002}, {"protocol": "UDP"}]}]})")},
       "a", "server", "isolated | any-peer : TCP/8000-8002 UDP/*", "open"},
      {"upstream: should enforce multiple, stacked policies with overlapping podSelectors (additive)",
       {np("a", "p1", "{" + server + R"(, "ingress": [{"ports": [{"port": 80}]}]})"),
        np("a", "p2", R"({"podSelector": {}, "ingress": [{"ports": [{"port": 81}]}]})")},
       "a", "server", "isolated | any-peer : TCP/80 | any-peer : TCP/81", "open"},
      {"k8s docs: Default policies / default-deny-all-ingress-and-egress",
       {np("a", "deny", R"({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})")}, "a", "client", "isolated", "isolated"},
      {"policyTypes default: an egress section adds Egress; upstream: should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector",
       {np("a", "p", "{" + client + R"(, "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"team": "b"}}, )" + client + "}]}]}")},
       "a", "client", "isolated", "isolated | 198.18.1.21 : any-port"},
      {"k8s docs: Default policies / default-deny-egress (policyTypes [Egress] leaves ingress open)",
       {np("a", "p", R"({"podSelector": {}, "policyTypes": ["Egress"]})")}, "a", "client", "open", "isolated"},
      {"upstream: should allow egress access to server on a named port; the name resolves in each peer pod",
       {np("a", "p", "{" + client + R"(, "policyTypes": ["Egress"], "egress": [{"to": [{"namespaceSelector": {}}], "ports": [{"port": "http"}]}]})")},
       "a", "client", "open", "isolated | 198.18.1.10 198.18.1.11 198.18.1.21 198.18.1.22 : 198.18.1.10/TCP/80 198.18.1.21/TCP/8080"},
      {"k8s docs: policyTypes [Ingress] ignores an egress section (isolation follows policyTypes, not the rules present)",
       {np("a", "p", "{" + client + R"(, "policyTypes": ["Ingress"], "egress": [{"ports": [{"port": 80}]}]})")}, "a", "client", "isolated", "open"},
      {"a named egress port cannot resolve through an ipBlock peer: nothing is allowed by it, numbers still are",
       {np("a", "p", "{" + client + R"(, "policyTypes": ["Egress"], "egress": [{"to": [{"ipBlock": {"cidr": "198.18.1.0/24"}}],
          "ports": [{"port": "http"}, {"port": 81}]}]})")},
       "a", "client", "open", "isolated | 198.18.1.0/24 : TCP/81"},
  };
}

TEST(EvaluatePolicies, TableOfCases) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.source);
    const PolicySnapshot s = world(c.policies);
    const PolicyPod* self = nullptr;
    for (const auto& p : s.pods) {
      if (p.ns == c.podNs && p.name == c.podName) self = &p;
    }
    ASSERT_NE(self, nullptr);
    const PodPolicyRules r = evaluatePolicies(*self, s);
    EXPECT_EQ(summary(r.ingress), c.ingress);
    EXPECT_EQ(summary(r.egress), c.egress);
  }
}

TEST(EvaluatePolicies, SnapshotLeavesOutPodsWithoutAddressAndFinishedOnes) {
  const PolicySnapshot s = world({});
  ASSERT_EQ(s.pods.size(), 4u);
  for (const auto& p : s.pods) EXPECT_NE(p.name, "done");
}

TEST(EvaluatePolicies, APodCountsFromItsSandboxAddressBeforeItsStatusHasOne) {
  Json starting = pod("a", "starting", "", {{"app", "client"}});
  starting["metadata"]["uid"] = "uid-starting";
  Json finished = pod("a", "finished", "", {{"app", "client"}});
  finished["metadata"]["uid"] = "uid-finished";
  finished["status"]["phase"] = "Succeeded";
  const Json server = pod("a", "server", "198.18.1.10", {{"app", "server"}});
  const Json p = np("a", "p", R"({"podSelector": {"matchLabels": {"app": "server"}},
                                      "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}]}]})");
  const std::vector<Json> namespaces = {{{"metadata", {{"name", "a"}}}}};
  PolicySnapshot without = makePolicySnapshot({server, starting, finished}, namespaces, {p});
  EXPECT_EQ(summary(evaluatePolicies(without.pods[0], without).ingress), "isolated | : any-port")
      << "no status.podIP and no sandbox address: nobody to admit";
  PolicySnapshot with = makePolicySnapshot({server, starting, finished}, namespaces, {p},
                                           {{"uid-starting", "198.18.1.40"}, {"uid-finished", "198.18.1.41"}});
  ASSERT_EQ(with.pods.size(), 2u);
  EXPECT_EQ(summary(evaluatePolicies(with.pods[0], with).ingress), "isolated | 198.18.1.40 : any-port")
      << "the sandbox address counts; a finished pod never does";
}

TEST(EvaluatePolicies, LabelChangesMoveAPodInAndOutOfPeerSets) {
  const Json p = np("a", "p", R"({"podSelector": {"matchLabels": {"app": "server"}},
                                      "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "ok"}}}]}]})");
  PolicySnapshot s = world({p});
  const PolicyPod server = s.pods[0];
  EXPECT_EQ(summary(evaluatePolicies(server, s).ingress), "isolated | : any-port") << "nobody matches yet";
  s.pods[1].labels["role"] = "ok";
  EXPECT_EQ(summary(evaluatePolicies(server, s).ingress), "isolated | 198.18.1.11 : any-port");
  s.namespaceLabels["b"]["team"] = "a";  // namespace labels: a namespaceSelector follows them
  const Json byTeam = np("a", "q", R"({"podSelector": {"matchLabels": {"app": "server"}},
                                           "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}}]}]})");
  s.policies = {byTeam};
  EXPECT_EQ(summary(evaluatePolicies(server, s).ingress), "isolated | 198.18.1.10 198.18.1.11 198.18.1.21 198.18.1.22 : any-port");
}

TEST(EvaluatePolicies, InvalidAddressesAndPortsAreLeftOutRatherThanBreakingTheTable) {
  PolicySnapshot s = world({np("a", "p", R"({"podSelector": {"matchLabels": {"app": "server"}}, "ingress": [
      {"from": [{"ipBlock": {"cidr": "not-a-cidr"}}, {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/99", "10.2.0.0/16"]}}],
       "ports": [{"port": 70000}, {"port": 80, "endPort": 99999}, {"port": "123456"}]}]})")});
  EXPECT_EQ(summary(evaluatePolicies(s.pods[0], s).ingress), "isolated | 10.0.0.0/8 !10.2.0.0/16 : TCP/80");
}

TEST(EvaluatePolicies, InvalidSelectorsSelectNothing) {
  PolicySnapshot s = world({np("a", "p", R"({"podSelector": {"matchLabels": {"app": "server"}},
      "ingress": [{"from": [{"podSelector": {"matchExpressions": [{"key": "app", "operator": "Bogus"}]}}]}]})")});
  EXPECT_EQ(summary(evaluatePolicies(s.pods[0], s).ingress), "isolated | : any-port");
}

}  // namespace
}  // namespace sdb::kubelet
