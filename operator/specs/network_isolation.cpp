// The allowed peers, the NetworkPolicy built from them, and the checks of spec.access. The verdict
// on stored policies is in isolation_verdict.cpp.
#include "operator/specs/network_isolation.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "operator/specs/label_selector.h"

namespace sdb::specs {

namespace {

inline constexpr const char* kAccessField = "spec.access.podSelector";

std::vector<std::string> sortedUnique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

// Only the two fields of a metav1.LabelSelector, so nothing else the object carries reaches the policy.
Json selectorFields(const Json& selector) {
  Json out = Json::object();
  for (const char* key : {"matchLabels", "matchExpressions"}) {
    if (selector.is_object() && selector.contains(key) && !selector[key].is_null()) out[key] = selector[key];
  }
  return out;
}

Json namespacePeer(const std::string& ns, const Json& podSelector) {
  return {{"namespaceSelector", {{"matchLabels", {{kLabelNamespaceName, ns}}}}}, {"podSelector", podSelector}};
}

}  // namespace

Labels instancePodSelector(const ServiceDatabase& sdb) {
  return {{kLabelDatabase, sdb.name}, {kLabelServicedbComponent, "instance"}, {kLabelManagedBy, kManagedByOperator}};
}

std::vector<AllowedPeer> allowedPeers(const InstanceNetworkInput& in) {
  const ServiceDatabase& sdb = *in.sdb;
  std::vector<AllowedPeer> out;
  out.push_back({"access pods", sortedUnique(effectiveAccessNamespaces(sdb)), selectorFields(effectiveAccessPodSelector(sdb))});
  if (!in.operatorNamespace.empty()) {
    out.push_back({"the operator", {in.operatorNamespace}, Json{{"matchLabels", Json(in.operatorPodLabels)}}});
  }
  const Json jobComponents = Json::array({"backup", "migrate", "restore"});
  out.push_back({"backup/restore/migrate Jobs",
                 {sdb.ns},
                 Json{{"matchLabels", {{kLabelDatabase, sdb.name}, {kLabelManagedBy, kManagedByOperator}}},
                      {"matchExpressions",
                       Json::array({{{"key", kLabelServicedbComponent}, {"operator", "In"}, {"values", jobComponents}}})}}});
  out.push_back({"replicas", {sdb.ns}, Json{{"matchLabels", {{kLabelDatabase, sdb.name}, {kLabelServicedbComponent, "replica"}}}}});
  return out;
}

Json instanceNetworkPolicy(const InstanceNetworkInput& in) {
  const ServiceDatabase& sdb = *in.sdb;
  Json from = Json::array();
  for (const auto& peer : allowedPeers(in)) {
    for (const auto& ns : peer.namespaces) from.push_back(namespacePeer(ns, peer.podSelector));
  }
  for (const auto& cidr : in.operatorCidrs) from.push_back({{"ipBlock", {{"cidr", cidr}}}});

  Json metadata = {{"name", in.policyName}, {"namespace", sdb.ns}, {"labels", Json(standardLabels(sdb, Component::kInstance))}};
  if (!in.ownerReference.is_null()) metadata["ownerReferences"] = Json::array({in.ownerReference});
  Json rule = {{"ports", Json::array({{{"protocol", "TCP"}, {"port", in.port}}})}, {"from", from}};
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", metadata},
          {"spec",
           {{"podSelector", {{"matchLabels", Json(instancePodSelector(sdb))}}},
            {"policyTypes", Json::array({"Ingress"})},
            {"ingress", Json::array({rule})}}}};
}

std::optional<std::string> validateAccess(const ServiceDatabase& sdb) {
  if (!sdb.accessPodSelector.empty()) {
    auto parsed = LabelSelector::fromJson(sdb.accessPodSelector, kAccessField);
    if (!parsed.ok()) return parsed.error().message;
  }
  for (size_t i = 0; i < sdb.accessNamespaces.size(); ++i) {
    if (auto p = dnsLabelProblem(sdb.accessNamespaces[i]); !p.empty()) {
      return "spec.access.namespaces[" + std::to_string(i) + "]: \"" + sdb.accessNamespaces[i] + "\" is not a namespace name (" + p + ")";
    }
  }
  return std::nullopt;
}

std::optional<std::string> accessConflict(const ServiceDatabase& sdb, const std::vector<ServiceDatabase>& others) {
  if (auto invalid = validateAccess(sdb)) return invalid;
  auto selector = LabelSelector::fromJson(effectiveAccessPodSelector(sdb), kAccessField);
  if (!selector.ok()) return selector.error().message;  // only a malformed default (spec.service) gets here
  const auto namespaces = effectiveAccessNamespaces(sdb);
  const std::set<std::string> reached(namespaces.begin(), namespaces.end());

  std::vector<const ServiceDatabase*> sorted;
  for (const auto& o : others) sorted.push_back(&o);
  std::sort(sorted.begin(), sorted.end(), [](const ServiceDatabase* a, const ServiceDatabase* b) {
    return std::tie(a->ns, a->name) < std::tie(b->ns, b->name);
  });
  for (const ServiceDatabase* other : sorted) {
    if (other->ns == sdb.ns && other->name == sdb.name) continue;
    if (other->service == sdb.service || reached.count(other->ns) == 0) continue;
    const auto theirPods = LabelSelector::fromLabels({{kLabelName, other->service}});
    if (!selector->intersect(theirPods).satisfiable()) continue;
    std::string field = kAccessField;
    if (other->ns != sdb.ns) field += " (in namespace \"" + other->ns + "\" of spec.access.namespaces)";
    return field + ": could select the pods of service \"" + other->service + "\" (" + kLabelName + "=" + other->service +
           "), the owner of ServiceDatabase " + other->ns + "/" + other->name +
           "; narrow it so it can only match this service's pods, e.g. with " + kLabelName + ": " + sdb.service;
  }
  return std::nullopt;
}

}  // namespace sdb::specs
