#include "operator/runtime/manager.h"

#include <csignal>
#include <thread>

#include "operator/core/log.h"

namespace sdb::runtime {

namespace {
volatile std::sig_atomic_t gSignalled = 0;
void onSignal(int) { gSignalled = 1; }
}  // namespace

void installShutdownSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

bool shutdownSignalReceived() { return gSignalled != 0; }

ObjectPtr KindCache::get(const std::string& ns, const std::string& name) const {
  for (const auto& inf : informers_) {
    if (auto obj = inf->get(ns, name)) return obj;
  }
  return nullptr;
}

std::vector<ObjectPtr> KindCache::list(const std::string& ns) const {
  std::vector<ObjectPtr> out;
  for (const auto& inf : informers_) {
    auto part = inf->list(ns);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

std::vector<ObjectPtr> KindCache::byOwnerUid(const std::string& uid) const {
  std::vector<ObjectPtr> out;
  for (const auto& inf : informers_) {
    auto part = inf->byOwnerUid(uid);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

bool KindCache::hasSynced() const {
  for (const auto& inf : informers_) {
    if (!inf->hasSynced()) return false;
  }
  return true;
}

Manager::Manager(kube::KubeClient& client, ManagerOptions options, Clock& clock)
    : client_(client), options_(std::move(options)), clock_(clock) {
  instrumented_ = std::make_unique<InstrumentedKubeClient>(client_, metrics_, options_.apiHost);
  fenced_ = std::make_unique<FencedKubeClient>(*instrumented_);
  EventRecorderOptions eo;
  eo.instance = options_.podName;
  events_ = std::make_unique<EventRecorder>(*fenced_, eo, clock_);
}

Manager::~Manager() {
  stopWorkers();
  if (elector_) elector_->stop(false);
  for (auto& [ref, cache] : caches_) {
    for (auto& inf : cache->informers_) inf->stop();
  }
}

KindCache& Manager::cache(const kube::ResourceRef& resource) {
  for (auto& [ref, c] : caches_) {
    if (ref == resource) return *c;
  }
  auto c = std::make_unique<KindCache>();
  std::vector<std::string> namespaces = options_.watchNamespaces;
  c->clusterWide_ = namespaces.empty() || !resource.namespaced;
  if (c->clusterWide_) namespaces = {""};
  for (const auto& ns : namespaces) {
    InformerOptions io;
    io.resource = resource;
    io.ns = ns;
    io.watchTimeoutSeconds = options_.watchTimeoutSeconds;
    io.resyncPeriod = options_.resyncPeriod;
    // Kinds the operator only ever needs when it made them: informed with the managed-by label alone.
    const bool rbac = resource.group == "rbac.authorization.k8s.io" &&
                      (resource.resource == "roles" || resource.resource == "rolebindings");
    const bool child = resource == kube::resources::kStatefulSets || resource == kube::resources::kServices ||
                       resource == kube::resources::kConfigMaps || resource == kube::resources::kJobs ||
                       resource == kube::resources::kCronJobs || resource == kube::resources::kServiceAccounts || rbac;
    if (resource == kube::resources::kSecrets || (child && options_.cacheOnlyManagedChildren)) {
      io.labelSelector = kManagedBySelector;
    }
    c->informers_.push_back(std::make_unique<Informer>(*instrumented_, io, clock_));
  }
  caches_.emplace_back(resource, std::move(c));
  return *caches_.back().second;
}

Controller& Manager::addController(const std::string& name, Reconciler& reconciler, const kube::ResourceRef& forKind,
                                   const std::vector<kube::ResourceRef>& ownedKinds, int workers) {
  ControllerOptions co;
  co.name = name;
  co.workers = workers;
  co.clock = &clock_;
  co.metrics = &metrics_;
  controllers_.push_back(std::make_unique<Controller>(std::move(co), reconciler));
  Controller& c = *controllers_.back();
  for (auto& inf : cache(forKind).informers_) c.For(*inf);
  for (const auto& owned : ownedKinds) {
    for (auto& inf : cache(owned).informers_) c.Owns(*inf, forKind.kind, forKind.group);
  }
  return c;
}

bool Manager::ready() const {
  for (const auto& [ref, c] : caches_) {
    if (!c->hasSynced()) return false;
  }
  return true;
}

void Manager::startWorkers() {
  if (workersStarted_.exchange(true)) return;
  for (auto& c : controllers_) c->start();
  logStructured(spdlog::level::info, "workers started", {{"controllers", std::to_string(controllers_.size())}});
}

bool Manager::stopWorkers() {
  if (!workersStarted_.exchange(false)) return true;
  bool all = true;
  // One shared budget: every controller stops taking work first, then we wait.
  for (auto& c : controllers_) c->queue().shutDown();
  auto deadline = std::chrono::steady_clock::now() + options_.shutdownTimeout;
  for (auto& c : controllers_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!c->stop(std::max(left, std::chrono::milliseconds(0)))) all = false;
  }
  logStructured(all ? spdlog::level::info : spdlog::level::warn,
                all ? "workers stopped" : "workers stopped; some reconciles overran the shutdown timeout", {});
  return all;
}

int Manager::run() {
  metricsHttp_.handle("/metrics", [this] {
    return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8", metrics_.serialize()};
  });
  healthHttp_.handle("/healthz", [] { return HttpReply{200, "text/plain; charset=utf-8", "ok\n"}; });
  healthHttp_.handle("/readyz", [this] {
    return ready() ? HttpReply{200, "text/plain; charset=utf-8", "ok\n"}
                   : HttpReply{503, "text/plain; charset=utf-8", "caches not synced\n"};
  });
  // One listener for both when they name the same fixed address (":0" means two ephemeral ports).
  bool sameAddress = options_.metricsAddress == options_.healthAddress &&
                     options_.metricsAddress.size() >= 2 &&
                     options_.metricsAddress.compare(options_.metricsAddress.size() - 2, 2, ":0") != 0;
  if (sameAddress) {
    metricsHttp_.handle("/healthz", [] { return HttpReply{200, "text/plain; charset=utf-8", "ok\n"}; });
    metricsHttp_.handle("/readyz", [this] {
      return ready() ? HttpReply{200, "text/plain; charset=utf-8", "ok\n"}
                     : HttpReply{503, "text/plain; charset=utf-8", "caches not synced\n"};
    });
  }
  if (!options_.metricsAddress.empty() && options_.metricsAddress != "0") {
    if (auto s = metricsHttp_.start(options_.metricsAddress); !s.ok()) {
      logStructured(spdlog::level::err, "metrics endpoint failed", {{"error", s.error().message}});
      return 1;
    }
  }
  if (!sameAddress && !options_.healthAddress.empty() && options_.healthAddress != "0") {
    if (auto s = healthHttp_.start(options_.healthAddress); !s.ok()) {
      logStructured(spdlog::level::err, "health endpoint failed", {{"error", s.error().message}});
      return 1;
    }
  }
  logStructured(spdlog::level::info, "manager starting",
                {{"metricsPort", std::to_string(metricsHttp_.port())},
                 {"healthPort", std::to_string(healthHttp_.port())},
                 {"leaderElect", options_.leaderElect ? "true" : "false"}});
  events_->start();
  for (auto& [ref, c] : caches_) {
    for (auto& inf : c->informers_) inf->start();
  }
  if (options_.leaderElect) {
    LeaderCallbacks cb;
    cb.onStartedLeading = [this] { startWorkers(); };
    cb.onStoppedLeading = [this] {
      // Stop reconciling before anyone else can take the lease; then exit so we restart as a standby.
      if (shuttingDown_.load()) return;
      fenced_->fence();
      for (auto& c : controllers_) c->queue().shutDown();
      lostLeadership_ = true;
    };
    cb.onNewLeader = [](const std::string& id) { logStructured(spdlog::level::info, "new leader", {{"identity", id}}); };
    elector_ = std::make_unique<LeaderElector>(*instrumented_, options_.leaderElection, cb, clock_, &metrics_);
    elector_->start();
  } else {
    startWorkers();
  }
  while (!stopRequested_.load() && !shutdownSignalReceived() && !lostLeadership_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  shuttingDown_ = true;
  int code = lostLeadership_.load() ? 1 : 0;
  logStructured(spdlog::level::info, code ? "leadership lost; shutting down" : "shutting down", {});
  stopWorkers();
  events_->stop(std::chrono::seconds(2));
  if (elector_) elector_->stop(/*release=*/code == 0);
  for (auto& [ref, c] : caches_) {
    for (auto& inf : c->informers_) inf->stop();
  }
  metricsHttp_.stop();
  healthHttp_.stop();
  logStructured(spdlog::level::info, "manager stopped", {{"exitCode", std::to_string(code)}});
  return code;
}

}  // namespace sdb::runtime
