// PodWorker: starting a container (image, resolved spec, launch spec with its mounts).
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "e2e/kubelet/pod_worker.h"

namespace sdb::kubelet {

namespace fs = std::filesystem;

namespace {

size_t depth(const std::string& path) { return static_cast<size_t>(std::count(path.begin(), path.end(), '/')); }

}  // namespace

Result<ContainerLaunch> PodWorker::buildLaunch(Container& c) {
  Json pod;
  PodNetwork net;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pod = pod_;
    net = *network_;
  }
  const std::string name = jsonString(pod, {"metadata", "name"});
  ContainerLaunch l;
  l.netnsPath = net.netnsPath;
  l.stagingDir = podDir() + "/containers/" + c.name;
  l.hostname = jsonString(pod, {"spec", "hostname"}, name);
  if (l.hostname.empty()) l.hostname = name;
  l.hostname = l.hostname.substr(0, 63);
  l.readOnlyRootFilesystem = c.resolved.readOnlyRootFilesystem;
  l.dirs = c.image.dirs;
  l.files = c.image.files;
  l.files.push_back({"/etc/passwd", containerPasswd(node_.hostPasswd(), c.image, c.resolved.uid, c.resolved.gid), 0644});
  l.files.push_back({"/etc/group", containerGroup(node_.hostGroup(), c.image, c.resolved.groups), 0644});
  for (const char* f : {"hosts", "resolv.conf", "hostname"}) l.links.push_back({std::string("/etc/") + f, std::string("/run/servicedb/pod/") + f});
  l.mounts.push_back({podDir() + "/etc", "/run/servicedb/pod", true});
  for (const auto& b : c.image.binds) l.mounts.push_back(b);
  std::vector<MountSpec> volumeMounts;
  const Json* mounts = jsonAt(c.spec, {"volumeMounts"});
  for (const auto& m : mounts && mounts->is_array() ? *mounts : Json::array()) {
    const std::string volume = jsonString(m, {"name"}), path = jsonString(m, {"mountPath"});
    auto it = prepared_.find(volume);
    if (it == prepared_.end()) return Error(ErrorCode::kFailedPrecondition, "unable to find volume \"" + volume + "\" for container " + c.name);
    if (path.empty() || path[0] != '/') return Error(ErrorCode::kFailedPrecondition, "volumeMounts " + volume + ": mountPath must be absolute");
    std::string source = it->second.hostPath;
    const std::string subPath = jsonString(m, {"subPath"});
    if (!subPath.empty()) {
      if (subPath[0] == '/' || subPath.find("..") != std::string::npos) {
        return Error(ErrorCode::kFailedPrecondition, "subPath \"" + subPath + "\" must be relative and may not contain '..'");
      }
      source += "/" + subPath;
      std::error_code ec;
      if (!fs::exists(source, ec) && !it->second.readOnly) {
        fs::create_directories(source, ec);
        ::chmod(source.c_str(), 0777);
      }
    }
    const bool ro = it->second.readOnly || (m.contains("readOnly") && m["readOnly"].is_boolean() && m["readOnly"].get<bool>());
    volumeMounts.push_back({source, path, ro});
  }
  if (PodVolumes::mountsServiceAccount(pod, c.spec) && prepared_.count(kServiceAccountVolume)) {
    volumeMounts.push_back({prepared_[kServiceAccountVolume].hostPath, kServiceAccountMountPath, true});
  }
  std::stable_sort(volumeMounts.begin(), volumeMounts.end(),
                   [](const MountSpec& a, const MountSpec& b) { return depth(a.target) < depth(b.target); });
  l.mounts.insert(l.mounts.end(), volumeMounts.begin(), volumeMounts.end());
  l.argv = c.resolved.argv;
  for (const auto& [k, v] : c.resolved.env) l.env.push_back(k + "=" + v);
  l.workingDir = c.resolved.workingDir;
  l.uid = c.resolved.uid;
  l.gid = c.resolved.gid;
  l.supplementalGroups = c.resolved.groups;
  l.noNewPrivileges = c.resolved.noNewPrivileges;
  return l;
}

