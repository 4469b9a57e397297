#include "e2e/kubelet/node.h"

#include <fcntl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "e2e/apimachinery_client/inprocess_client.h"
#include "operator/runtime/event_recorder.h"
#include "operator/runtime/informer.h"

#include <spdlog/spdlog.h>

namespace sdb::kubelet {

namespace fs = std::filesystem;
namespace res = kube::resources;

namespace {

std::string readFile(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string siblingOfExecutable(const std::string& name) {
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? name : (self.parent_path() / name).string();
}

std::vector<Json> items(const runtime::Informer& informer) {
  std::vector<Json> out;
  for (const auto& o : informer.list()) out.push_back(*o);
  return out;
}

// FOO-bar -> FOO_BAR, as the kubelet names Service environment variables.
std::string envName(const std::string& s) {
  std::string out;
  for (char c : s) out.push_back(c == '-' || c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

}  // namespace

Node::Node(NodeOptions options) : options_(std::move(options)) {}

Node::~Node() { stop(); }

Result<std::unique_ptr<Node>> Node::prepare(NodeOptions options) {
  if (::geteuid() != 0) {
    return Error(ErrorCode::kPermissionDenied, "the local node needs root (network namespaces, veth, bridge, nftables, mounts)");
  }
  if (options.containerInitPath.empty()) options.containerInitPath = siblingOfExecutable("servicedb-container-init");
  if (options.images.operatorBinary.empty()) options.images.operatorBinary = siblingOfExecutable("servicedb-operator");
  if (options.watchdogPath.empty()) options.watchdogPath = siblingOfExecutable("servicedb-node-watchdog");
  if (::access(options.containerInitPath.c_str(), X_OK) != 0) {
    return Error(ErrorCode::kNotFound, options.containerInitPath + " is missing (build the servicedb-container-init target)");
  }
  for (const char* tool : {"ip", "nft"}) {
    if (findExecutable(tool).empty()) return Error(ErrorCode::kNotFound, std::string(tool) + " is not installed (scripts/setup installs it)");
  }
  std::unique_ptr<Node> node(new Node(std::move(options)));
  ClusterSlotOptions so;
  so.dataDir = node->options_.dataDir;
  so.lockDir = node->options_.lockDir;
  auto slot = ClusterSlot::claim(so);
  if (!slot.ok()) return slot.error();
  node->slot_ = std::move(*slot);
  node->nodeDir_ = (fs::absolute(node->options_.dataDir) / "node").string();
  node->network_ = std::make_unique<NodeNetwork>(*node->slot_);
  SDB_TRY(node->network_->setUp());
  SDB_TRY(node->startWatchdog());
  node->hostPasswd_ = readFile("/etc/passwd");
  node->hostGroup_ = readFile("/etc/group");
  return node;
}

Status Node::startWatchdog() {
  if (::access(options_.watchdogPath.c_str(), X_OK) != 0) {
    return Error(ErrorCode::kNotFound, options_.watchdogPath + " is missing (build the servicedb-node-watchdog target)");
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ioError("pipe: " + std::string(std::strerror(errno)));
  const std::string path = options_.watchdogPath, lockDir = options_.lockDir, slot = std::to_string(slot_->number());
  char* argv[] = {const_cast<char*>("servicedb-node-watchdog"), const_cast<char*>("--lock-dir"), const_cast<char*>(lockDir.c_str()),
                  const_cast<char*>("--slot"), const_cast<char*>(slot.c_str()), nullptr};
  char* envp[] = {const_cast<char*>("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), nullptr};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[0], 3);
    ::close_range(4, ~0U, 0);
    resetSignalsInChild();
    ::execve(path.c_str(), argv, envp);
    ::_exit(127);
  }
  ::close(fds[0]);
  if (pid < 0) {
    ::close(fds[1]);
    return ioError("fork: " + std::string(std::strerror(errno)));
  }
  watchdogPipe_ = fds[1];
  watchdog_ = pid;
  return okStatus();
}

Status Node::start(apimachinery::Store& store, const apimachinery::ServiceAccountTokens& tokens, int apiPort, std::string caPem) {
  store_ = &store;
  tokens_ = &tokens;
  caPem_ = std::move(caPem);
  runtime_ = std::make_unique<ContainerRuntime>(options_.containerInitPath);
  client_ = std::make_unique<apimachinery::InProcessKubeClient>(store);
  runtime::EventRecorderOptions eo;
  eo.component = "kubelet";
  eo.instance = options_.nodeName;
  events_ = std::make_unique<runtime::EventRecorder>(*client_, eo);
  events_->start();
  SDB_TRY(ensureClusterObjects(apiPort));
  auto make = [&](const kube::ResourceRef& r) {
    runtime::InformerOptions io;
    io.resource = r;
    io.resyncPeriod = std::chrono::milliseconds(0);
    return std::make_unique<runtime::Informer>(*client_, io);
  };
  services_ = make(res::kServices);
  endpoints_ = make(res::kEndpoints);
  secrets_ = make(res::kSecrets);
  configMaps_ = make(res::kConfigMaps);
  pods_ = make(res::kPods);
  namespaces_ = make(res::kNamespaces);
  networkPolicies_ = make(res::kNetworkPolicies);
  runtime::InformerHandlers dirtyNetwork;
  dirtyNetwork.onAdd = [this](const runtime::ObjectPtr&) { markNetworkDirty(); };
  dirtyNetwork.onUpdate = [this](const runtime::ObjectPtr&, const runtime::ObjectPtr&) { markNetworkDirty(); };
  dirtyNetwork.onDelete = [this](const runtime::ObjectPtr&) { markNetworkDirty(); };
  services_->addHandlers(dirtyNetwork);
  endpoints_->addHandlers(dirtyNetwork);
  namespaces_->addHandlers(dirtyNetwork);
  networkPolicies_->addHandlers(dirtyNetwork);
  runtime::InformerHandlers dirtyVolumes;
  auto volumes = [this] {
    {
      std::lock_guard<std::mutex> lock(proxyMu_);
      volumesDirty_ = true;
    }
    proxyCv_.notify_all();
  };
  dirtyVolumes.onAdd = [volumes](const runtime::ObjectPtr&) { volumes(); };
  dirtyVolumes.onUpdate = [volumes](const runtime::ObjectPtr&, const runtime::ObjectPtr&) { volumes(); };
  dirtyVolumes.onDelete = [volumes](const runtime::ObjectPtr&) { volumes(); };
  secrets_->addHandlers(dirtyVolumes);
  configMaps_->addHandlers(dirtyVolumes);
  runtime::InformerHandlers podHandlers;
  podHandlers.onAdd = [this](const runtime::ObjectPtr& p) { onPod(*p); };
  podHandlers.onUpdate = [this](const runtime::ObjectPtr&, const runtime::ObjectPtr& p) { onPod(*p); };
  podHandlers.onDelete = [this](const runtime::ObjectPtr& p) { onPodDeleted(*p); };
  pods_->addHandlers(podHandlers);
  for (auto* i : {services_.get(), endpoints_.get(), secrets_.get(), configMaps_.get(), namespaces_.get(), networkPolicies_.get()}) i->start();
  for (auto* i : {services_.get(), endpoints_.get(), secrets_.get(), configMaps_.get(), namespaces_.get(), networkPolicies_.get()}) {
    if (!i->waitForSync(std::chrono::seconds(10))) return Error(ErrorCode::kTimeout, "the node's informers did not sync");
  }
  markPodsNotReady("the local node (re)started; its pods are starting again");
  publishNetwork();
  proxy_ = std::thread([this] { proxyLoop(); });
  pods_->start();
  started_ = true;
  return okStatus();
}

void Node::markPodsNotReady(const std::string& message) {
  // As the node lifecycle controller does for a node that was away: pods bound here are not ready
  // until their worker says otherwise, so nobody (kubectl wait, Services) trusts a stale status.
  auto pods = store_->list(res::kPods, "", {});
  if (!pods.ok()) return;
  const std::string now = formatRfc3339(clock().now());
  for (const auto& pod : (*pods)["items"]) {
    if (jsonString(pod, {"spec", "nodeName"}) != options_.nodeName) continue;
    const std::string phase = jsonString(pod, {"status", "phase"});
    if (phase == "Succeeded" || phase == "Failed") continue;
    Json status = pod.value("status", Json::object());
    bool changed = false;
    if (!status.contains("conditions") || !status["conditions"].is_array()) status["conditions"] = Json::array();
    for (auto& c : status["conditions"]) {
      const std::string type = jsonString(c, {"type"});
      if ((type == "Ready" || type == "ContainersReady") && jsonString(c, {"status"}) == "True") {
        c = {{"type", type}, {"status", "False"}, {"reason", "NodeRestarted"}, {"message", message},
             {"lastProbeTime", nullptr}, {"lastTransitionTime", now}};
        changed = true;
      }
    }
    if (status.contains("containerStatuses") && status["containerStatuses"].is_array()) {
      for (auto& cs : status["containerStatuses"]) {
        if (cs.is_object() && cs.value("ready", false)) {
          cs["ready"] = false;
          changed = true;
        }
      }
    }
    if (changed) (void)writeStatus(pod, status);
  }
}

Status Node::ensureClusterObjects(int apiPort) {
  // The Node object.
  struct utsname u {};
  ::uname(&u);
  Json node = {{"apiVersion", "v1"},
               {"kind", "Node"},
               {"metadata", {{"name", options_.nodeName},
                             {"labels", {{"kubernetes.io/hostname", options_.nodeName}, {"kubernetes.io/os", "linux"},
                                         {"kubernetes.io/arch", "amd64"}, {"node-role.kubernetes.io/control-plane", ""}}}}},
               {"spec", {{"podCIDR", slot_->podCidr()}, {"podCIDRs", {slot_->podCidr()}}}}};
  auto existing = store_->get(res::kNodes, "", options_.nodeName);
  if (!existing.ok()) {
    auto created = store_->create(res::kNodes, "", node);
    if (!created.ok()) return Error(ErrorCode::kInternal, "creating the Node: " + created.error().message);
    existing = created;
  }
  const std::string now = formatRfc3339(clock().now());
  Json status = {{"conditions", {{{"type", "Ready"}, {"status", "True"}, {"reason", "KubeletReady"},
                                  {"message", "servicedb local node is posting ready status"},
                                  {"lastHeartbeatTime", now}, {"lastTransitionTime", now}}}},
                 {"addresses", {{{"type", "InternalIP"}, {"address", slot_->bridgeIp()}}, {{"type", "Hostname"}, {"address", options_.nodeName}}}},
                 {"capacity", {{"cpu", std::to_string(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)))}, {"pods", "253"}}},
                 {"allocatable", {{"cpu", std::to_string(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)))}, {"pods", "253"}}},
                 {"nodeInfo", {{"kubeletVersion", "v1.32.0-servicedb"}, {"kubeProxyVersion", "v1.32.0-servicedb"},
                               {"containerRuntimeVersion", "servicedb://0.1.0"}, {"operatingSystem", "linux"},
                               {"architecture", "amd64"}, {"kernelVersion", u.release}, {"osImage", "servicedb local node"},
                               {"machineID", ""}, {"systemUUID", ""}, {"bootID", ""}}}};
  Json withStatus = *existing;
  withStatus["status"] = status;
  withStatus["metadata"].erase("resourceVersion");
  (void)store_->update(res::kNodes, "", options_.nodeName, withStatus, {}, "status");
  // kubernetes.default: the slot's first Service address, answered by the API server on the bridge.
  const std::string ip = slot_->kubernetesServiceIp();
  auto svc = store_->get(res::kServices, "default", "kubernetes");
  if (svc.ok() && jsonString(*svc, {"spec", "clusterIP"}) != ip) {
    (void)store_->remove(res::kServices, "default", "kubernetes");
    svc = kube::KResult<Json>(kube::notFoundError("services", "", "kubernetes"));
  }
  const Json ports = {{{"name", "https"}, {"port", 443}, {"protocol", "TCP"}, {"targetPort", apiPort}}};
  if (!svc.ok()) {
    auto made = store_->create(res::kServices, "default",
                               {{"metadata", {{"name", "kubernetes"}, {"labels", {{"component", "apiserver"}, {"provider", "kubernetes"}}}}},
                                {"spec", {{"clusterIP", ip}, {"ports", ports}, {"sessionAffinity", "None"}}}});
    if (!made.ok()) return Error(ErrorCode::kInternal, "creating Service default/kubernetes: " + made.error().message);
  } else if ((*svc)["spec"].value("ports", Json::array()) != ports) {
    Json next = *svc;
    next["spec"]["ports"] = ports;
    next["metadata"].erase("resourceVersion");
    (void)store_->update(res::kServices, "default", "kubernetes", next);
  }
  Json endpoints = {{"metadata", {{"name", "kubernetes"}, {"namespace", "default"}, {"labels", {{"endpointslice.kubernetes.io/skip-mirror", "true"}}}}},
                    {"subsets", {{{"addresses", {{{"ip", slot_->bridgeIp()}}}},
                                  {"ports", {{{"name", "https"}, {"port", apiPort}, {"protocol", "TCP"}}}}}}}};
  auto ep = store_->get(res::kEndpoints, "default", "kubernetes");
  if (!ep.ok()) {
    auto made = store_->create(res::kEndpoints, "default", endpoints);
    if (!made.ok()) return Error(ErrorCode::kInternal, "creating Endpoints default/kubernetes: " + made.error().message);
  } else if ((*ep).value("subsets", Json()) != endpoints["subsets"]) {
    Json next = *ep;
    next["subsets"] = endpoints["subsets"];
    next["metadata"].erase("resourceVersion");
    (void)store_->update(res::kEndpoints, "default", "kubernetes", next);
  }
  return okStatus();
}

void Node::stop() {
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  proxyCv_.notify_all();
  if (proxy_.joinable()) proxy_.join();
  if (pods_) pods_->stop();
  std::map<std::string, std::shared_ptr<PodWorker>> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers.swap(workers_);
  }
  for (auto& [uid, w] : workers) w->stop();
  workers.clear();  // joins: every worker has stopped its containers and removed its network
  for (auto* i : {services_.get(), endpoints_.get(), secrets_.get(), configMaps_.get(), namespaces_.get(), networkPolicies_.get()}) {
    if (i) i->stop();
  }
  if (store_ && started_) {
    auto node = store_->get(res::kNodes, "", options_.nodeName);
    if (node.ok() && node->contains("status")) {
      Json next = *node;
      next["metadata"].erase("resourceVersion");
      next["status"]["conditions"] = {{{"type", "Ready"}, {"status", "Unknown"}, {"reason", "NodeStatusUnknown"},
                                       {"message", "the local node was stopped"},
                                       {"lastHeartbeatTime", formatRfc3339(clock().now())},
                                       {"lastTransitionTime", formatRfc3339(clock().now())}}};
      (void)store_->update(res::kNodes, "", options_.nodeName, next, {}, "status");
    }
  }
  if (events_) events_->stop(std::chrono::seconds(2));
  runtime_.reset();
  if (network_) (void)network_->tearDown();
  if (watchdogPipe_ >= 0) {
    (void)!::write(watchdogPipe_, "q", 1);
    ::close(watchdogPipe_);
    watchdogPipe_ = -1;
    ::waitpid(watchdog_, nullptr, 0);
  }
}

void Node::onPod(const Json& pod) {
  if (stopping_) return;
  const std::string nodeName = jsonString(pod, {"spec", "nodeName"});
  const std::string ns = jsonString(pod, {"metadata", "namespace"}), name = jsonString(pod, {"metadata", "name"});
  if (nodeName.empty()) {
    if (!options_.bindPods) return;
    const std::string scheduler = jsonString(pod, {"spec", "schedulerName"});
    if (!scheduler.empty() && scheduler != "default-scheduler") return;
    if (jsonAt(pod, {"metadata", "deletionTimestamp"})) return;
    // The scheduler's binding, for the only node there is.
    kube::PatchOptions po;
    po.fieldManager = "servicedb-scheduler";
    auto bound = store_->patch(res::kPods, ns, name, kube::PatchType::kMerge,
                               Json{{"spec", {{"nodeName", options_.nodeName}}}}.dump(), po);
    if (bound.ok()) events_->event(pod, "Normal", "Scheduled", "Successfully assigned " + ns + "/" + name + " to " + options_.nodeName);
    return;
  }
  if (nodeName != options_.nodeName) return;
  const std::string uid = jsonString(pod, {"metadata", "uid"});
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    auto it = workers_.find(uid);
    if (it != workers_.end()) it->second->update(pod);
    else workers_[uid] = std::make_shared<PodWorker>(*this, pod);
  }
  markNetworkDirty();
}

