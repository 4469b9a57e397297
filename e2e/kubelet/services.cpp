#include "e2e/kubelet/services.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace sdb::kubelet {

namespace {

int intOr(const Json& j, const std::string& key, int fallback) {
  return j.is_object() && j.contains(key) && j[key].is_number_integer() ? j[key].get<int>() : fallback;
}

std::string protocolOf(const Json& port) {
  std::string p = jsonString(port, {"protocol"}, "TCP");
  return p.empty() ? "TCP" : p;
}

bool selects(const Json& selector, const Json& pod) {
  const Json* labels = jsonAt(pod, {"metadata", "labels"});
  for (const auto& [k, v] : selector.items()) {
    if (!labels || !labels->contains(k) || (*labels)[k] != v) return false;
  }
  return true;
}

// The container port a Service port's targetPort names in `pod`, 0 when the pod has none.
int targetPortFor(const Json& servicePort, const Json& pod) {
  const Json* target = jsonAt(servicePort, {"targetPort"});
  if (!target || target->is_null()) return intOr(servicePort, "port", 0);
  if (target->is_number_integer()) return target->get<int>();
  if (!target->is_string()) return 0;
  const std::string name = target->get<std::string>();
  if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) return std::stoi(name);
  const std::string protocol = protocolOf(servicePort);
  for (const char* kind : {"containers", "initContainers"}) {
    const Json* cs = jsonAt(pod, {"spec", kind});
    if (!cs || !cs->is_array()) continue;
    for (const auto& c : *cs) {
      if (!c.contains("ports") || !c["ports"].is_array()) continue;
      for (const auto& p : c["ports"]) {
        if (jsonString(p, {"name"}) == name && protocolOf(p) == protocol) return intOr(p, "containerPort", 0);
      }
    }
  }
  return 0;
}

bool terminatingOrDone(const Json& pod) {
  const std::string phase = jsonString(pod, {"status", "phase"});
  return jsonAt(pod, {"metadata", "deletionTimestamp"}) != nullptr || phase == "Succeeded" || phase == "Failed";
}

}  // namespace

bool podReadyForEndpoints(const Json& pod) {
  const Json* conds = jsonAt(pod, {"status", "conditions"});
  if (!conds || !conds->is_array()) return false;
  for (const auto& c : *conds) {
    if (jsonString(c, {"type"}) == "Ready") return jsonString(c, {"status"}) == "True";
  }
  return false;
}

std::vector<ServiceView> resolveServices(const std::vector<Json>& services, const std::vector<Json>& endpoints,
                                         const std::vector<Json>& pods) {
  std::map<std::string, const Json*> endpointsByKey;
  for (const auto& e : endpoints) {
    endpointsByKey[jsonString(e, {"metadata", "namespace"}) + "/" + jsonString(e, {"metadata", "name"})] = &e;
  }
  std::vector<ServiceView> out;
  for (const auto& svc : services) {
    ServiceView v;
    v.ns = jsonString(svc, {"metadata", "namespace"});
    v.name = jsonString(svc, {"metadata", "name"});
    v.clusterIP = jsonString(svc, {"spec", "clusterIP"});
    v.clientIpAffinity = jsonString(svc, {"spec", "sessionAffinity"}) == "ClientIP";
    const std::string type = jsonString(svc, {"spec", "type"});
    if (type == "ExternalName") continue;
    const bool publishNotReady = jsonAt(svc, {"spec", "publishNotReadyAddresses"}) &&
                                 svc["spec"]["publishNotReadyAddresses"].is_boolean() &&
                                 svc["spec"]["publishNotReadyAddresses"].get<bool>();
    const Json* portsJson = jsonAt(svc, {"spec", "ports"});
    const Json ports = portsJson && portsJson->is_array() ? *portsJson : Json::array();
    std::map<std::string, ServiceAddress> addresses;
    const Json* selector = jsonAt(svc, {"spec", "selector"});
    if (selector && selector->is_object() && !selector->empty()) {
      std::vector<const Json*> chosen;
      for (const auto& pod : pods) {
        if (jsonString(pod, {"metadata", "namespace"}) != v.ns || !selects(*selector, pod)) continue;
        if (jsonString(pod, {"status", "podIP"}).empty() || terminatingOrDone(pod)) continue;
        const bool ready = podReadyForEndpoints(pod);
        if (!ready && !publishNotReady) continue;
        chosen.push_back(&pod);
        ServiceAddress a;
        a.ip = jsonString(pod, {"status", "podIP"});
        a.ready = ready;
        if (jsonString(pod, {"spec", "subdomain"}) == v.name) {
          a.hostname = jsonString(pod, {"spec", "hostname"});
        }
        addresses[a.ip] = a;
      }
      for (const auto& p : ports) {
        ServicePortView pv;
        pv.name = jsonString(p, {"name"});
        pv.port = intOr(p, "port", 0);
        pv.protocol = protocolOf(p);
        for (const Json* pod : chosen) {
          const int target = targetPortFor(p, *pod);
          if (target > 0) pv.endpoints.push_back({jsonString(*pod, {"status", "podIP"}), target});
        }
        v.ports.push_back(std::move(pv));
      }
    } else {
      auto it = endpointsByKey.find(v.ns + "/" + v.name);
      for (const auto& p : ports) {
        ServicePortView pv;
        pv.name = jsonString(p, {"name"});
        pv.port = intOr(p, "port", 0);
        pv.protocol = protocolOf(p);
        if (it != endpointsByKey.end()) {
          const Json* subsets = jsonAt(*it->second, {"subsets"});
          for (const auto& s : subsets && subsets->is_array() ? *subsets : Json::array()) {
            int target = 0;
            for (const auto& ep : s.value("ports", Json::array())) {
              if (jsonString(ep, {"name"}) == pv.name && protocolOf(ep) == pv.protocol) target = intOr(ep, "port", 0);
            }
            if (target <= 0) continue;
            for (const auto& a : s.value("addresses", Json::array())) pv.endpoints.push_back({jsonString(a, {"ip"}), target});
            if (publishNotReady) {
              for (const auto& a : s.value("notReadyAddresses", Json::array())) pv.endpoints.push_back({jsonString(a, {"ip"}), target});
            }
          }
        }
        v.ports.push_back(std::move(pv));
      }
      if (it != endpointsByKey.end()) {
        const Json* subsets = jsonAt(*it->second, {"subsets"});
        for (const auto& s : subsets && subsets->is_array() ? *subsets : Json::array()) {
          for (const auto& a : s.value("addresses", Json::array())) {
            addresses[jsonString(a, {"ip"})] = {jsonString(a, {"ip"}), jsonString(a, {"hostname"}), true};
          }
        }
      }
    }
    for (auto& [ip, a] : addresses) v.addresses.push_back(a);
    out.push_back(std::move(v));
  }
  std::sort(out.begin(), out.end(), [](const ServiceView& a, const ServiceView& b) {
    return std::tie(a.ns, a.name) < std::tie(b.ns, b.name);
  });
  return out;
}

