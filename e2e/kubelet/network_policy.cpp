#include "e2e/kubelet/network_policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <optional>
#include <set>

#include "e2e/apimachinery/selectors.h"

namespace sdb::kubelet {

namespace {

using Labels = std::map<std::string, std::string>;

Labels labelsOf(const Json& object) {
  Labels out;
  const Json* l = jsonAt(object, {"metadata", "labels"});
  if (!l || !l->is_object()) return out;
  for (const auto& [k, v] : l->items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

// nullopt: the selector is absent (not the same as {}, which selects everything).
std::optional<apimachinery::LabelSelector> selectorAt(const Json& object, const std::string& key, bool* invalid) {
  if (!object.is_object() || !object.contains(key) || object[key].is_null()) return std::nullopt;
  auto parsed = apimachinery::LabelSelector::fromJson(object[key]);
  if (!parsed.ok()) {
    *invalid = true;
    return std::nullopt;
  }
  return *parsed;
}

Labels namespaceLabels(const PolicySnapshot& s, const std::string& ns) {
  auto it = s.namespaceLabels.find(ns);
  Labels l = it == s.namespaceLabels.end() ? Labels{} : it->second;
  l.emplace("kubernetes.io/metadata.name", ns);
  return l;
}

std::vector<std::string> policyTypes(const Json& spec) {
  std::vector<std::string> out;
  const Json* types = jsonAt(spec, {"policyTypes"});
  if (types && types->is_array() && !types->empty()) {
    for (const auto& t : *types) {
      if (t.is_string()) out.push_back(t.get<std::string>());
    }
    return out;
  }
  out.push_back("Ingress");
  const Json* egress = jsonAt(spec, {"egress"});
  if (egress && egress->is_array() && !egress->empty()) out.push_back("Egress");
  return out;
}

std::string protocolOf(const Json& port) {
  std::string p = jsonString(port, {"protocol"}, "TCP");
  return p.empty() ? "TCP" : p;
}

// The pods one from/to peer entry selects (none for an invalid entry).
std::vector<const PolicyPod*> selectedPods(const Json& peer, const std::string& policyNs, const PolicySnapshot& s) {
  std::vector<const PolicyPod*> out;
  bool invalid = false;
  auto podSel = selectorAt(peer, "podSelector", &invalid);
  auto nsSel = selectorAt(peer, "namespaceSelector", &invalid);
  if (invalid || (!podSel && !nsSel)) return out;
  for (const auto& p : s.pods) {
    if (nsSel) {
      if (!nsSel->matches(namespaceLabels(s, p.ns))) continue;
    } else if (p.ns != policyNs) {
      continue;
    }
    if (podSel && !podSel->matches(p.labels)) continue;
    out.push_back(&p);
  }
  return out;
}

int resolveNamed(const std::vector<PolicyContainerPort>& ports, const std::string& name, const std::string& protocol) {
  for (const auto& p : ports) {
    if (p.name == name && p.protocol == protocol) return p.port;
  }
  return 0;
}

bool isNumber(const std::string& s) {
  return !s.empty() && s.size() <= 5 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
}

// "a.b.c.d/n" or an IPv6 CIDR. kube-apiserver validates these; the store does not, and one bad
// address would make nft refuse the pod's whole table.
bool validCidr(const std::string& cidr) {
  const size_t slash = cidr.find('/');
  if (slash == std::string::npos || !isNumber(cidr.substr(slash + 1))) return false;
  const std::string address = cidr.substr(0, slash);
  const int prefix = std::stoi(cidr.substr(slash + 1));
  unsigned char buf[16];
  if (::inet_pton(AF_INET, address.c_str(), buf) == 1) return prefix <= 32;
  return ::inet_pton(AF_INET6, address.c_str(), buf) == 1 && prefix <= 128;
}

// One rule: `peersKey` is "from" or "to"; `self` is the pod the policy selects.
AllowRule makeRule(const Json& rule, const std::string& peersKey, bool ingress, const PolicyPod& self,
                   const std::string& policyNs, const PolicySnapshot& s) {
  AllowRule out;
  const Json* peers = jsonAt(rule, {peersKey});
  std::vector<const PolicyPod*> peerPods;  // for named egress ports
  std::set<std::string> ips;
  if (!peers || !peers->is_array() || peers->empty()) {
    out.anyPeer = true;
  } else {
    for (const auto& peer : *peers) {
      if (const Json* block = jsonAt(peer, {"ipBlock"}); block && block->is_object()) {
        IpBlock b;
        b.cidr = jsonString(*block, {"cidr"});
        if (const Json* ex = jsonAt(*block, {"except"}); ex && ex->is_array()) {
          for (const auto& e : *ex) {
            if (e.is_string() && validCidr(e.get<std::string>())) b.except.push_back(e.get<std::string>());
          }
        }
        std::sort(b.except.begin(), b.except.end());
        if (validCidr(b.cidr)) out.blocks.push_back(std::move(b));
        continue;
      }
      for (const PolicyPod* p : selectedPods(peer, policyNs, s)) {
        if (ips.insert(p->ip).second) peerPods.push_back(p);
      }
    }
  }
  out.podIPs.assign(ips.begin(), ips.end());
  std::sort(out.blocks.begin(), out.blocks.end());
  if (out.anyPeer) {
    for (const auto& p : s.pods) peerPods.push_back(&p);
  }

  const Json* ports = jsonAt(rule, {"ports"});
  if (!ports || !ports->is_array() || ports->empty()) {
    out.anyPort = true;
    return out;
  }
  std::set<PortMatch> matches;
  std::set<PeerPort> peerPorts;
  for (const auto& p : *ports) {
    const std::string protocol = protocolOf(p);
    const Json* port = jsonAt(p, {"port"});
    PortMatch m;
    m.protocol = protocol;
    if (!port || port->is_null()) {
      matches.insert(m);  // every port of the protocol
      continue;
    }
    if (port->is_number_integer()) {
      m.port = port->get<int>();
    } else if (port->is_string() && isNumber(port->get<std::string>())) {
      m.port = std::stoi(port->get<std::string>());
    } else if (port->is_string()) {
      const std::string name = port->get<std::string>();
      if (ingress) {
        m.port = resolveNamed(self.ports, name, protocol);
        if (m.port > 0) matches.insert(m);
      } else {
        for (const PolicyPod* peer : peerPods) {
          const int n = resolveNamed(peer->ports, name, protocol);
          if (n > 0) peerPorts.insert({peer->ip, protocol, n});
        }
      }
      continue;
    }
    if (m.port <= 0 || m.port > 65535) continue;  // kube-apiserver would have refused it; nft would refuse the table
    if (const Json* end = jsonAt(p, {"endPort"}); end && end->is_number_integer() && end->get<int>() > m.port && end->get<int>() <= 65535) {
      m.endPort = end->get<int>();
    }
    matches.insert(m);
  }
  out.ports.assign(matches.begin(), matches.end());
  out.peerPorts.assign(peerPorts.begin(), peerPorts.end());
  return out;
}

}  // namespace

PolicyPod policyPodFrom(const Json& pod, const std::string& ip) {
  PolicyPod p;
  p.ns = jsonString(pod, {"metadata", "namespace"});
  p.name = jsonString(pod, {"metadata", "name"});
  p.ip = ip;
  p.labels = labelsOf(pod);
  const Json* cs = jsonAt(pod, {"spec", "containers"});
  if (cs && cs->is_array()) {
    for (const auto& c : *cs) {
      const Json* ports = jsonAt(c, {"ports"});
      if (!ports || !ports->is_array()) continue;
      for (const auto& port : *ports) {
        const Json* n = jsonAt(port, {"containerPort"});
        if (!n || !n->is_number_integer()) continue;
        p.ports.push_back({jsonString(port, {"name"}), protocolOf(port), n->get<int>()});
      }
    }
  }
  return p;
}

PolicySnapshot makePolicySnapshot(const std::vector<Json>& pods, const std::vector<Json>& namespaces,
                                  const std::vector<Json>& policies, const std::map<std::string, std::string>& sandboxIps) {
  PolicySnapshot s;
  for (const auto& pod : pods) {
    std::string ip = jsonString(pod, {"status", "podIP"});
    if (ip.empty()) {
      auto it = sandboxIps.find(jsonString(pod, {"metadata", "uid"}));
      if (it != sandboxIps.end()) ip = it->second;
    }
    const std::string phase = jsonString(pod, {"status", "phase"});
    if (ip.empty() || phase == "Succeeded" || phase == "Failed") continue;
    s.pods.push_back(policyPodFrom(pod, ip));
  }
  std::sort(s.pods.begin(), s.pods.end(), [](const PolicyPod& a, const PolicyPod& b) { return a.ip < b.ip; });
  for (const auto& ns : namespaces) s.namespaceLabels[jsonString(ns, {"metadata", "name"})] = labelsOf(ns);
  s.policies = policies;
  std::sort(s.policies.begin(), s.policies.end(), [](const Json& a, const Json& b) {
    return std::make_pair(jsonString(a, {"metadata", "namespace"}), jsonString(a, {"metadata", "name"})) <
           std::make_pair(jsonString(b, {"metadata", "namespace"}), jsonString(b, {"metadata", "name"}));
  });
  return s;
}

PodPolicyRules evaluatePolicies(const PolicyPod& pod, const PolicySnapshot& snapshot) {
  PodPolicyRules out;
  for (const auto& policy : snapshot.policies) {
    const std::string ns = jsonString(policy, {"metadata", "namespace"});
    if (ns != pod.ns) continue;
    const Json* spec = jsonAt(policy, {"spec"});
    if (!spec || !spec->is_object()) continue;
    bool invalid = false;
    auto podSel = selectorAt(*spec, "podSelector", &invalid);
    if (invalid || (podSel && !podSel->matches(pod.labels))) continue;
    const std::string id = ns + "/" + jsonString(policy, {"metadata", "name"});
    for (const auto& type : policyTypes(*spec)) {
      const bool ingress = type == "Ingress";
      if (!ingress && type != "Egress") continue;
      DirectionRules& dir = ingress ? out.ingress : out.egress;
      dir.isolated = true;
      dir.policies.push_back(id);
      const Json* rules = jsonAt(*spec, {ingress ? "ingress" : "egress"});
      if (!rules || !rules->is_array()) continue;
      for (size_t i = 0; i < rules->size(); ++i) {
        AllowRule r = makeRule((*rules)[i], ingress ? "from" : "to", ingress, pod, ns, snapshot);
        r.origin = id + (ingress ? " ingress[" : " egress[") + std::to_string(i) + "]";
        dir.rules.push_back(std::move(r));
      }
    }
  }
  return out;
}

}  // namespace sdb::kubelet
