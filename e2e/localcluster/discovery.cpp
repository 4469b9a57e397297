// Discovery documents: legacy (APIVersions, APIGroupList, APIResourceList) and aggregated
// (apidiscovery.k8s.io v2 and v2beta1 APIGroupDiscoveryList), from the registry.
#include <map>
#include <set>

#include "e2e/localcluster/api_server.h"

namespace sdb::localcluster {

using apimachinery::Registry;
using apimachinery::ResourceInfo;

namespace {

// Groups in a stable order: built-ins first as kube-apiserver lists them, then custom groups.
std::vector<std::pair<std::string, std::string>> groupVersions(const Registry& registry) {
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& i : registry.all()) {
    if (i.ref.group.empty()) continue;
    if (seen.insert({i.ref.group, i.ref.version}).second) out.emplace_back(i.ref.group, i.ref.version);
  }
  return out;
}

Json subresourceEntries(const ResourceInfo& i) {
  Json subs = Json::array();
  if (i.statusSubresource) subs.push_back({{"name", "status"}, {"verbs", {"get", "patch", "update"}}});
  // No scale: /scale is not served (e2e/README.md), and advertising it would send `kubectl scale`
  // and autoscalers to a 404 rather than to an honest absence.
  if (i.logSubresource) subs.push_back({{"name", "log"}, {"verbs", {"get"}}});
  if (i.tokenSubresource) subs.push_back({{"name", "token"}, {"verbs", {"create"}}});
  return subs;
}

}  // namespace

Json legacyApiVersions(const std::string& serverAddress) {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs", {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", serverAddress}}}}};
}

Json legacyGroupList(const Registry& registry) {
  Json groups = Json::array();
  std::map<std::string, Json> byGroup;
  std::vector<std::string> order;
  for (const auto& [g, v] : groupVersions(registry)) {
    if (!byGroup.count(g)) {
      order.push_back(g);
      byGroup[g] = {{"name", g}, {"versions", Json::array()}};
    }
    Json gv = {{"groupVersion", g + "/" + v}, {"version", v}};
    byGroup[g]["versions"].push_back(gv);
    byGroup[g]["preferredVersion"] = gv;
  }
  for (const auto& g : order) groups.push_back(byGroup[g]);
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

Json legacyResourceList(const Registry& registry, const std::string& group, const std::string& version) {
  Json resources = Json::array();
  for (const auto& i : registry.all()) {
    if (i.ref.group != group || i.ref.version != version) continue;
    Json r = {{"name", i.ref.resource}, {"singularName", i.singular}, {"namespaced", i.ref.namespaced},
              {"kind", i.ref.kind}, {"verbs", i.verbs}};
    if (!i.shortNames.empty()) r["shortNames"] = i.shortNames;
    if (!i.categories.empty()) r["categories"] = i.categories;
    resources.push_back(r);
    for (const auto& s : subresourceEntries(i)) {
      std::string kind = i.ref.kind;
      if (s["name"] == "token") kind = "TokenRequest";
      resources.push_back({{"name", i.ref.resource + "/" + s["name"].get<std::string>()}, {"singularName", ""},
                           {"namespaced", i.ref.namespaced}, {"kind", kind}, {"verbs", s["verbs"]}});
    }
  }
  return {{"kind", "APIResourceList"}, {"apiVersion", "v1"},
          {"groupVersion", group.empty() ? version : group + "/" + version}, {"resources", resources}};
}

Json aggregatedDiscovery(const Registry& registry, bool coreGroup, const std::string& apiVersion) {
  std::map<std::pair<std::string, std::string>, Json> resourcesByGv;
  std::vector<std::pair<std::string, std::string>> order;
  for (const auto& i : registry.all()) {
    if ((i.ref.group.empty()) != coreGroup) continue;
    auto gv = std::make_pair(i.ref.group, i.ref.version);
    if (!resourcesByGv.count(gv)) {
      resourcesByGv[gv] = Json::array();
      order.push_back(gv);
    }
    Json r = {{"resource", i.ref.resource},
              {"responseKind", {{"group", i.ref.group}, {"version", i.ref.version}, {"kind", i.ref.kind}}},
              {"scope", i.ref.namespaced ? "Namespaced" : "Cluster"},
              {"singularResource", i.singular},
              {"verbs", i.verbs}};
    if (!i.shortNames.empty()) r["shortNames"] = i.shortNames;
    if (!i.categories.empty()) r["categories"] = i.categories;
    Json subs = Json::array();
    for (const auto& s : subresourceEntries(i)) {
      std::string kind = s["name"] == "token" ? "TokenRequest" : i.ref.kind;
      std::string g = s["name"] == "token" ? "authentication.k8s.io" : i.ref.group;
      subs.push_back({{"subresource", s["name"]}, {"responseKind", {{"group", g}, {"version", "v1"}, {"kind", kind}}},
                      {"verbs", s["verbs"]}});
    }
    if (!subs.empty()) r["subresources"] = subs;
    resourcesByGv[gv].push_back(r);
  }
  std::map<std::string, Json> groups;
  std::vector<std::string> groupOrder;
  for (const auto& gv : order) {
    if (!groups.count(gv.first)) {
      groups[gv.first] = {{"metadata", {{"name", gv.first}, {"creationTimestamp", nullptr}}}, {"versions", Json::array()}};
      groupOrder.push_back(gv.first);
    }
    groups[gv.first]["versions"].push_back({{"version", gv.second}, {"resources", resourcesByGv[gv]}, {"freshness", "Current"}});
  }
  Json items = Json::array();
  for (const auto& g : groupOrder) items.push_back(groups[g]);
  return {{"kind", "APIGroupDiscoveryList"}, {"apiVersion", apiVersion}, {"metadata", Json::object()}, {"items", items}};
}

}  // namespace sdb::localcluster
