// Manager: owns the informers (one per watched namespace and kind), controllers, event recorder,
// leader elector and the HTTP endpoints, and runs them until SIGTERM/SIGINT.
//
// Lifecycle of run():
//   1. serve /healthz (always 200 once running), /readyz (200 only when every informer has synced)
//      and /metrics (Prometheus text);
//   2. start informers (every replica keeps a warm cache, so a standby takes over quickly);
//   3. with leader election: start controllers' workers when leading; if leadership is lost (renew
//      deadline passed) fence writes (fenced_client.h), stop the workers at once and exit 1, as
//      controller-runtime does, so the pod restarts as a standby; without it: start workers at once;
//   4. on SIGTERM/SIGINT (or requestStop()): stop handing out work, wait for in-flight reconciles up
//      to shutdownTimeout, flush events, release the lease, stop informers, return 0.
//
// Scope: `watchNamespaces` empty means all namespaces (one cluster-wide informer per kind); else one
// informer per namespace per kind. Secrets are informed only with kManagedBySelector (see
// informer.h); read Secrets a user names with client().get(...) — uncached by design.
//
// Contract: build everything (informers(), addController()) before run(); run() is called once from
// the main thread. Accessors are thread-safe after run() starts.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "operator/core/clock.h"
#include "operator/kube/client.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/event_recorder.h"
#include "operator/runtime/fenced_client.h"
#include "operator/runtime/http_endpoint.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/instrumented_client.h"
#include "operator/runtime/leader_election.h"
#include "operator/runtime/metrics.h"

namespace sdb::runtime {

struct ManagerOptions {
  std::vector<std::string> watchNamespaces;  // empty: all
  bool leaderElect = true;
  LeaderElectionOptions leaderElection;      // leaseNamespace = operator namespace
  std::string metricsAddress = ":8080";      // "" or "0": disabled
  std::string healthAddress = ":8081";
  std::chrono::milliseconds shutdownTimeout{std::chrono::seconds(30)};
  int watchTimeoutSeconds = 300;
  std::chrono::milliseconds resyncPeriod{std::chrono::minutes(10)};
  std::string podName;  // for events' reportingInstance
  std::string apiHost = "kubernetes";  // the `host` label of rest_client_requests_total
  // StatefulSets, Services, ConfigMaps, Jobs, CronJobs, ServiceAccounts, Roles and RoleBindings are
  // informed with kManagedBySelector only (servicedb-operator's children carry it). A controller
  // whose children lack that label (the e2e example controller) turns this off. Secrets always are.
  bool cacheOnlyManagedChildren = true;
};

// The informers of one kind across the watched namespaces, read as one cache. Reads return objects
// decoded for the caller, one decode per object returned (informer.h).
class KindCache {
 public:
  ObjectPtr get(const std::string& ns, const std::string& name) const;
  std::vector<ObjectPtr> list(const std::string& ns = "") const;
  std::vector<ObjectPtr> byOwnerUid(const std::string& uid) const;
  bool hasSynced() const;
  const std::vector<std::unique_ptr<Informer>>& informers() const { return informers_; }

 private:
  friend class Manager;
  bool clusterWide_ = true;
  std::vector<std::unique_ptr<Informer>> informers_;
};

class Manager {
 public:
  Manager(kube::KubeClient& client, ManagerOptions options, Clock& clock = SystemClock::instance());
  ~Manager();

  // The client controllers and the event recorder use: the given one, counted in
  // rest_client_requests_total, and fenced (writes refused) from the moment leadership is lost.
  kube::KubeClient& client() { return *fenced_; }
  RuntimeMetrics& metrics() { return metrics_; }
  EventRecorder& events() { return *events_; }
  const ManagerOptions& options() const { return options_; }

  // The cache of a kind (created on first use). Secrets, StatefulSets, Services, ConfigMaps, Jobs,
  // CronJobs, ServiceAccounts, Roles and RoleBindings get kManagedBySelector automatically.
  KindCache& cache(const kube::ResourceRef& resource);
  // A controller whose primary kind is `forKind` and which owns `ownedKinds`.
  Controller& addController(const std::string& name, Reconciler& reconciler, const kube::ResourceRef& forKind,
                            const std::vector<kube::ResourceRef>& ownedKinds = {}, int workers = 2);

  // Blocks until a signal or requestStop(); returns the process exit code.
  int run();
  void requestStop() { stopRequested_ = true; }
  bool ready() const;
  int metricsPort() const { return metricsHttp_.port(); }
  int healthPort() const { return healthHttp_.port(); }
  bool isLeader() const { return elector_ ? elector_->isLeader() : workersStarted_.load(); }

 private:
  void startWorkers();
  bool stopWorkers();

  kube::KubeClient& client_;
  ManagerOptions options_;
  Clock& clock_;
  RuntimeMetrics metrics_;
  std::unique_ptr<InstrumentedKubeClient> instrumented_;
  std::unique_ptr<FencedKubeClient> fenced_;
  std::unique_ptr<EventRecorder> events_;
  std::vector<std::pair<kube::ResourceRef, std::unique_ptr<KindCache>>> caches_;
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::unique_ptr<LeaderElector> elector_;
  HttpEndpoint metricsHttp_, healthHttp_;
  std::atomic<bool> stopRequested_{false};
  std::atomic<bool> lostLeadership_{false};
  std::atomic<bool> shuttingDown_{false};
  std::atomic<bool> workersStarted_{false};
};

// Installs SIGTERM/SIGINT handlers that set a flag Manager::run() polls (async-signal-safe).
void installShutdownSignalHandlers();
bool shutdownSignalReceived();

}  // namespace sdb::runtime
