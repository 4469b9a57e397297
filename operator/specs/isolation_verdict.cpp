// evaluateIsolation (network_isolation.h): the NetworkIsolated verdict on the stored policies.
#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>

#include "operator/specs/label_selector.h"
#include "operator/specs/network_isolation.h"

namespace sdb::specs {

namespace {

struct Cidr {
  int family = 0;
  std::array<uint8_t, 16> bytes{};
  int prefix = 0;
};

std::optional<Cidr> parseCidr(const std::string& text) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos) return std::nullopt;
  const std::string bits = text.substr(slash + 1);
  if (bits.empty() || bits.size() > 3 || !std::all_of(bits.begin(), bits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  Cidr c;
  c.prefix = std::stoi(bits);
  const std::string address = text.substr(0, slash);
  if (::inet_pton(AF_INET, address.c_str(), c.bytes.data()) == 1 && c.prefix <= 32) {
    c.family = AF_INET;
  } else if (::inet_pton(AF_INET6, address.c_str(), c.bytes.data()) == 1 && c.prefix <= 128) {
    c.family = AF_INET6;
  } else {
    return std::nullopt;
  }
  return c;
}

// Every address of `inner` is an address of `outer`.
bool within(const Cidr& inner, const Cidr& outer) {
  if (inner.family != outer.family || inner.prefix < outer.prefix) return false;
  for (int bit = 0; bit < outer.prefix; ++bit) {
    const uint8_t mask = static_cast<uint8_t>(0x80u >> (bit % 8));
    if ((inner.bytes[bit / 8] & mask) != (outer.bytes[bit / 8] & mask)) return false;
  }
  return true;
}

struct CompiledPeer {
  std::set<std::string> namespaces;
  LabelSelector selector;
};

bool present(const Json& object, const char* key) {
  return object.is_object() && object.contains(key) && !object[key].is_null();
}

std::string quotedList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "\"" : ", \"") + s + "\"";
  return out;
}

// Decides one policy's peers against the allowed ones; each check returns "" when the peer is
// provably allowed, else what it admits.
class PeerChecker {
 public:
  explicit PeerChecker(const InstanceNetworkInput& in) : ns_(in.sdb->ns) {
    for (const auto& peer : allowedPeers(in)) {
      // An allowed selector that cannot be read (an invalid spec.access) allows nothing.
      auto selector = LabelSelector::fromJson(peer.podSelector, "podSelector");
      if (selector.ok()) peers_.push_back({{peer.namespaces.begin(), peer.namespaces.end()}, *selector});
    }
    for (const auto& text : in.operatorCidrs) {
      if (auto c = parseCidr(text)) cidrs_.push_back(*c);
    }
  }

  std::string problem(const Json& peer) const {
    if (!peer.is_object()) return "cannot be read (not an object)";
    const bool hasBlock = present(peer, "ipBlock");
    const bool hasPods = present(peer, "podSelector");
    const bool hasNamespaces = present(peer, "namespaceSelector");
    if (!hasBlock && !hasPods && !hasNamespaces) return "cannot be read (no podSelector, namespaceSelector or ipBlock)";
    if (hasBlock) {
      if (auto p = blockProblem(peer["ipBlock"]); !p.empty()) return p;
    }
    if (!hasPods && !hasNamespaces) return "";
    std::set<std::string> namespaces = {ns_};
    if (hasNamespaces) {
      auto selector = LabelSelector::fromJson(peer["namespaceSelector"], "namespaceSelector");
      if (!selector.ok()) return "cannot be read (" + selector.error().message + ")";
      if (!selector->satisfiable()) return "";  // selects no namespace
      auto names = selector->finiteValues(kLabelNamespaceName);
      if (!names && LabelSelector().implies(*selector)) return "admits pods of every namespace (namespaceSelector {})";
      if (!names) {
        return "admits pods of namespaces not provably among the allowed ones (namespaceSelector " + dumpJson(peer["namespaceSelector"]) +
               " does not pin " + kLabelNamespaceName + ")";
      }
      namespaces = *names;
    }
    LabelSelector pods;
    if (hasPods) {
      auto selector = LabelSelector::fromJson(peer["podSelector"], "podSelector");
      if (!selector.ok()) return "cannot be read (" + selector.error().message + ")";
      pods = *selector;
    }
    for (const auto& ns : namespaces) {
      const bool covered = std::any_of(peers_.begin(), peers_.end(), [&](const CompiledPeer& allowed) {
        return allowed.namespaces.count(ns) > 0 && pods.implies(allowed.selector);
      });
      if (!covered) {
        return "admits pods matching " + (hasPods ? dumpJson(peer["podSelector"]) : std::string("{} (every pod)")) +
               " in namespace \"" + ns + "\", not provably among the allowed peers";
      }
    }
    return "";
  }

