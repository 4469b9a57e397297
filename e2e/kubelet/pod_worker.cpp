// PodWorker: the pod's life on its own thread. Status composition is in pod_status.cpp, the
// container's launch spec in container_launch.cpp.
#include "e2e/kubelet/pod_worker.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "e2e/kubelet/network_policy_table.h"
#include "e2e/kubelet/probes.h"
#include "operator/backup/crypto_util.h"

#include <spdlog/spdlog.h>

namespace sdb::kubelet {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

namespace {

// The pod's NetworkPolicy table (e2e/README.md, "NetworkPolicy").
constexpr const char* kPolicyTable = "sdb-policy";

std::string writeIfChanged(const fs::path& p, const std::string& content) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  if (in && ss.str() == content) return "";
  const fs::path tmp = p.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
  }
  ::chmod(tmp.c_str(), 0644);
  std::error_code ec;
  fs::rename(tmp, p, ec);
  return ec ? ec.message() : "";
}

std::string hashOf(const Json& j) {
  const std::string s = j.dump();
  auto d = backup::crypto::sha256(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  return backup::crypto::toHex(d.data(), 8);
}

// A probe setting, or its default when unset or not positive (kube-apiserver's defaulting).
int positiveOr(const Json& probe, const char* key, int fallback) {
  const Json* v = jsonAt(probe, {key});
  return v && v->is_number_integer() && v->get<int>() > 0 ? v->get<int>() : fallback;
}

int64_t graceOf(const Json& pod) {
  if (const Json* g = jsonAt(pod, {"metadata", "deletionGracePeriodSeconds"}); g && g->is_number_integer()) return g->get<int64_t>();
  if (const Json* g = jsonAt(pod, {"spec", "terminationGracePeriodSeconds"}); g && g->is_number_integer()) return g->get<int64_t>();
  return 30;
}

}  // namespace

PodWorker::PodWorker(NodeServices& node, Json pod)
    : node_(node), uid_(jsonString(pod, {"metadata", "uid"})), pod_(std::move(pod)) {
  thread_ = std::thread([this] { run(); });
}

PodWorker::~PodWorker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    nodeStopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PodWorker::update(Json pod) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pod_ = std::move(pod);
    podChanged_ = true;
  }
  cv_.notify_all();
}

void PodWorker::podDeleted() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    deleted_ = true;
  }
  cv_.notify_all();
}

void PodWorker::refreshVolumes() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    volumesDirty_ = true;
  }
  cv_.notify_all();
}

void PodWorker::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    nodeStopping_ = true;
  }
  cv_.notify_all();
}

bool PodWorker::waitFor(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [&] { return podChanged_ || deleted_ || nodeStopping_ || volumesDirty_; });
  return true;
}

std::string PodWorker::podDir() const { return node_.nodeDir() + "/pods/" + uid_; }

std::string PodWorker::logFile(const std::string& container, bool previous) const {
  const fs::path dir = fs::path(podDir()) / "logs" / container;
  std::vector<int> runs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() > 4 && n.substr(n.size() - 4) == ".log") runs.push_back(std::atoi(n.c_str()));
  }
  std::sort(runs.begin(), runs.end());
  if (runs.empty() || (previous && runs.size() < 2)) return "";
  return (dir / (std::to_string(runs[runs.size() - (previous ? 2 : 1)]) + ".log")).string();
}

bool PodWorker::containerRunning(const std::string& container) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& c : containers_) {
    if (c.name == container) return c.pid > 0;
  }
  return false;
}

std::string PodWorker::restartPolicy() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string p = jsonString(pod_, {"spec", "restartPolicy"}, "Always");
  return p.empty() ? "Always" : p;
}

