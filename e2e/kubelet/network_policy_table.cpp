#include "e2e/kubelet/network_policy_table.h"

#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace sdb::kubelet {

namespace {

bool isV6(const std::string& address) { return address.find(':') != std::string::npos; }

std::string nftProtocol(const std::string& protocol) {
  if (protocol == "TCP") return "tcp";
  if (protocol == "UDP") return "udp";
  if (protocol == "SCTP") return "sctp";
  return "";
}

std::string setOf(const std::vector<std::string>& items) {
  if (items.size() == 1) return items[0];
  std::string out = "{ ";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + " }";
}

// The address matches of a rule's peers; {""} when any peer will do, {} when none matches.
std::vector<std::string> peerMatches(const AllowRule& r, const std::string& dir) {
  if (r.anyPeer) return {""};
  std::vector<std::string> out;
  if (!r.podIPs.empty()) out.push_back("ip " + dir + " " + setOf(r.podIPs) + " ");
  for (const auto& b : r.blocks) {
    const std::string family = isV6(b.cidr) ? "ip6 " : "ip ";
    std::string m = family + dir + " " + b.cidr + " ";
    std::vector<std::string> except;
    for (const auto& e : b.except) {
      if (isV6(e) == isV6(b.cidr)) except.push_back(e);
    }
    if (!except.empty()) m += family + dir + " != " + setOf(except) + " ";
    out.push_back(m);
  }
  return out;
}

// The port matches of a rule; {""} when any port will do, {} when none matches.
std::vector<std::string> portMatches(const AllowRule& r) {
  if (r.anyPort) return {""};
  std::map<std::string, std::vector<std::string>> byProtocol;  // "" entry: every port
  std::set<std::string> whole;
  for (const auto& p : r.ports) {
    const std::string proto = nftProtocol(p.protocol);
    if (proto.empty()) continue;
    if (p.port == 0) {
      whole.insert(proto);
      continue;
    }
    byProtocol[proto].push_back(std::to_string(p.port) + (p.endPort > p.port ? "-" + std::to_string(p.endPort) : ""));
  }
  std::vector<std::string> out;
  for (const auto& proto : whole) out.push_back("meta l4proto " + proto + " ");
  for (const auto& [proto, ports] : byProtocol) {
    if (!whole.count(proto)) out.push_back(proto + " dport " + setOf(ports) + " ");
  }
  return out;
}

void renderChain(std::ostringstream& out, const char* name, const char* hook, const char* iface, const char* peerDir,
                 const DirectionRules& d) {
  out << "  chain " << name << " {\n"
      << "    type filter hook " << hook << " priority 0; policy accept;\n"
      << "    # isolated by " << setOf(d.policies) << "\n"
      << "    ct state established,related accept\n"
      << "    " << iface << " \"lo\" accept\n";
  for (const auto& r : d.rules) {
    out << "    # " << r.origin << "\n";
    for (const auto& peer : peerMatches(r, peerDir)) {
      for (const auto& port : portMatches(r)) out << "    " << peer << port << "accept\n";
    }
    for (const auto& pp : r.peerPorts) {
      const std::string proto = nftProtocol(pp.protocol);
      if (proto.empty()) continue;
      out << "    " << (isV6(pp.ip) ? "ip6 " : "ip ") << peerDir << " " << pp.ip << " " << proto << " dport " << pp.port
          << " accept\n";
    }
  }
  out << "    meta l4proto tcp reject with tcp reset\n"
      << "    reject with icmpx type port-unreachable\n"
      << "  }\n";
}

}  // namespace

std::string renderPolicyTable(const std::string& tableName, const PodPolicyRules& rules) {
  std::ostringstream out;
  out << "table inet " << tableName << " {\n";
  if (rules.ingress.isolated) renderChain(out, "ingress", "input", "iif", "saddr", rules.ingress);
  if (rules.egress.isolated) renderChain(out, "egress", "output", "oif", "daddr", rules.egress);
  out << "}\n";
  return out.str();
}

}  // namespace sdb::kubelet