void Node::onPodDeleted(const Json& pod) {
  const std::string uid = jsonString(pod, {"metadata", "uid"});
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = workers_.find(uid);
    if (it != workers_.end()) it->second->podDeleted();
  }
  markNetworkDirty();
}

void Node::markNetworkDirty() {
  {
    std::lock_guard<std::mutex> lock(proxyMu_);
    networkDirty_ = true;
  }
  proxyCv_.notify_all();
}

uint64_t Node::sandboxAddress(const std::string& uid, const std::string& ip) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ip.empty()) sandboxIps_.erase(uid);
    else sandboxIps_[uid] = ip;
  }
  uint64_t ticket;
  {
    std::lock_guard<std::mutex> lock(proxyMu_);
    ticket = ++networkRequested_;
    networkDirty_ = true;
  }
  proxyCv_.notify_all();
  return ticket;
}

void Node::proxyLoop() {
  while (!stopping_) {
    bool network = false, volumes = false;
    uint64_t serial = 0;
    {
      std::unique_lock<std::mutex> lock(proxyMu_);
      proxyCv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_ || networkDirty_ || volumesDirty_; });
      if (stopping_) return;
    }
    // Let a burst of changes settle, then act once on what was marked (read and cleared together,
    // so a change marked meanwhile is never lost).
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    {
      std::lock_guard<std::mutex> lock(proxyMu_);
      network = networkDirty_;
      volumes = volumesDirty_;
      serial = networkRequested_;
      networkDirty_ = false;
      volumesDirty_ = false;
    }
    if (network) {
      publishNetwork();
      networkPublished_.store(serial);
    }
    std::vector<std::shared_ptr<PodWorker>> finished;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = workers_.begin(); it != workers_.end();) {
        if (it->second->done()) {
          finished.push_back(std::move(it->second));
          it = workers_.erase(it);
          continue;
        }
        if (volumes) it->second->refreshVolumes();
        ++it;
      }
    }
    finished.clear();
  }
}