void PodWorker::setContainerSpecs(const Json& pod) {
  std::vector<Container> next;
  for (const char* kind : {"initContainers", "containers"}) {
    const Json* cs = jsonAt(pod, {"spec", kind});
    for (const auto& spec : cs && cs->is_array() ? *cs : Json::array()) {
      const std::string name = jsonString(spec, {"name"});
      auto it = std::find_if(containers_.begin(), containers_.end(), [&](const Container& c) { return c.name == name; });
      Container c;
      if (it != containers_.end()) c = std::move(*it);
      c.name = name;
      c.init = std::string(kind) == "initContainers";
      const std::string hash = hashOf(spec);
      if (!c.specHash.empty() && c.specHash != hash && c.pid > 0 && !c.init) {
        node_.event(pod, "Normal", "Killing", "Container " + name + " definition changed, will be restarted");
        c.spec = spec;
        c.specHash = hash;
        stopContainer(c, std::chrono::seconds(graceOf(pod)), "");
        c.restartAfterStop = true;
      }
      c.spec = spec;
      c.specHash = hash;
      next.push_back(std::move(c));
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  containers_ = std::move(next);
}

void PodWorker::run() {
  // A pod that ran before the node restarted continues its containers' restart counts.
  {
    std::lock_guard<std::mutex> lock(mu_);
    lastStatus_ = pod_.value("status", Json::object());
  }
  setContainerSpecs(pod_);
  for (auto& c : containers_) {
    for (const char* key : {"containerStatuses", "initContainerStatuses"}) {
      const Json* statuses = jsonAt(lastStatus_, {key});
      for (const auto& s : statuses && statuses->is_array() ? *statuses : Json::array()) {
        if (jsonString(s, {"name"}) != c.name) continue;
        c.restartCount = s.value("restartCount", 0);
        if (jsonAt(s, {"state", "running"})) c.restartCount += 1;
        if (c.init && jsonAt(s, {"state", "terminated"}) && s["state"]["terminated"].value("exitCode", 1) == 0) c.completed = true;
      }
    }
  }
  startTime_ = jsonString(lastStatus_, {"startTime"});
  while (tick()) waitFor(node_.timings().tick);
  done_ = true;
}

bool PodWorker::tick() {
  Json pod;
  bool deleted, stopping, changed, volumesDirty;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pod = pod_;
    deleted = deleted_;
    stopping = nodeStopping_;
    changed = podChanged_;
    volumesDirty = volumesDirty_;
    podChanged_ = false;
    volumesDirty_ = false;
  }
  if (volumesDirty) nextVolumeSync_ = SteadyClock::time_point{};
  if (changed) setContainerSpecs(pod);
  const auto grace = std::chrono::seconds(graceOf(pod));
  if (stopping) {
    terminate(std::min<std::chrono::milliseconds>(grace, node_.timings().shutdownGrace), false);
    return false;
  }
  if (deleted) {
    terminate(std::min<std::chrono::milliseconds>(grace, std::chrono::seconds(2)), false);
    std::error_code ec;
    fs::remove_all(podDir(), ec);
    return false;
  }
  if (jsonAt(pod, {"metadata", "deletionTimestamp"})) {
    std::chrono::system_clock::time_point deadline;
    auto remaining = grace;
    if (parseRfc3339(jsonString(pod, {"metadata", "deletionTimestamp"}), &deadline)) {
      remaining = std::chrono::duration_cast<std::chrono::seconds>(deadline - node_.clock().now());
      if (remaining < std::chrono::seconds(0)) remaining = std::chrono::seconds(0);
    }
    terminate(remaining, true);
    return false;
  }
  const std::string current = phase();
  if (current == "Succeeded" || current == "Failed") {
    for (auto& c : containers_) reap(c);
    if (!terminalTornDown_) {
      teardownNetwork();
      terminalTornDown_ = true;
    }
    writeStatus();
    return true;
  }
  if (!prepare()) {
    writeStatus();
    return true;
  }
  for (auto& c : containers_) reap(c);
  const std::string policy = restartPolicy();
  const auto now = SteadyClock::now();
  bool initDone = true;
  for (auto& c : containers_) {
    if (!c.init) continue;
    if (c.completed) continue;
    initDone = false;
    if (c.pid > 0) break;
    if (c.current && policy == "Never") break;  // failed for good: the pod is Failed
    if (now >= c.notBefore) startContainer(c);
    break;
  }
  if (initDone) {
    for (auto& c : containers_) {
      if (c.init) continue;
      if (c.pid > 0) {
        if (!c.stopping) probe(c);
        else if (now >= c.killDeadline) signalGroup(c.pid, SIGKILL);
        continue;
      }
      if (c.current) continue;  // terminated and not to be restarted
      if (now >= c.notBefore) startContainer(c);
    }
  }
  writeStatus();
  return true;
}

void PodWorker::reap(Container& c) {
  if (c.pid <= 0) return;
  int status = 0;
  const pid_t r = ::waitpid(c.pid, &status, WNOHANG);
  if (r == 0) return;
  // The main process is gone: so is the container (its process group, as a cgroup would).
  signalGroup(c.pid, SIGKILL);
  Terminated t;
  if (r > 0 && WIFEXITED(status)) {
    t.exitCode = WEXITSTATUS(status);
  } else if (r > 0 && WIFSIGNALED(status)) {
    t.signal = WTERMSIG(status);
    t.exitCode = 128 + t.signal;
  } else {
    t.exitCode = 255;
  }
  t.reason = t.exitCode == 0 ? "Completed" : "Error";
  t.startedAt = c.startedAt;
  t.finishedAt = formatRfc3339(node_.clock().now());
  t.containerID = c.containerID;
  Json pod;
  {
    std::lock_guard<std::mutex> lock(mu_);
    c.pid = 0;
    pod = pod_;
  }
  c.ready = false;
  c.started = false;
  c.current = t;
  const bool wasStopping = c.stopping;
  c.stopping = false;
  if (c.init) {
    if (t.exitCode == 0) {
      c.completed = true;
      return;
    }
  }
  const std::string policy = restartPolicy();
  bool restart = policy == "Always" || (policy == "OnFailure" && t.exitCode != 0);
  if (c.init) restart = policy != "Never";
  if (c.restartAfterStop) restart = true;
  c.restartAfterStop = false;
  if (wasStopping && !restart) return;
  if (!restart) return;
  const auto ran = SteadyClock::now() - c.startedMono;
  if (ran >= node_.timings().backoffReset) c.backoff = std::chrono::milliseconds(0);
  c.last = c.current;
  c.current.reset();
  if (c.backoff.count() == 0) {
    c.notBefore = SteadyClock::now();
    c.backoff = node_.timings().backoffInitial;
  } else {
    c.notBefore = SteadyClock::now() + c.backoff;
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(c.backoff).count();
    c.waitingReason = "CrashLoopBackOff";
    c.waitingMessage = "back-off " + std::to_string(secs) + "s restarting failed container=" + c.name + " pod=" +
                       jsonString(pod, {"metadata", "name"}) + "_" + jsonString(pod, {"metadata", "namespace"}) + "(" + uid_ + ")";
    node_.event(pod, "Warning", "BackOff", "Back-off restarting failed container " + c.name + " in pod " +
                                               jsonString(pod, {"metadata", "name"}) + "_" + jsonString(pod, {"metadata", "namespace"}) + "(" + uid_ + ")");
    c.backoff = std::min(c.backoff * 2, node_.timings().backoffMax);
  }
}

void PodWorker::stopContainer(Container& c, std::chrono::milliseconds grace, const std::string& why) {
  if (c.pid <= 0 || c.stopping) return;
  Json pod;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pod = pod_;
  }
  if (!why.empty()) node_.event(pod, "Normal", "Killing", why);
  c.stopping = true;
  c.killDeadline = SteadyClock::now() + grace;
  signalGroup(c.pid, grace.count() > 0 ? c.image.stopSignal : SIGKILL);
}

