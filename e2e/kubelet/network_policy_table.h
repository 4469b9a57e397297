// Renders a pod's NetworkPolicy rules (network_policy.h) as one nftables `table inet` for the pod's
// own network namespace, loaded as one transaction (NodeNetwork::loadRules). Pure, no I/O.
//
// - ingress: a filter chain in the input hook. Established and related traffic (replies, and
//   connections admitted before a policy changed) and traffic on `lo` (probes, which connect from
//   inside the pod to its own address) always pass; each allow rule becomes `accept` lines; the
//   rest is rejected: TCP with a reset, other protocols with ICMP port unreachable, so a blocked
//   client fails at once instead of timing out (kube's dataplanes usually drop; see e2e/README.md).
// - egress: the same in the output hook at priority 0, after the Service table's DNAT (output,
//   priority -100), so egress rules see the endpoint a clusterIP was rewritten to, as they do with
//   kube-proxy; Service access is allowed exactly when the endpoint pod is.
// - a direction no policy isolates gets no chain; a pod no policy selects gets an empty table.
//
// Contract: pure, thread-safe; equal rules give byte-equal text, so callers skip reloads by
// comparing strings.
#pragma once

#include <string>

#include "e2e/kubelet/network_policy.h"

namespace sdb::kubelet {

std::string renderPolicyTable(const std::string& tableName, const PodPolicyRules& rules);

}  // namespace sdb::kubelet