void Node::publishNetwork() {
  auto views = resolveServices(items(*services_), items(*endpoints_), pods_ ? items(*pods_) : std::vector<Json>{});

  auto snapshot = std::make_shared<NetworkSnapshot>();
  snapshot->services = views;
  snapshot->table = renderServiceTable("sdb-services", slot_->serviceCidr(), views);
  std::map<std::string, std::string> sandboxIps;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sandboxIps = sandboxIps_;
  }
  snapshot->policies = std::make_shared<const PolicySnapshot>(makePolicySnapshot(
      pods_ ? items(*pods_) : std::vector<Json>{}, items(*namespaces_), items(*networkPolicies_), sandboxIps));
  std::vector<std::shared_ptr<PodWorker>> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const bool changed = !snapshot_ || snapshot_->table != snapshot->table;
    snapshot->version = (snapshot_ ? snapshot_->version : 0) + (changed ? 1 : 0);
    snapshot_ = snapshot;
    for (auto& [uid, w] : workers_) workers.push_back(w);
  }
  const std::string hostTable = renderServiceTable(slot_->nftTable(), slot_->serviceCidr(), views);
  if (hostTable != hostTable_) {
    auto loaded = network_->loadRules("", slot_->nftTable(), hostTable);
    if (loaded.ok()) hostTable_ = hostTable;
    else spdlog::warn("node: {}", loaded.error().message);
  }
  // A few pods at a time: each load is an nft process, and a label change must reach every pod
  // within a second even on a busy machine.
  constexpr size_t kParallelSyncs = 8;
  for (size_t i = 0; i < workers.size(); i += kParallelSyncs) {
    std::vector<std::thread> batch;
    for (size_t j = i; j < std::min(workers.size(), i + kParallelSyncs); ++j) {
      batch.emplace_back([&w = workers[j], &snapshot] { w->syncNetwork(snapshot); });
    }
    for (auto& t : batch) t.join();
  }
}