bool PodWorker::terminate(std::chrono::milliseconds grace, bool finalDelete) {
  for (auto& c : containers_) {
    reap(c);
    c.restartAfterStop = false;
    stopContainer(c, grace, "Stopping container " + c.name);
  }
  while (true) {
    bool running = false;
    for (auto& c : containers_) {
      reap(c);
      if (c.pid > 0) {
        running = true;
        if (SteadyClock::now() >= c.killDeadline) signalGroup(c.pid, SIGKILL);
      }
    }
    if (!running) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  teardownNetwork();
  if (!finalDelete) return true;
  Json pod;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pod = pod_;
  }
  writeStatus();
  auto deleted = node_.finishDeletion(pod);
  (void)deleted;  // NotFound or a changed uid: someone else finished it
  std::error_code ec;
  fs::remove_all(podDir(), ec);
  return true;
}

void PodWorker::teardownNetwork() {
  std::optional<PodNetwork> net;
  {
    std::lock_guard<std::mutex> lock(mu_);
    net.swap(network_);
  }
  if (!net) return;
  auto removed = node_.network().deletePod(*net);
  if (!removed.ok()) {
    Json pod;
    {
      std::lock_guard<std::mutex> lock(mu_);
      pod = pod_;
    }
    node_.event(pod, "Warning", "NetworkNotTornDown", removed.error().message);
  }
  node_.sandboxAddress(uid_, "");
  node_.releaseOctet(net->octet);
}

