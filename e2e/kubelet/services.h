// Services as the node's data plane sees them (pure functions, no I/O):
// - resolveServices(): each Service with its ports and ready endpoints. A Service with a selector
//   gets its endpoints from the pods it selects (Ready, not terminating, not finished; notReady ones
//   too with publishNotReadyAddresses), with named targetPorts looked up in each pod's container
//   ports, as the Endpoints controller computes them; a Service without a selector uses the
//   Endpoints object of the same name, as kube-proxy does.
// - renderServiceTable(): one nftables table that DNATs each clusterIP:port to one of its ready
//   endpoints (numgen random; jhash of the client address for sessionAffinity ClientIP) in the
//   output hook, and rejects every other connection to the Service range (no endpoints, unknown
//   port) at once instead of letting it time out. The same table is loaded in the host and in each
//   pod's namespace, so DNAT happens at the client and replies are un-NATed by the client's own
//   conntrack: no hairpin masquerade, no forwarding through the host, and the server sees the
//   client's real address (what NetworkPolicy rules match on).
// - renderHosts(): a pod's /etc/hosts: itself, every Service (svc, svc.ns, svc.ns.svc and
//   svc.ns.svc.<domain>; the short name only within the pod's namespace), headless Services' ready
//   addresses, and pods with hostname + subdomain (StatefulSet pods) under their headless Service.
//
// Contract: pure, thread-safe.
#pragma once

#include <string>
#include <vector>

#include "operator/core/json.h"

namespace sdb::kubelet {

struct ServiceEndpoint {
  std::string ip;
  int port = 0;
};

struct ServicePortView {
  std::string name;
  int port = 0;
  std::string protocol = "TCP";
  std::vector<ServiceEndpoint> endpoints;  // ready ones (notReady too with publishNotReadyAddresses)
};

struct ServiceAddress {
  std::string ip;
  std::string hostname;  // the pod's spec.hostname when its subdomain is this Service
  bool ready = true;
};

struct ServiceView {
  std::string ns, name;
  std::string clusterIP;  // "" or "None" when headless
  bool clientIpAffinity = false;
  std::vector<ServicePortView> ports;
  std::vector<ServiceAddress> addresses;  // distinct endpoint addresses (for names)
  bool headless() const { return clusterIP.empty() || clusterIP == "None"; }
};

// `pods` are every pod the node knows; `endpoints` every Endpoints object.
std::vector<ServiceView> resolveServices(const std::vector<Json>& services, const std::vector<Json>& endpoints,
                                         const std::vector<Json>& pods);

// Pod readiness as endpoints count it.
bool podReadyForEndpoints(const Json& pod);

std::string renderServiceTable(const std::string& tableName, const std::string& serviceCidr,
                               const std::vector<ServiceView>& services);

struct HostsSelf {
  std::string ns, podIP, hostname, subdomain;
};
std::string renderHosts(const HostsSelf& self, const std::vector<ServiceView>& services,
                        const std::string& clusterDomain = "cluster.local");

}  // namespace sdb::kubelet