std::shared_ptr<const NetworkSnapshot> Node::networkSnapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
}

int Node::allocateOctet(const std::string& preferredIp) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string prefix = slot_->podPrefix();
  if (preferredIp.rfind(prefix, 0) == 0) {
    const int want = std::atoi(preferredIp.c_str() + prefix.size());
    if (want >= 2 && want <= 254 && octets_.insert(want).second) return want;
  }
  for (int o = 2; o <= 254; ++o) {
    if (octets_.insert(o).second) return o;
  }
  return 0;
}

void Node::releaseOctet(int octet) {
  std::lock_guard<std::mutex> lock(mu_);
  octets_.erase(octet);
}

std::vector<std::pair<std::string, std::string>> Node::serviceEnv(const std::string& ns) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string ip = slot_->kubernetesServiceIp();
  auto add = [&](const Json& svc) {
    const std::string clusterIP = jsonString(svc, {"spec", "clusterIP"});
    if (clusterIP.empty() || clusterIP == "None") return;
    const std::string prefix = envName(jsonString(svc, {"metadata", "name"}));
    const Json ports = svc["spec"].value("ports", Json::array());
    if (ports.empty()) return;
    const std::string first = std::to_string(ports[0].value("port", 0));
    out.push_back({prefix + "_SERVICE_HOST", clusterIP});
    out.push_back({prefix + "_SERVICE_PORT", first});
    for (const auto& p : ports) {
      const std::string port = std::to_string(p.value("port", 0));
      std::string proto = jsonString(p, {"protocol"}, "TCP");
      if (!jsonString(p, {"name"}).empty()) out.push_back({prefix + "_SERVICE_PORT_" + envName(jsonString(p, {"name"})), port});
      std::string lower = proto;
      for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      const std::string key = prefix + "_PORT_" + port + "_" + proto;
      out.push_back({key, lower + "://" + clusterIP + ":" + port});
      out.push_back({key + "_PROTO", lower});
      out.push_back({key + "_PORT", port});
      out.push_back({key + "_ADDR", clusterIP});
    }
    out.push_back({prefix + "_PORT", std::string(jsonString(ports[0], {"protocol"}, "TCP") == "UDP" ? "udp" : "tcp") + "://" + clusterIP + ":" + first});
  };
  if (services_) {
    for (const auto& s : services_->list(ns)) {
      if (ns == "default" && jsonString(*s, {"metadata", "name"}) == "kubernetes") continue;
      add(*s);
    }
  }
  // The master service is in every pod's environment, in every namespace.
  add({{"metadata", {{"name", "kubernetes"}}}, {"spec", {{"clusterIP", ip}, {"ports", {{{"name", "https"}, {"port", 443}, {"protocol", "TCP"}}}}}}});
  return out;
}