 private:
  std::string blockProblem(const Json& block) const {
    auto cidr = block.is_object() ? parseCidr(jsonString(block, {"cidr"})) : std::nullopt;
    if (!cidr) return "cannot be read (ipBlock without a valid cidr)";
    for (const auto& allowed : cidrs_) {
      if (within(*cidr, allowed)) return "";
    }
    return "admits the addresses of ipBlock " + jsonString(block, {"cidr"}) + ", outside the operator's CIDRs";
  }

  std::string ns_;
  std::vector<CompiledPeer> peers_;
  std::vector<Cidr> cidrs_;
};

IsolationVerdict broken(const std::string& policy, const std::string& message) {
  return {false, policy, "NetworkPolicy \"" + policy + "\" " + message};
}

}  // namespace

IsolationVerdict evaluateIsolation(const InstanceNetworkInput& in, const Labels& podLabels, const std::vector<Json>& policies) {
  std::vector<const Json*> sorted;
  for (const auto& p : policies) {
    const std::string ns = jsonString(p, {"metadata", "namespace"});
    if (ns.empty() || ns == in.sdb->ns) sorted.push_back(&p);
  }
  std::sort(sorted.begin(), sorted.end(), [](const Json* a, const Json* b) {
    return jsonString(*a, {"metadata", "name"}) < jsonString(*b, {"metadata", "name"});
  });
  if (std::none_of(sorted.begin(), sorted.end(), [&](const Json* p) { return jsonString(*p, {"metadata", "name"}) == in.policyName; })) {
    return broken(in.policyName, "is missing, so nothing limits ingress to the instance pods to the allowed peers");
  }

  const PeerChecker checker(in);
  std::vector<std::string> isolating;
  for (const Json* policy : sorted) {
    const std::string name = jsonString(*policy, {"metadata", "name"});
    const Json* spec = jsonAt(*policy, {"spec"});
    if (!spec) return broken(name, "cannot be read (no spec)");
    LabelSelector selects;
    if (present(*spec, "podSelector")) {
      auto parsed = LabelSelector::fromJson((*spec)["podSelector"], "spec.podSelector");
      if (!parsed.ok()) return broken(name, "cannot be read (" + parsed.error().message + ")");
      selects = *parsed;
    }
    if (!selects.matches(podLabels)) continue;

    bool ingress = true;  // kube-apiserver defaults an absent or empty policyTypes to include Ingress
    if (present(*spec, "policyTypes")) {
      const Json& types = (*spec)["policyTypes"];
      if (!types.is_array()) return broken(name, "cannot be read (spec.policyTypes is not a list)");
      if (!types.empty()) ingress = std::find(types.begin(), types.end(), Json("Ingress")) != types.end();
    }
    if (!ingress) continue;  // its ingress rules, if any, have no effect
    isolating.push_back(name);

    if (!present(*spec, "ingress")) continue;  // denies all ingress
    const Json& rules = (*spec)["ingress"];
    if (!rules.is_array()) return broken(name, "cannot be read (spec.ingress is not a list)");
    for (size_t i = 0; i < rules.size(); ++i) {
      const std::string rule = "ingress[" + std::to_string(i) + "]";
      if (!rules[i].is_object()) return broken(name, rule + " cannot be read (not an object)");
      if (!present(rules[i], "from") || (rules[i]["from"].is_array() && rules[i]["from"].empty())) {
        return broken(name, rule + " has no \"from\", so it admits every source");
      }
      const Json& from = rules[i]["from"];
      if (!from.is_array()) return broken(name, rule + ".from cannot be read (not a list)");
      for (size_t j = 0; j < from.size(); ++j) {
        if (auto p = checker.problem(from[j]); !p.empty()) {
          return broken(name, rule + ".from[" + std::to_string(j) + "] " + p);
        }
      }
    }
  }
  if (isolating.empty()) return {false, "", "no NetworkPolicy isolates the instance pods"};
  return {true, "",
          "ingress to the instance pods is limited to the allowed peers by " +
              std::string(isolating.size() == 1 ? "NetworkPolicy " : "NetworkPolicies ") + quotedList(isolating)};
}

}  // namespace sdb::specs
