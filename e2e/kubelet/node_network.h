// The node's network, as `ip` and `nft` commands over one cluster slot (cluster_slot.h):
// - a bridge in the root namespace with the slot's .1 address, and a route for the slot's Service
//   range through it, so host processes reach pods and clusterIPs;
// - per pod, a named network namespace with `eth0` (one end of a veth pair whose other end is on the
//   bridge), the pod's address on the slot's /24, and a default route via the bridge address;
// - Service rules (services.h) loaded as one nftables table in the host and in every pod's
//   namespace, each replaced atomically (`nft -f` is one transaction); NetworkPolicy rules
//   (network_policy_table.h) as a second table in each pod's namespace, the same way.
//
// Nothing here touches a name outside the slot. setUp() and tearDown() remove every leftover of the
// slot (namespaces with their processes, veths, the bridge, the host table): the slot's lock proves
// that whoever made them is dead.
//
// Contract: thread-safe (commands are independent; callers serialise work on one pod).
#pragma once

#include <string>
#include <vector>

#include "e2e/kubelet/cluster_slot.h"
#include "operator/core/result.h"

namespace sdb::kubelet {

struct PodNetwork {
  std::string netnsName;  // under /run/netns
  std::string netnsPath;  // /run/netns/<name>
  std::string ip;
  std::string hostVeth;
  int octet = 0;
};

class NodeNetwork {
 public:
  explicit NodeNetwork(const ClusterSlot& slot) : slot_(slot) {}

  Status setUp();
  Status tearDown();

  // `label` (e.g. "ns.pod") only makes `ip netns list` readable; octet is 2..254.
  Result<PodNetwork> createPod(int octet, const std::string& label);
  // Kills every process still in the namespace, then removes the veth and the namespace.
  Status deletePod(const PodNetwork& pod);
  // The pod networks of this slot found on the machine (after a crash), for cleanup.
  std::vector<std::string> leftoverNamespaces() const;

  // Replaces table `ip <name>` in a namespace ("" = the host) with `ruleset` (a complete
  // `table ip <name> { ... }` text).
  Status loadRules(const std::string& netnsPath, const std::string& tableName, const std::string& ruleset);
  // Replaces several tables in one transaction (one `nft` process); `table` is "<family> <name>"
  // (e.g. "inet sdb-policy") and `ruleset` its complete text.
  struct Table {
    std::string table, ruleset;
  };
  Status loadTables(const std::string& netnsPath, const std::vector<Table>& tables);

  const ClusterSlot& slot() const { return slot_; }

 private:
  Status removeLeftovers();
  const ClusterSlot& slot_;
};

}  // namespace sdb::kubelet