ObjectLookup Node::lookup(const std::string& ns) {
  ObjectLookup l;
  l.secret = [this, ns](const std::string& name) -> std::optional<Json> {
    auto o = secrets_->get(ns, name);
    if (!o) return std::nullopt;
    return *o;
  };
  l.configMap = [this, ns](const std::string& name) -> std::optional<Json> {
    auto o = configMaps_->get(ns, name);
    if (!o) return std::nullopt;
    return *o;
  };
  return l;
}

std::optional<Json> Node::claim(const std::string& ns, const std::string& name) {
  auto c = store_->get(res::kPersistentVolumeClaims, ns, name);
  if (!c.ok()) return std::nullopt;
  return *c;
}

Result<std::pair<std::string, std::chrono::system_clock::time_point>> Node::token(const Json& pod, const std::string& audience,
                                                                                   int64_t expirationSeconds) {
  const std::string ns = jsonString(pod, {"metadata", "namespace"});
  std::string sa = jsonString(pod, {"spec", "serviceAccountName"});
  if (sa.empty()) sa = jsonString(pod, {"spec", "serviceAccount"}, "default");
  if (sa.empty()) sa = "default";
  if (sa == "default" && !store_->get(res::kServiceAccounts, ns, "default").ok()) {
    // The ServiceAccount controller's job: every namespace has a `default` ServiceAccount.
    (void)store_->create(res::kServiceAccounts, ns, {{"metadata", {{"name", "default"}}}});
  }
  Json spec = {{"expirationSeconds", expirationSeconds},
               {"boundObjectRef", {{"kind", "Pod"}, {"apiVersion", "v1"}, {"name", jsonString(pod, {"metadata", "name"})},
                                   {"uid", jsonString(pod, {"metadata", "uid"})}}}};
  if (!audience.empty()) spec["audiences"] = {audience};
  auto r = tokens_->request(ns, sa, {{"spec", spec}});
  if (!r.ok()) return Error(ErrorCode::kFailedPrecondition, r.error().message);
  std::chrono::system_clock::time_point expiry;
  parseRfc3339(jsonString(*r, {"status", "expirationTimestamp"}), &expiry);
  return std::make_pair(jsonString(*r, {"status", "token"}), expiry);
}