void PodWorker::startContainer(Container& c) {
  Json pod;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pod = pod_;
  }
  const auto retry = [&](const std::string& reason, const std::string& message, std::chrono::milliseconds after, bool event) {
    if (event && (c.waitingReason != reason || c.waitingMessage != message)) node_.event(pod, "Warning", "Failed", "Error: " + message);
    c.waitingReason = reason;
    c.waitingMessage = message;
    c.notBefore = std::chrono::steady_clock::now() + after;
  };
  const std::string imageRef = jsonString(c.spec, {"image"});
  auto found = lookupImage(imageRef, node_.imageTable());
  if (!found.image) {
    // The table does not change while the node runs; a new image in the spec restarts the container.
    retry(found.reason, found.message, std::chrono::hours(24 * 365), true);
    return;
  }
  c.image = *found.image;
  PodFacts facts;
  {
    std::lock_guard<std::mutex> lock(mu_);
    facts.podIP = network_ ? network_->ip : "";
  }
  facts.hostIP = node_.hostIP();
  facts.nodeName = node_.nodeName();
  facts.serviceEnv = node_.serviceEnv(jsonString(pod, {"metadata", "namespace"}));
  auto resolved = resolveContainer(pod, c.spec, c.image, node_.lookup(jsonString(pod, {"metadata", "namespace"})), facts);
  if (!resolved.ok()) {
    retry("CreateContainerConfigError", resolved.error().message, node_.timings().configRetry, true);
    return;
  }
  c.resolved = *resolved;
  auto launch = buildLaunch(c);
  if (!launch.ok()) {
    retry("CreateContainerConfigError", launch.error().message, node_.timings().configRetry, true);
    return;
  }
  c.launch = *launch;
  node_.event(pod, "Normal", "Pulled", "Container image \"" + imageRef + "\" already present on machine");
  const fs::path logDir = fs::path(podDir()) / "logs" / c.name;
  std::error_code ec;
  fs::create_directories(logDir, ec);
  // Keep the previous run's log (kubectl logs --previous) and this one.
  int run = 0;
  for (const auto& e : fs::directory_iterator(logDir, ec)) run = std::max(run, std::atoi(e.path().filename().c_str()) + 1);
  for (const auto& e : fs::directory_iterator(logDir, ec)) {
    if (std::atoi(e.path().filename().c_str()) < run - 1) fs::remove(e.path(), ec);
  }
  const std::string logPath = (logDir / (std::to_string(run) + ".log")).string();
  if (c.everStarted || c.last || c.current) c.restartCount += (c.everStarted ? 1 : 0);
  auto pid = node_.runtime().start(c.launch, logPath);
  const std::string now = formatRfc3339(node_.clock().now());
  c.everStarted = true;
  if (!pid.ok()) {
    // As runc's failures: the container is terminated with StartError, and restarts with back-off.
    node_.event(pod, "Warning", "Failed", "Error: failed to start container \"" + c.name + "\": " + pid.error().message);
    Terminated t;
    t.exitCode = 128;
    t.reason = "StartError";
    t.message = pid.error().message;
    t.startedAt = now;
    t.finishedAt = now;
    c.current = t;
    c.startedMono = std::chrono::steady_clock::now();
    const std::string policy = restartPolicy();
    if (policy != "Never") {
      c.last = c.current;
      c.current.reset();
      if (c.backoff.count() == 0) c.backoff = node_.timings().backoffInitial;
      c.notBefore = std::chrono::steady_clock::now() + c.backoff;
      c.waitingReason = "CrashLoopBackOff";
      c.waitingMessage = "back-off " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(c.backoff).count()) +
                         "s restarting failed container=" + c.name + " pod=" + jsonString(pod, {"metadata", "name"}) + "_" +
                         jsonString(pod, {"metadata", "namespace"}) + "(" + uid_ + ")";
      c.backoff = std::min(c.backoff * 2, node_.timings().backoffMax);
    }
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    c.pid = *pid;
  }
  c.containerID = "servicedb://" + uid_.substr(0, 8) + "-" + c.name + "-" + std::to_string(run);
  c.startedAt = now;
  c.startedMono = std::chrono::steady_clock::now();
  c.current.reset();
  c.waitingReason.clear();
  c.waitingMessage.clear();
  c.ready = false;
  c.started = false;
  c.startup = c.liveness = c.readiness = ProbeState{};
  node_.event(pod, "Normal", "Created", "Created container " + c.name);
  node_.event(pod, "Normal", "Started", "Started container " + c.name);
}

}  // namespace sdb::kubelet
