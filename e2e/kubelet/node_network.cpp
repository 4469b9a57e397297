#include "e2e/kubelet/node_network.h"

#include <dirent.h>

#include <sstream>

#include "e2e/kubelet/process.h"

namespace sdb::kubelet {

namespace {

Result<std::string> ip(const std::vector<std::string>& args, const std::string& batch = "") {
  CommandOptions o;
  o.argv = {"ip"};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.stdinData = batch;
  return runChecked(o);
}

bool isMissing(const Error& e) {
  return e.message.find("Cannot find device") != std::string::npos ||
         e.message.find("No such file or directory") != std::string::npos ||
         e.message.find("does not exist") != std::string::npos;
}

std::string sanitize(const std::string& label) {
  std::string out;
  for (char c : label) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-') out.push_back(c);
    else if (c >= 'A' && c <= 'Z') out.push_back(static_cast<char>(c - 'A' + 'a'));
    else out.push_back('_');
  }
  return out.substr(0, 100);
}

}  // namespace

std::vector<std::string> NodeNetwork::leftoverNamespaces() const {
  std::vector<std::string> out;
  DIR* d = ::opendir("/run/netns");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind(slot_.netnsPrefix(), 0) == 0) out.push_back(name);
  }
  ::closedir(d);
  return out;
}

Status NodeNetwork::removeLeftovers() {
  std::vector<std::string> problems;
  for (const auto& name : leftoverNamespaces()) {
    auto killed = killAllInNetns("/run/netns/" + name);
    if (!killed.ok()) problems.push_back(killed.error().message);
    auto del = ip({"netns", "del", name});
    if (!del.ok() && !isMissing(del.error())) problems.push_back(del.error().message);
  }
  auto links = ip({"-o", "link", "show"});
  if (links.ok()) {
    std::istringstream in(*links);
    std::string line;
    while (std::getline(in, line)) {
      // "12: sdb3v7@if2: <...>" -> "sdb3v7"
      const auto colon = line.find(": ");
      if (colon == std::string::npos) continue;
      std::string name = line.substr(colon + 2);
      name = name.substr(0, name.find_first_of(":@ "));
      if (name.rfind(slot_.vethPrefix(), 0) == 0 || name == slot_.bridgeName()) {
        auto del = ip({"link", "del", name});
        if (!del.ok() && !isMissing(del.error())) problems.push_back(del.error().message);
      }
    }
  }
  CommandOptions nft;
  nft.argv = {"nft", "delete", "table", "ip", slot_.nftTable()};
  auto r = runCommand(nft);
  if (r.ok() && r->exitCode != 0 && r->err.find("No such file or directory") == std::string::npos) {
    problems.push_back("nft delete table ip " + slot_.nftTable() + ": " + r->err);
  }
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
    return ioError("cleaning up slot " + std::to_string(slot_.number()) + ": " + all);
  }
  return okStatus();
}

Status NodeNetwork::setUp() {
  SDB_TRY(removeLeftovers());
  const std::string br = slot_.bridgeName();
  auto made = ip({"-b", "-"}, "link add " + br + " type bridge\n" +
                                  "addr add " + slot_.bridgeIp() + "/24 dev " + br + "\n" +
                                  "link set " + br + " up\n" +
                                  "route add " + slot_.serviceCidr() + " dev " + br + " src " + slot_.bridgeIp() + "\n");
  if (!made.ok()) return made.error().wrap("creating bridge " + br);
  return okStatus();
}

Status NodeNetwork::tearDown() { return removeLeftovers(); }

Result<PodNetwork> NodeNetwork::createPod(int octet, const std::string& label) {
  if (octet < 2 || octet > 254) return invalidArgument("pod address octet out of range: " + std::to_string(octet));
  PodNetwork p;
  p.octet = octet;
  p.ip = slot_.podPrefix() + std::to_string(octet);
  p.netnsName = slot_.netnsPrefix() + std::to_string(octet) + "-" + sanitize(label);
  p.netnsPath = "/run/netns/" + p.netnsName;
  p.hostVeth = slot_.vethPrefix() + std::to_string(octet);
  auto added = ip({"netns", "add", p.netnsName});
  if (!added.ok()) return added.error().wrap("creating network namespace " + p.netnsName);
  auto host = ip({"-b", "-"}, "link add " + p.hostVeth + " type veth peer name eth0 netns " + p.netnsName + "\n" +
                                  "link set " + p.hostVeth + " master " + slot_.bridgeName() + "\n" +
                                  "link set " + p.hostVeth + " up\n");
  Status failed = okStatus();
  if (!host.ok()) {
    failed = host.error().wrap("creating veth " + p.hostVeth);
  } else {
    auto inside = ip({"-n", p.netnsName, "-b", "-"}, "link set lo up\n"
                                                      "addr add " + p.ip + "/24 dev eth0\n"
                                                      "link set eth0 up\n"
                                                      "route add default via " + slot_.bridgeIp() + "\n");
    if (!inside.ok()) failed = inside.error().wrap("configuring eth0 in " + p.netnsName);
  }
  if (!failed.ok()) {
    (void)deletePod(p);
    return failed.error();
  }
  return p;
}

Status NodeNetwork::deletePod(const PodNetwork& p) {
  std::vector<std::string> problems;
  auto killed = killAllInNetns(p.netnsPath);
  if (!killed.ok()) problems.push_back(killed.error().message);
  auto link = ip({"link", "del", p.hostVeth});
  if (!link.ok() && !isMissing(link.error())) problems.push_back(link.error().message);
  auto ns = ip({"netns", "del", p.netnsName});
  if (!ns.ok() && !isMissing(ns.error())) problems.push_back(ns.error().message);
  if (!problems.empty()) {
    std::string all;
    for (const auto& s : problems) all += (all.empty() ? "" : "; ") + s;
    return ioError("removing pod network " + p.netnsName + ": " + all);
  }
  return okStatus();
}

Status NodeNetwork::loadRules(const std::string& netnsPath, const std::string& tableName, const std::string& ruleset) {
  return loadTables(netnsPath, {{"ip " + tableName, ruleset}});
}

Status NodeNetwork::loadTables(const std::string& netnsPath, const std::vector<Table>& tables) {
  if (tables.empty()) return okStatus();
  CommandOptions o;
  o.argv = {"nft", "-f", "-"};
  o.netnsPath = netnsPath;
  std::string names;
  for (const auto& t : tables) {
    o.stdinData += "table " + t.table + " {}\ndelete table " + t.table + "\n" + t.ruleset;
    names += (names.empty() ? "" : ", ") + t.table;
  }
  auto r = runChecked(o);
  if (!r.ok()) return r.error().wrap("loading nftables tables " + names);
  return okStatus();
}

}  // namespace sdb::kubelet
