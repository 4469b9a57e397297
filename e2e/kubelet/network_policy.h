// NetworkPolicy evaluation for one pod (pure, no I/O): given the pod and a snapshot of the cluster
// (every NetworkPolicy, every pod with an address, every Namespace's labels), which peers may reach
// it (ingress) and which it may reach (egress), as networking.k8s.io/v1 defines it:
// - a pod is isolated in a direction when a policy of its namespace selects it (empty podSelector =
//   every pod of the namespace) and that direction is among the policy's policyTypes (defaulted as
//   kube-apiserver does: Ingress always, Egress when the policy has egress rules); an isolated pod
//   admits only what some rule of some selecting policy allows (policies add up, never subtract);
// - a rule with no from/to admits every peer, a rule with no ports every port and protocol;
// - peers: podSelector (pods of the policy's namespace), namespaceSelector (pods of the selected
//   namespaces; {} = all), both together (pods matching both), ipBlock with except (any address,
//   pods included, but only an ipBlock or an empty from/to matches addresses outside the cluster,
//   such as the node's bridge address);
// - ports: number, endPort range, or name (ingress: the pod's own container ports; egress: each peer
//   pod's, so a named egress port becomes exact address+port pairs; ipBlock peers cannot resolve a
//   name and get nothing through it); protocol TCP by default, UDP and SCTP as given.
// Every Namespace carries kubernetes.io/metadata.name=<name> as kube-apiserver sets it, whether or
// not the stored object has it. Unparseable selectors select nothing.
//
// Contract: pure, thread-safe; the result is sorted, so equal inputs render equal tables.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "operator/core/json.h"

namespace sdb::kubelet {

struct PolicyContainerPort {
  std::string name;
  std::string protocol = "TCP";
  int port = 0;
  bool operator==(const PolicyContainerPort&) const = default;
};

// A pod as policies see it.
struct PolicyPod {
  std::string ns, name, ip;
  std::map<std::string, std::string> labels;
  std::vector<PolicyContainerPort> ports;
};

struct PolicySnapshot {
  std::vector<PolicyPod> pods;  // pods with an address that are not finished
  std::map<std::string, std::map<std::string, std::string>> namespaceLabels;  // by namespace name
  std::vector<Json> policies;   // NetworkPolicy objects
};

// Builds the snapshot from stored objects: finished pods, and pods with neither status.podIP nor a
// sandbox address on this node (`sandboxIps`, by pod uid), are left out.
PolicySnapshot makePolicySnapshot(const std::vector<Json>& pods, const std::vector<Json>& namespaces,
                                  const std::vector<Json>& policies,
                                  const std::map<std::string, std::string>& sandboxIps = {});
PolicyPod policyPodFrom(const Json& pod, const std::string& ip);

struct PortMatch {
  std::string protocol = "TCP";  // TCP, UDP or SCTP
  int port = 0;                  // 0: every port of the protocol
  int endPort = 0;               // 0: just `port`
  auto operator<=>(const PortMatch&) const = default;
};

struct IpBlock {
  std::string cidr;
  std::vector<std::string> except;
  auto operator<=>(const IpBlock&) const = default;
};

// An exact destination, from a named egress port resolved against a peer pod.
struct PeerPort {
  std::string ip;
  std::string protocol;
  int port = 0;
  auto operator<=>(const PeerPort&) const = default;
};

// One rule of one policy: (peers) x (ports), plus exact peer ports.
struct AllowRule {
  std::string origin;             // "ns/policy ingress[0]", for the table's comments
  bool anyPeer = false;           // no from/to
  std::vector<std::string> podIPs;
  std::vector<IpBlock> blocks;
  bool anyPort = false;           // no ports
  std::vector<PortMatch> ports;   // numbers and ranges (named ports resolved when the pod is the destination)
  std::vector<PeerPort> peerPorts;
};

struct DirectionRules {
  bool isolated = false;
  std::vector<std::string> policies;  // "ns/name" of the selecting policies
  std::vector<AllowRule> rules;
};

struct PodPolicyRules {
  DirectionRules ingress, egress;
};

PodPolicyRules evaluatePolicies(const PolicyPod& pod, const PolicySnapshot& snapshot);

}  // namespace sdb::kubelet