bool PodWorker::prepare() {
  const auto now = SteadyClock::now();
  if (now < nextPrepare_) return false;
  Json pod;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pod = pod_;
  }
  const std::string ns = jsonString(pod, {"metadata", "namespace"}), name = jsonString(pod, {"metadata", "name"});
  std::string hostname = jsonString(pod, {"spec", "hostname"}, name);
  if (hostname.empty()) hostname = name;
  hostname = hostname.substr(0, 63);
  bool haveNetwork;
  {
    std::lock_guard<std::mutex> lock(mu_);
    haveNetwork = network_.has_value();
  }
  if (!haveNetwork) {
    const fs::path etc = fs::path(podDir()) / "etc";
    std::error_code ec;
    fs::create_directories(etc, ec);
    writeIfChanged(etc / "hostname", hostname + "\n");
    writeIfChanged(etc / "resolv.conf", "# No cluster DNS on the local node: names come from /etc/hosts (kept current).\n"
                                        "search " + ns + ".svc." + node_.clusterDomain() + " svc." + node_.clusterDomain() + " " +
                                            node_.clusterDomain() + "\nnameserver 127.0.0.1\noptions ndots:5 timeout:1 attempts:1\n");
    const int octet = node_.allocateOctet(jsonString(pod, {"status", "podIP"}));
    if (octet == 0) {
      prepareReason_ = "ContainerCreating";
      prepareError_ = "no pod address left in the node's /24";
      nextPrepare_ = now + node_.timings().configRetry;
      return false;
    }
    auto net = node_.network().createPod(octet, ns + "." + name);
    if (!net.ok()) {
      node_.releaseOctet(octet);
      prepareReason_ = "ContainerCreating";
      prepareError_ = net.error().message;
      node_.event(pod, "Warning", "FailedCreatePodSandBox", "Failed to create pod sandbox: " + net.error().message);
      nextPrepare_ = now + node_.timings().configRetry;
      return false;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      network_ = *net;
      networkVersion_ = 0;
      hostsWritten_.clear();
      policyWritten_.clear();
    }
    syncNetwork(node_.networkSnapshot());
    if (startTime_.empty()) startTime_ = formatRfc3339(node_.clock().now());
    publishTicket_ = node_.sandboxAddress(uid_, net->ip);
    publishDeadline_ = now + std::chrono::seconds(3);
  }
  // The first connections of a new pod must meet policies that already know its address (a
  // fresh-clone run saw a restore pod refused by the database's ingress rules for a while). Bounded:
  // a stuck publication delays containers by at most three seconds.
  if (publishTicket_ != 0) {
    if (node_.networkPublished() < publishTicket_ && SteadyClock::now() < publishDeadline_) {
      nextPrepare_ = SteadyClock::now() + std::chrono::milliseconds(20);
      return false;
    }
    publishTicket_ = 0;
  }
  if (now >= nextVolumeSync_) {
    VolumeContext ctx;
    ctx.podDir = podDir();
    ctx.pvcRoot = node_.nodeDir() + "/pvc";
    ctx.lookup = node_.lookup(ns);
    ctx.claim = [&](const std::string& claim) { return node_.claim(ns, claim); };
    ctx.token = [&](const std::string& audience, int64_t seconds) { return node_.token(pod, audience, seconds); };
    ctx.caPem = node_.caPem();
    ctx.facts.podIP = network_ ? network_->ip : "";
    ctx.facts.hostIP = node_.hostIP();
    ctx.facts.nodeName = node_.nodeName();
    ctx.clock = &node_.clock();
    auto prepared = volumes_.setUp(pod, ctx);
    if (!prepared.ok()) {
      if (prepareError_ != prepared.error().message) node_.event(pod, "Warning", "FailedMount", prepared.error().message);
      prepareReason_ = "ContainerCreating";
      prepareError_ = prepared.error().message;
      nextVolumeSync_ = now + node_.timings().configRetry;
      if (prepared_.empty()) {
        nextPrepare_ = nextVolumeSync_;
        return false;
      }
      return true;  // running containers keep the volumes they have
    }
    prepared_ = std::move(*prepared);
    prepareError_.clear();
    prepareReason_.clear();
    nextVolumeSync_ = now + node_.timings().volumeResync;
  }
  return true;
}