void Node::event(const Json& pod, const std::string& type, const std::string& reason, const std::string& message) {
  if (events_) events_->event(pod, type, reason, message);
}

kube::KResult<Json> Node::writeStatus(const Json& pod, const Json& status) {
  const std::string ns = jsonString(pod, {"metadata", "namespace"}), name = jsonString(pod, {"metadata", "name"});
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto current = store_->get(res::kPods, ns, name);
    if (!current.ok()) return current.error();
    if (jsonString(*current, {"metadata", "uid"}) != jsonString(pod, {"metadata", "uid"})) {
      return kube::notFoundError("pods", "", name);
    }
    Json next = *current;
    next["status"] = status;
    auto written = store_->update(res::kPods, ns, name, next, {}, "status");
    if (written.ok() || written.error().reason != kube::ApiErrorReason::kConflict) return written;
  }
  return kube::conflictError("pods", "", name, "status kept conflicting");
}

kube::KResult<Json> Node::finishDeletion(const Json& pod) {
  kube::DeleteOptions o;
  o.gracePeriodSeconds = 0;
  o.preconditionUid = jsonString(pod, {"metadata", "uid"});
  return store_->remove(res::kPods, jsonString(pod, {"metadata", "namespace"}), jsonString(pod, {"metadata", "name"}), o);
}

std::shared_ptr<PodWorker> Node::workerFor(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = workers_.find(uid);
  return it == workers_.end() ? nullptr : it->second;
}

}  // namespace sdb::kubelet
