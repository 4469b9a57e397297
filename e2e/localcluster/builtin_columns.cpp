// Table columns of built-in kinds that kubectl users read every day, computed as kube-apiserver's
// printers compute them (pkg/printers/internalversion): pods (READY, STATUS, RESTARTS, IP, NODE),
// nodes, services and endpoints. Other built-ins get Name and Age.
#include <chrono>

#include "e2e/localcluster/builtin_columns.h"
#include "operator/core/clock.h"

namespace sdb::localcluster {

namespace {

Json column(const std::string& name, const std::string& type, int priority, const std::string& description) {
  return {{"name", name}, {"type", type}, {"format", ""}, {"description", description}, {"priority", priority}};
}

std::string agoSuffix(const std::string& when) {
  std::chrono::system_clock::time_point t;
  if (!parseRfc3339(when, &t)) return "";
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - t).count();
  std::string d = s < 120 ? std::to_string(s) + "s" : s < 7200 ? std::to_string(s / 60) + "m" : std::to_string(s / 3600) + "h";
  return " (" + d + " ago)";
}

std::vector<Json> podCells(const Json& pod) {
  const Json status = pod.value("status", Json::object());
  std::string reason = jsonString(status, {"phase"});
  if (!jsonString(status, {"reason"}).empty()) reason = jsonString(status, {"reason"});
  int restarts = 0, ready = 0;
  std::string lastRestart;
  const Json specContainers = jsonAt(pod, {"spec", "containers"}) ? pod["spec"]["containers"] : Json::array();
  const Json inits = status.value("initContainerStatuses", Json::array());
  bool initializing = false;
  for (size_t i = 0; i < inits.size(); ++i) {
    const Json& c = inits[i];
    restarts += c.value("restartCount", 0);
    const Json* term = jsonAt(c, {"state", "terminated"});
    if (term && term->value("exitCode", 1) == 0) continue;
    initializing = true;
    if (term) {
      reason = !jsonString(*term, {"reason"}).empty() ? "Init:" + jsonString(*term, {"reason"})
                                                       : "Init:ExitCode:" + std::to_string(term->value("exitCode", 0));
    } else if (const Json* w = jsonAt(c, {"state", "waiting"}); w && !jsonString(*w, {"reason"}).empty() &&
                                                              jsonString(*w, {"reason"}) != "PodInitializing") {
      reason = "Init:" + jsonString(*w, {"reason"});
    } else {
      reason = "Init:" + std::to_string(i) + "/" + std::to_string(jsonAt(pod, {"spec", "initContainers"}) ? pod["spec"]["initContainers"].size() : inits.size());
    }
    break;
  }
  const Json statuses = status.value("containerStatuses", Json::array());
  if (!initializing) {
    restarts = 0;
    bool hasRunning = false;
    for (auto it = statuses.rbegin(); it != statuses.rend(); ++it) {
      const Json& c = *it;
      restarts += c.value("restartCount", 0);
      if (const std::string t = jsonString(c, {"lastState", "terminated", "finishedAt"}); !t.empty() && t > lastRestart) lastRestart = t;
      const Json* w = jsonAt(c, {"state", "waiting"});
      const Json* term = jsonAt(c, {"state", "terminated"});
      if (w && !jsonString(*w, {"reason"}).empty()) {
        reason = jsonString(*w, {"reason"});
      } else if (term && !jsonString(*term, {"reason"}).empty()) {
        reason = jsonString(*term, {"reason"});
      } else if (term) {
        reason = term->value("signal", 0) ? "Signal:" + std::to_string(term->value("signal", 0))
                                          : "ExitCode:" + std::to_string(term->value("exitCode", 0));
      } else if (c.value("ready", false) && jsonAt(c, {"state", "running"})) {
        hasRunning = true;
        ++ready;
      }
    }
    if (reason == "Completed" && hasRunning) reason = "Running";
  }
  if (jsonAt(pod, {"metadata", "deletionTimestamp"})) reason = "Terminating";
  const std::string ip = jsonString(status, {"podIP"}, "<none>");
  const std::string node = jsonString(pod, {"spec", "nodeName"}, "<none>");
  return {std::to_string(ready) + "/" + std::to_string(specContainers.size()), reason,
          std::to_string(restarts) + (restarts && !lastRestart.empty() ? agoSuffix(lastRestart) : ""), "", ip.empty() ? "<none>" : ip,
          node.empty() ? "<none>" : node, "<none>", "<none>"};
}

std::vector<Json> nodeCells(const Json& node) {
  std::string ready = "Unknown";
  for (const auto& c : jsonAt(node, {"status", "conditions"}) ? node["status"]["conditions"] : Json::array()) {
    if (jsonString(c, {"type"}) == "Ready") ready = jsonString(c, {"status"}) == "True" ? "Ready" : jsonString(c, {"status"}) == "False" ? "NotReady" : "Unknown";
  }
  std::string roles;
  const Json labels = jsonAt(node, {"metadata", "labels"}) ? node["metadata"]["labels"] : Json::object();
  for (const auto& [k, v] : labels.items()) {
    if (k.rfind("node-role.kubernetes.io/", 0) == 0) roles += (roles.empty() ? "" : ",") + k.substr(24);
  }
  std::string internal = "<none>";
  for (const auto& a : jsonAt(node, {"status", "addresses"}) ? node["status"]["addresses"] : Json::array()) {
    if (jsonString(a, {"type"}) == "InternalIP") internal = jsonString(a, {"address"});
  }
  return {ready, roles.empty() ? "<none>" : roles, "", jsonString(node, {"status", "nodeInfo", "kubeletVersion"}), internal, "<none>",
          jsonString(node, {"status", "nodeInfo", "osImage"}), jsonString(node, {"status", "nodeInfo", "kernelVersion"}),
          jsonString(node, {"status", "nodeInfo", "containerRuntimeVersion"})};
}

std::vector<Json> serviceCells(const Json& svc) {
  std::string ports;
  for (const auto& p : jsonAt(svc, {"spec", "ports"}) ? svc["spec"]["ports"] : Json::array()) {
    ports += (ports.empty() ? "" : ",") + std::to_string(p.value("port", 0)) + "/" + jsonString(p, {"protocol"}, "TCP");
  }
  std::string selector;
  const Json sel = jsonAt(svc, {"spec", "selector"}) ? svc["spec"]["selector"] : Json::object();
  for (const auto& [k, v] : sel.items()) {
    selector += (selector.empty() ? "" : ",") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return {jsonString(svc, {"spec", "type"}, "ClusterIP"), jsonString(svc, {"spec", "clusterIP"}, "<none>"), "<none>",
          ports.empty() ? "<none>" : ports, "", selector.empty() ? "<none>" : selector};
}

std::vector<Json> endpointsCells(const Json& ep) {
  std::string list;
  int shown = 0, total = 0;
  for (const auto& s : ep.value("subsets", Json::array())) {
    for (const auto& a : s.value("addresses", Json::array())) {
      for (const auto& p : s.value("ports", Json::array())) {
        ++total;
        if (shown < 3) {
          list += (list.empty() ? "" : ",") + jsonString(a, {"ip"}) + ":" + std::to_string(p.value("port", 0));
          ++shown;
        }
      }
    }
  }
  if (total > shown) list += " + " + std::to_string(total - shown) + " more...";
  return {list.empty() ? "<none>" : list, ""};
}

}  // namespace

std::optional<BuiltinColumns> builtinColumns(const apimachinery::ResourceInfo& info) {
  if (!info.ref.group.empty() || info.crd) return std::nullopt;
  BuiltinColumns b;
  const Json age = column("Age", "date", 0, "CreationTimestamp is a timestamp representing the server time when this object was created.");
  if (info.ref.resource == "pods") {
    b.columns = {column("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
                 column("Status", "string", 0, "The aggregate status of the containers in this pod."),
                 column("Restarts", "string", 0, "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
                 age,
                 column("IP", "string", 1, "podIP is the IP address allocated to the pod."),
                 column("Node", "string", 1, "nodeName is the node the pod is bound to."),
                 column("Nominated Node", "string", 1, "nominatedNodeName is set when this pod preempts other pods on the node."),
                 column("Readiness Gates", "string", 1, "If specified, all readiness gates will be evaluated for pod readiness.")};
    b.cells = podCells;
  } else if (info.ref.resource == "nodes") {
    b.columns = {column("Status", "string", 0, "The status of the node"), column("Roles", "string", 0, "The roles of the node"), age,
                 column("Version", "string", 0, "Kubelet Version reported by the node."),
                 column("Internal-IP", "string", 1, "List of internal IPs."), column("External-IP", "string", 1, "List of external IPs."),
                 column("OS-Image", "string", 1, "OS Image reported by the node."),
                 column("Kernel-Version", "string", 1, "Kernel Version reported by the node."),
                 column("Container-Runtime", "string", 1, "Container Runtime Version reported by the node.")};
    b.cells = nodeCells;
  } else if (info.ref.resource == "services") {
    b.columns = {column("Type", "string", 0, "The type of the service."), column("Cluster-IP", "string", 0, "The cluster IP of the service."),
                 column("External-IP", "string", 0, "The external IP of the service."),
                 column("Port(s)", "string", 0, "The ports of the service."), age,
                 column("Selector", "string", 1, "The selector of the service.")};
    b.cells = serviceCells;
  } else if (info.ref.resource == "endpoints") {
    b.columns = {column("Endpoints", "string", 0, "Endpoints of the service"), age};
    b.cells = endpointsCells;
  } else {
    return std::nullopt;
  }
  return b;
}

}  // namespace sdb::localcluster