void PodWorker::syncNetwork(const std::shared_ptr<const NetworkSnapshot>& snapshot) {
  if (!snapshot) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (!network_) return;
  HostsSelf self;
  self.ns = jsonString(pod_, {"metadata", "namespace"});
  self.podIP = network_->ip;
  self.hostname = jsonString(pod_, {"spec", "hostname"}, jsonString(pod_, {"metadata", "name"}));
  if (self.hostname.empty()) self.hostname = jsonString(pod_, {"metadata", "name"});
  self.subdomain = jsonString(pod_, {"spec", "subdomain"});
  const std::string hosts = renderHosts(self, snapshot->services, node_.clusterDomain());
  if (hosts != hostsWritten_) {
    writeIfChanged(fs::path(podDir()) / "etc" / "hosts", hosts);
    hostsWritten_ = hosts;
  }
  // The Service table and the NetworkPolicy table change together often (a pod's labels): one
  // nft process, one transaction, for whatever changed.
  std::vector<NodeNetwork::Table> tables;
  const bool services = snapshot->version > networkVersion_;
  if (services) tables.push_back({"ip sdb-services", snapshot->table});
  std::string policy = policyWritten_;
  if (snapshot->policies) {
    policy = renderPolicyTable(kPolicyTable, evaluatePolicies(policyPodFrom(pod_, network_->ip), *snapshot->policies));
    if (policy != policyWritten_) tables.push_back({std::string("inet ") + kPolicyTable, policy});
  }
  if (tables.empty()) return;
  auto loaded = node_.network().loadTables(network_->netnsPath, tables);
  if (!loaded.ok()) {
    spdlog::warn("pod {}: {}", uid_, loaded.error().message);
    return;
  }
  if (services) networkVersion_ = snapshot->version;
  policyWritten_ = policy;
}

void PodWorker::probe(Container& c) {
  const auto now = SteadyClock::now();
  Json pod;
  std::string netns, ip;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pod = pod_;
    if (network_) {
      netns = network_->netnsPath;
      ip = network_->ip;
    }
  }
  ProbeTarget target;
  target.netnsPath = netns;
  target.podIP = ip;
  target.container = c.spec;
  target.exec = [&](const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    ContainerLaunch l = c.launch;
    l.execPid = c.pid;
    l.argv = argv;
    return node_.runtime().exec(l, timeout);
  };
  auto due = [&](const Json* p, ProbeState& st) {
    if (!p) return false;
    if (st.next == SteadyClock::time_point{}) {
      st.next = c.startedMono + std::chrono::seconds(p->value("initialDelaySeconds", 0));
    }
    if (now < st.next) return false;
    st.next = now + std::chrono::seconds(positiveOr(*p, "periodSeconds", 10));
    return true;
  };
  const Json* startup = jsonAt(c.spec, {"startupProbe"});
  const Json* liveness = jsonAt(c.spec, {"livenessProbe"});
  const Json* readiness = jsonAt(c.spec, {"readinessProbe"});
  if (!c.started) {
    if (!startup) {
      c.started = true;
    } else if (due(startup, c.startup)) {
      auto r = runProbe(*startup, target);
      if (r.success) {
        c.started = true;
      } else if (++c.startup.failures >= positiveOr(*startup, "failureThreshold", 3)) {
        node_.event(pod, "Warning", "Unhealthy", "Startup probe failed: " + r.message);
        stopContainer(c, std::chrono::seconds(graceOf(pod)), "Container " + c.name + " failed startup probe, will be restarted");
        c.restartAfterStop = true;
        return;
      }
    }
    if (!c.started) return;
  }
  if (liveness && due(liveness, c.liveness)) {
    auto r = runProbe(*liveness, target);
    if (r.success) {
      c.liveness.failures = 0;
    } else {
      node_.event(pod, "Warning", "Unhealthy", "Liveness probe failed: " + r.message);
      if (++c.liveness.failures >= positiveOr(*liveness, "failureThreshold", 3)) {
        c.liveness.failures = 0;
        stopContainer(c, std::chrono::seconds(graceOf(pod)), "Container " + c.name + " failed liveness probe, will be restarted");
        c.restartAfterStop = restartPolicy() != "Never";
        return;
      }
    }
  }
  if (!readiness) {
    c.ready = true;
    return;
  }
  if (due(readiness, c.readiness)) {
    auto r = runProbe(*readiness, target);
    if (r.success) {
      c.readiness.failures = 0;
      if (++c.readiness.successes >= positiveOr(*readiness, "successThreshold", 1)) c.ready = true;
    } else {
      c.readiness.successes = 0;
      if (c.ready || c.readiness.failures == 0) node_.event(pod, "Warning", "Unhealthy", "Readiness probe failed: " + r.message);
      if (++c.readiness.failures >= positiveOr(*readiness, "failureThreshold", 3)) c.ready = false;
    }
  }
}

}  // namespace sdb::kubelet
