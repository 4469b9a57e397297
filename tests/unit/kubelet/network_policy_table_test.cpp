// The nftables text of a pod's NetworkPolicy table, as golden strings.
#include <gtest/gtest.h>

#include "e2e/kubelet/network_policy_table.h"

namespace sdb::kubelet {
namespace {

TEST(RenderPolicyTable, NoPolicySelectsThePod) {
  EXPECT_EQ(renderPolicyTable("sdb-policy", {}), "table inet sdb-policy {\n}\n");
}

TEST(RenderPolicyTable, IngressPeersTimesPortsThenReject) {
  PodPolicyRules r;
  r.ingress.isolated = true;
  r.ingress.policies = {"a/p1", "a/p2"};
  AllowRule pods;
  pods.origin = "a/p1 ingress[0]";
  pods.podIPs = {"198.18.1.11", "198.18.1.21"};
  pods.blocks = {{"10.0.0.0/8", {"10.1.0.0/16", "10.2.0.0/16"}}, {"192.168.0.0/16", {}}};
  pods.ports = {{"TCP", 80, 0}, {"TCP", 8000, 8002}, {"UDP", 0, 0}};
  AllowRule all;
  all.origin = "a/p2 ingress[0]";
  all.anyPeer = true;
  all.anyPort = true;
  AllowRule none;  // a selector that matched no pod
  none.origin = "a/p2 ingress[1]";
  none.anyPort = true;
  r.ingress.rules = {pods, all, none};
  EXPECT_EQ(renderPolicyTable("sdb-policy", r),
            "table inet sdb-policy {\n"
            "  chain ingress {\n"
            "    type filter hook input priority 0; policy accept;\n"
            "    # isolated by { a/p1, a/p2 }\n"
            "    ct state established,related accept\n"
            "    iif \"lo\" accept\n"
            "    # a/p1 ingress[0]\n"
            "    ip saddr { 198.18.1.11, 198.18.1.21 } meta l4proto udp accept\n"
            "    ip saddr { 198.18.1.11, 198.18.1.21 } tcp dport { 80, 8000-8002 } accept\n"
            "    ip saddr 10.0.0.0/8 ip saddr != { 10.1.0.0/16, 10.2.0.0/16 } meta l4proto udp accept\n"
            "    ip saddr 10.0.0.0/8 ip saddr != { 10.1.0.0/16, 10.2.0.0/16 } tcp dport { 80, 8000-8002 } accept\n"
            "    ip saddr 192.168.0.0/16 meta l4proto udp accept\n"
            "    ip saddr 192.168.0.0/16 tcp dport { 80, 8000-8002 } accept\n"
            "    # a/p2 ingress[0]\n"
            "    accept\n"
            "    # a/p2 ingress[1]\n"
            "    meta l4proto tcp reject with tcp reset\n"
            "    reject with icmpx type port-unreachable\n"
            "  }\n"
            "}\n");
}

TEST(RenderPolicyTable, EgressAfterDnatWithNamedPeerPorts) {
  PodPolicyRules r;
  r.egress.isolated = true;
  r.egress.policies = {"a/out"};
  AllowRule named;
  named.origin = "a/out egress[0]";
  named.podIPs = {"198.18.1.10"};
  named.peerPorts = {{"198.18.1.10", "TCP", 6379}};
  AllowRule sctp;
  sctp.origin = "a/out egress[1]";
  sctp.anyPeer = true;
  sctp.ports = {{"SCTP", 9000, 0}};
  r.egress.rules = {named, sctp};
  EXPECT_EQ(renderPolicyTable("sdb-policy", r),
            "table inet sdb-policy {\n"
            "  chain egress {\n"
            "    type filter hook output priority 0; policy accept;\n"
            "    # isolated by a/out\n"
            "    ct state established,related accept\n"
            "    oif \"lo\" accept\n"
            "    # a/out egress[0]\n"
            "    ip daddr 198.18.1.10 tcp dport 6379 accept\n"
            "    # a/out egress[1]\n"
            "    sctp dport 9000 accept\n"
            "    meta l4proto tcp reject with tcp reset\n"
            "    reject with icmpx type port-unreachable\n"
            "  }\n"
            "}\n");
}

}  // namespace
}  // namespace sdb::kubelet