std::string renderServiceTable(const std::string& tableName, const std::string& serviceCidr,
                               const std::vector<ServiceView>& services) {
  std::ostringstream nat;
  for (const auto& s : services) {
    if (s.headless()) continue;
    for (const auto& p : s.ports) {
      if (p.endpoints.empty() || p.port <= 0) continue;
      std::string proto = p.protocol == "UDP" ? "udp" : p.protocol == "SCTP" ? "sctp" : "tcp";
      nat << "    ip daddr " << s.clusterIP << " " << proto << " dport " << p.port << " dnat to ";
      if (p.endpoints.size() == 1) {
        nat << p.endpoints[0].ip << ":" << p.endpoints[0].port;
      } else {
        nat << (s.clientIpAffinity ? "jhash ip saddr" : "numgen random") << " mod " << p.endpoints.size() << " map { ";
        for (size_t i = 0; i < p.endpoints.size(); ++i) {
          nat << (i ? ", " : "") << i << " : " << p.endpoints[i].ip << " . " << p.endpoints[i].port;
        }
        nat << " }";
      }
      nat << "  # " << s.ns << "/" << s.name << (p.name.empty() ? "" : ":" + p.name) << "\n";
    }
  }
  std::ostringstream out;
  out << "table ip " << tableName << " {\n"
      << "  chain services {\n"
      << "    type nat hook output priority -100; policy accept;\n"
      << nat.str()
      << "  }\n"
      << "  chain reject-unserved {\n"
      << "    type filter hook output priority 0; policy accept;\n"
      << "    ip daddr " << serviceCidr << " meta l4proto tcp reject with tcp reset\n"
      << "    ip daddr " << serviceCidr << " reject\n"
      << "  }\n"
      << "}\n";
  return out.str();
}

std::string renderHosts(const HostsSelf& self, const std::vector<ServiceView>& services, const std::string& domain) {
  std::ostringstream out;
  out << "# Kubernetes-managed hosts file (servicedb local node): Services and pods, kept current.\n"
      << "127.0.0.1\tlocalhost\n"
      << "::1\tlocalhost ip6-localhost ip6-loopback\n";
  if (!self.podIP.empty()) {
    if (!self.subdomain.empty()) {
      out << self.podIP << "\t" << self.hostname << "." << self.subdomain << "." << self.ns << ".svc." << domain << "\t"
          << self.hostname << "\n";
    } else {
      out << self.podIP << "\t" << self.hostname << "\n";
    }
  }
  auto names = [&](const std::string& base, const std::string& ns) {
    std::string n = base + "." + ns + ".svc." + domain + " " + base + "." + ns + ".svc " + base + "." + ns;
    if (ns == self.ns) n += " " + base;
    return n;
  };
  std::set<std::string> written;
  for (const auto& s : services) {
    if (!s.headless()) {
      out << s.clusterIP << "\t" << names(s.name, s.ns) << "\n";
      continue;
    }
    for (const auto& a : s.addresses) {
      if (!a.ready) continue;
      if (written.insert(a.ip + " " + s.ns + "/" + s.name).second) out << a.ip << "\t" << names(s.name, s.ns) << "\n";
    }
    for (const auto& a : s.addresses) {
      if (a.hostname.empty()) continue;
      out << a.ip << "\t" << names(a.hostname + "." + s.name, s.ns) << "\n";
    }
  }
  return out.str();
}

}  // namespace sdb::kubelet
