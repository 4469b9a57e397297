// PodWorker: the pod's status as the kubelet reports it (phase, conditions, addresses, container
// statuses), written only when it changes.
#include "e2e/kubelet/pod_worker.h"

namespace sdb::kubelet {

std::string PodWorker::phase() const {
  const std::string policy = restartPolicy();
  const std::string previous = jsonString(lastStatus_, {"phase"});
  if (previous == "Succeeded" || previous == "Failed") return previous;  // terminal phases stick
  bool pendingInit = false, failedInit = false;
  int running = 0, waiting = 0, stopped = 0, succeeded = 0, total = 0;
  for (const auto& c : containers_) {
    if (c.init) {
      if (!c.completed) {
        pendingInit = true;
        if (c.current && c.current->exitCode != 0) failedInit = true;
      }
      continue;
    }
    ++total;
    if (c.pid > 0) ++running;
    else if (c.current) {
      ++stopped;
      if (c.current->exitCode == 0) ++succeeded;
    } else if (c.last) {
      ++stopped;
    } else {
      ++waiting;
    }
  }
  if (failedInit && policy == "Never") return "Failed";
  if (pendingInit) return "Pending";
  if (waiting > 0) return "Pending";
  if (running > 0) return "Running";
  if (stopped == total && total > 0) {
    if (policy == "Always") return "Running";
    if (succeeded == total) return "Succeeded";
    if (policy == "OnFailure") return "Running";
    return "Failed";
  }
  return "Pending";
}

Json PodWorker::computeStatus() {
  Json pod;
  std::optional<PodNetwork> net;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pod = pod_;
    net = network_;
  }
  const std::string now = formatRfc3339(node_.clock().now());
  const std::string ph = phase();
  auto statusOf = [&](const Container& c) {
    Json s = {{"name", c.name},
              {"image", jsonString(c.spec, {"image"})},
              {"imageID", c.image.imageId},
              {"restartCount", c.restartCount},
              {"ready", c.pid > 0 && c.ready && !c.init},
              {"started", c.pid > 0 && c.started}};
    if (c.pid > 0 || c.current) s["containerID"] = c.containerID;
    auto terminated = [](const Terminated& t) {
      Json j = {{"exitCode", t.exitCode}, {"reason", t.reason}, {"startedAt", t.startedAt}, {"finishedAt", t.finishedAt}};
      if (t.signal) j["signal"] = t.signal;
      if (!t.message.empty()) j["message"] = t.message;
      if (!t.containerID.empty()) j["containerID"] = t.containerID;
      return j;
    };
    if (c.pid > 0) {
      s["state"] = {{"running", {{"startedAt", c.startedAt}}}};
    } else if (c.current) {
      s["state"] = {{"terminated", terminated(*c.current)}};
    } else {
      Json w = {{"reason", c.waitingReason.empty() ? (c.init ? "PodInitializing" : "ContainerCreating") : c.waitingReason}};
      if (c.waitingReason.empty() && !prepareError_.empty()) w = {{"reason", prepareReason_}};
      if (!c.waitingMessage.empty()) w["message"] = c.waitingMessage;
      s["state"] = {{"waiting", w}};
    }
    s["lastState"] = c.last ? Json{{"terminated", terminated(*c.last)}} : Json::object();
    if (c.init && c.completed && !c.current) {
      s["state"] = {{"terminated", {{"exitCode", 0}, {"reason", "Completed"}, {"startedAt", c.startedAt}, {"finishedAt", c.startedAt}}}};
    }
    return s;
  };
  Json statuses = Json::array(), initStatuses = Json::array();
  std::vector<std::string> unready, uninitialized;
  for (const auto& c : containers_) {
    Json s = statusOf(c);
    if (c.init) {
      initStatuses.push_back(s);
      if (!c.completed) uninitialized.push_back(c.name);
    } else {
      statuses.push_back(s);
      if (!s["ready"].get<bool>()) unready.push_back(c.name);
    }
  }
  auto list = [](const std::vector<std::string>& names) {
    std::string s = "[";
    for (size_t i = 0; i < names.size(); ++i) s += (i ? " " : "") + names[i];
    return s + "]";
  };
  const Json* oldConditions = jsonAt(lastStatus_, {"conditions"});
  auto condition = [&](const std::string& type, bool value, const std::string& reason, const std::string& message) {
    Json c = {{"type", type}, {"status", value ? "True" : "False"}, {"lastProbeTime", nullptr}, {"lastTransitionTime", now}};
    if (!reason.empty()) c["reason"] = reason;
    if (!message.empty()) c["message"] = message;
    for (const auto& o : oldConditions && oldConditions->is_array() ? *oldConditions : Json::array()) {
      if (jsonString(o, {"type"}) == type && jsonString(o, {"status"}) == c["status"].get<std::string>()) {
        c["lastTransitionTime"] = o.value("lastTransitionTime", now);
      }
    }
    return c;
  };
  const bool completed = ph == "Succeeded" || ph == "Failed";
  const bool ready = unready.empty() && uninitialized.empty() && !completed;
  Json conditions = Json::array();
  conditions.push_back(condition("PodReadyToStartContainers", net.has_value() || terminalTornDown_, "", ""));
  conditions.push_back(condition("Initialized", uninitialized.empty(), uninitialized.empty() ? "" : "ContainersNotInitialized",
                                 uninitialized.empty() ? "" : "containers with incomplete status: " + list(uninitialized)));
  const std::string notReadyReason = completed ? "PodCompleted" : "ContainersNotReady";
  const std::string notReadyMessage = completed ? "" : "containers with unready status: " + list(unready);
  conditions.push_back(condition("Ready", ready, ready ? "" : notReadyReason, ready ? "" : notReadyMessage));
  conditions.push_back(condition("ContainersReady", ready, ready ? "" : notReadyReason, ready ? "" : notReadyMessage));
  conditions.push_back(condition("PodScheduled", true, "", ""));
  Json status = {{"phase", ph}, {"conditions", conditions}, {"hostIP", node_.hostIP()}, {"hostIPs", {{{"ip", node_.hostIP()}}}},
                 {"containerStatuses", statuses}, {"qosClass", "BestEffort"}};
  if (!initStatuses.empty()) status["initContainerStatuses"] = initStatuses;
  const std::string podIP = net ? net->ip : jsonString(lastStatus_, {"podIP"});
  if (!podIP.empty()) {
    status["podIP"] = podIP;
    status["podIPs"] = {{{"ip", podIP}}};
  }
  if (!startTime_.empty()) status["startTime"] = startTime_;
  for (const char* kind : {"containers", "initContainers"}) {
    const Json* cs = jsonAt(pod, {"spec", kind});
    for (const auto& c : cs && cs->is_array() ? *cs : Json::array()) {
      if (jsonAt(c, {"resources", "requests"}) || jsonAt(c, {"resources", "limits"})) status["qosClass"] = "Burstable";
    }
  }
  return status;
}

void PodWorker::writeStatus() {
  Json status = computeStatus();
  if (status == lastStatus_) return;
  Json pod;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pod = pod_;
  }
  auto written = node_.writeStatus(pod, status);
  if (written.ok() || written.error().reason == kube::ApiErrorReason::kNotFound) lastStatus_ = status;
}

}  // namespace sdb::kubelet
