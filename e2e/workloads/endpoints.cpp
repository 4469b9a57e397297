#include "e2e/workloads/endpoints.h"

#include <algorithm>
#include <map>

#include "e2e/workloads/pod_util.h"

namespace sdb::workloads {

namespace res = kube::resources;
using runtime::ReconcileResult;

namespace {

const Json* serviceSelector(const Json& svc) {
  const Json* sel = jsonAt(svc, {"spec", "selector"});
  return sel && sel->is_object() && !sel->empty() ? sel : nullptr;
}

bool selects(const Json& selector, const Json& pod) {
  const Json* labels = jsonAt(pod, {"metadata", "labels"});
  if (!labels || !labels->is_object()) return false;
  for (auto it = selector.begin(); it != selector.end(); ++it) {
    auto l = labels->find(it.key());
    if (l == labels->end() || *l != it.value()) return false;
  }
  return true;
}

// What the Endpoints show of a pod; a pod update that leaves it alone changes nothing.
Json endpointView(const Json& pod) {
  return {{"labels", pod["metadata"].value("labels", Json::object())},
          {"ip", jsonString(pod, {"status", "podIP"})},
          {"ready", isPodReady(pod)},
          {"phase", podPhase(pod)},
          {"terminating", isPodTerminating(pod)},
          {"node", jsonString(pod, {"spec", "nodeName"})},
          {"hostname", jsonString(pod, {"spec", "hostname"})},
          {"subdomain", jsonString(pod, {"spec", "subdomain"})}};
}

// kube's ShouldPodBeInEndpoints.
bool belongsInEndpoints(const Json& pod, bool includeTerminating) {
  if (jsonString(pod, {"status", "podIP"}).empty()) return false;
  if (!includeTerminating && isPodTerminating(pod)) return false;
  const std::string policy = jsonString(pod, {"spec", "restartPolicy"}, "Always");
  const std::string phase = podPhase(pod);
  if (policy == "Never") return phase != "Failed" && phase != "Succeeded";
  if (policy == "OnFailure") return phase != "Succeeded";
  return true;
}

// The container port a Service port targets on this pod, or 0 when a named port is not found.
int64_t resolveTargetPort(const Json& servicePort, const Json& pod) {
  const std::string protocol = servicePort.value("protocol", "TCP");
  if (!servicePort.contains("targetPort")) return servicePort.value("port", int64_t{0});
  const Json& target = servicePort["targetPort"];
  if (target.is_number_integer()) return target.get<int64_t>();
  if (!target.is_string()) return 0;
  const std::string name = target.get<std::string>();
  if (!name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::stoll(name);
  }
  const Json* containers = jsonAt(pod, {"spec"});
  if (!containers || !containers->contains("containers")) return 0;
  for (const auto& c : (*containers)["containers"]) {
    if (!c.contains("ports") || !c["ports"].is_array()) continue;
    for (const auto& p : c["ports"]) {
      if (p.value("name", "") == name && p.value("protocol", "TCP") == protocol) return p.value("containerPort", int64_t{0});
    }
  }
  return 0;
}

}  // namespace

Json EndpointsController::computeSubsets(const Json& service, const std::vector<runtime::ObjectPtr>& pods) {
  const bool publishNotReady = jsonAt(service, {"spec"}) && service["spec"].value("publishNotReadyAddresses", false);
  const bool headless = jsonString(service, {"spec", "clusterIP"}) == "None";
  const std::string svcName = jsonString(service, {"metadata", "name"});
  const Json servicePorts = jsonAt(service, {"spec"}) ? service["spec"].value("ports", Json::array()) : Json::array();
  struct Subset {
    Json ports;
    std::vector<Json> ready, notReady;
  };
  std::map<std::string, Subset> subsets;
  for (const auto& podPtr : pods) {
    const Json& pod = *podPtr;
    if (!belongsInEndpoints(pod, publishNotReady)) continue;
    Json addr = {{"ip", jsonString(pod, {"status", "podIP"})},
                 {"targetRef", {{"kind", "Pod"}, {"namespace", jsonString(pod, {"metadata", "namespace"})},
                                {"name", jsonString(pod, {"metadata", "name"})}, {"uid", jsonString(pod, {"metadata", "uid"})}}}};
    const std::string node = jsonString(pod, {"spec", "nodeName"});
    if (!node.empty()) addr["nodeName"] = node;
    const std::string hostname = jsonString(pod, {"spec", "hostname"});
    if (!hostname.empty() && jsonString(pod, {"spec", "subdomain"}) == svcName) addr["hostname"] = hostname;
    Json ports = Json::array();
    for (const auto& sp : servicePorts) {
      const int64_t port = resolveTargetPort(sp, pod);
      if (port <= 0) continue;
      Json p = {{"port", port}, {"protocol", sp.value("protocol", "TCP")}};
      if (sp.contains("name") && !sp["name"].get<std::string>().empty()) p["name"] = sp["name"];
      if (sp.contains("appProtocol")) p["appProtocol"] = sp["appProtocol"];
      ports.push_back(p);
    }
    if (ports.empty() && !(servicePorts.empty() && headless)) continue;
    Subset& s = subsets[ports.dump()];
    s.ports = ports;
    (publishNotReady || isPodReady(pod) ? s.ready : s.notReady).push_back(addr);
  }
  Json out = Json::array();
  auto byIp = [](const Json& a, const Json& b) {
    return std::make_pair(a.value("ip", ""), jsonString(a, {"targetRef", "name"})) <
           std::make_pair(b.value("ip", ""), jsonString(b, {"targetRef", "name"}));
  };
  for (auto& [key, s] : subsets) {
    Json subset = Json::object();
    std::sort(s.ready.begin(), s.ready.end(), byIp);
    std::sort(s.notReady.begin(), s.notReady.end(), byIp);
    if (!s.ready.empty()) subset["addresses"] = s.ready;
    if (!s.notReady.empty()) subset["notReadyAddresses"] = s.notReady;
    if (!s.ports.empty()) subset["ports"] = s.ports;
    out.push_back(subset);
  }
  return out;
}

void EndpointsController::wire(runtime::Controller& controller) {
  controller.For(*ctx_.informers.services);
  auto sameName = [&controller](const ObjectPtr& ep) {
    controller.enqueue({jsonString(*ep, {"metadata", "namespace"}), jsonString(*ep, {"metadata", "name"})});
  };
  ctx_.informers.endpoints->addHandlers({nullptr, [sameName](const ObjectPtr&, const ObjectPtr& n) { sameName(n); }, sameName});
  auto servicesOf = [this, &controller](const Json& pod) {
    const std::string ns = jsonString(pod, {"metadata", "namespace"});
    for (const auto& svc : ctx_.informers.services->list(ns)) {
      const Json* sel = serviceSelector(*svc);
      if (sel && selects(*sel, pod)) controller.enqueue({ns, jsonString(*svc, {"metadata", "name"})});
    }
  };
  ctx_.informers.pods->addHandlers({[servicesOf](const ObjectPtr& p) { servicesOf(*p); },
                                    [servicesOf](const ObjectPtr& o, const ObjectPtr& n) {
                                      if (o != n && endpointView(*o) == endpointView(*n)) return;
                                      servicesOf(*n);
                                      if (o != n && (*o)["metadata"].value("labels", Json()) != (*n)["metadata"].value("labels", Json())) {
                                        servicesOf(*o);
                                      }
                                    },
                                    [servicesOf](const ObjectPtr& p) { servicesOf(*p); }});
}

ReconcileResult EndpointsController::reconcile(const runtime::Request& request, const runtime::ReconcileContext&) {
  if (!rw_.await()) return ReconcileResult::retry("the endpoints cache is behind our writes");
  ObjectPtr svc = ctx_.informers.services->get(request.ns, request.name);
  ObjectPtr existing = ctx_.informers.endpoints->get(request.ns, request.name);
  if (!svc) {
    if (!existing) return ReconcileResult::ok();
    auto d = deleteExact(ctx_.client, res::kEndpoints, *existing);
    if (!d.ok()) return failed(d.error());
    rw_.wrote(*ctx_.informers.endpoints, *d);
    return ReconcileResult::ok();
  }
  const Json* selector = serviceSelector(*svc);
  if (!selector || jsonString(*svc, {"spec", "type"}) == "ExternalName") return ReconcileResult::ok();
  const Json subsets = computeSubsets(*svc, selectedIn(*ctx_.informers.pods, request.ns, {{"matchLabels", *selector}}));
  Json labels = (*svc)["metadata"].value("labels", Json::object());
  if (jsonString(*svc, {"spec", "clusterIP"}) == "None") labels["service.kubernetes.io/headless"] = "";
  Json desired = existing ? *existing
                          : Json{{"apiVersion", "v1"}, {"kind", "Endpoints"},
                                 {"metadata", {{"name", request.name}, {"namespace", request.ns}}}};
  if (labels.empty()) desired["metadata"].erase("labels");
  else desired["metadata"]["labels"] = labels;
  if (subsets.empty()) desired.erase("subsets");
  else desired["subsets"] = subsets;
  if (existing && desired == *existing) return ReconcileResult::ok();
  auto w = existing ? ctx_.client.update(res::kEndpoints, request.ns, desired) : ctx_.client.create(res::kEndpoints, request.ns, desired);
  if (!w.ok()) {
    if (w.error().is(kube::ApiErrorReason::kNotFound) && !existing) return ReconcileResult::ok();  // namespace is going
    return failed(w.error());
  }
  rw_.wrote(*ctx_.informers.endpoints, *w);
  return ReconcileResult::ok();
}

}  // namespace sdb::workloads
