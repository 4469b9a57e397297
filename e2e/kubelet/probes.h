// Container probes as the kubelet runs them: tcpSocket (connect), httpGet (GET, 200-399 succeeds),
// exec (exit 0 succeeds). tcpSocket and httpGet connect from inside the pod's network namespace to
// the pod's own address (so a NetworkPolicy on the pod sees them arrive on lo from the pod itself,
// not from the host); exec runs in the container's namespaces with its identity.
//
// Contract: thread-safe; each call blocks up to the probe's timeout.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "e2e/kubelet/process.h"
#include "operator/core/json.h"

namespace sdb::kubelet {

struct ProbeResult {
  bool success = false;
  std::string message;  // why it failed, as the kubelet's Unhealthy events word it
};

struct ProbeTarget {
  std::string netnsPath, podIP;
  Json container;  // for named ports
  // Runs a command in the container; set for exec probes.
  std::function<Result<CommandResult>(const std::vector<std::string>& argv, std::chrono::milliseconds timeout)> exec;
};

ProbeResult runProbe(const Json& probe, const ProbeTarget& target);

// Connects to ip:port from inside netnsPath within `timeout` (used by tcpSocket probes and tests).
ProbeResult tcpConnect(const std::string& netnsPath, const std::string& ip, int port, std::chrono::milliseconds timeout);

// The number a probe's or Service's port names: an integer, or a container port's name.
int resolvePort(const Json& port, const Json& container);

}  // namespace sdb::kubelet
