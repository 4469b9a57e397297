// Controller: informers feed a rate-limited workqueue of "ns/name" keys; N workers call a Reconciler.
//
// - For(informer): the primary kind; every add/update/delete enqueues the object's key.
// - Owns(informer, ownerKind, ownerGroup): a child kind; an event enqueues the child's controller
//   owner (the ownerReference with controller=true whose kind and API group match), in the child's
//   namespace. On an update it also enqueues the old object's owner (a re-parented child), so its
//   handler asks the informer for the old object: one decode per update with a compact cache.
//   For() does not ask for it.
// - ReconcileResult: ok (forget backoff), requeueAfter(d) (forget backoff, add after d), retryable
//   error (per-key exponential backoff) or terminal error (logged and counted, no requeue).
// - An exception escaping reconcile() is caught and treated as a retryable error.
// - Each reconcile logs with fields controller, namespace, name and reconcileID.
//
// Contract: thread-safe. start() launches workers; stop(timeout) stops handing out keys, waits up to
// `timeout` for in-flight reconciles, and returns whether they all finished.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "operator/core/clock.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/metrics.h"
#include "operator/runtime/workqueue.h"

namespace sdb::runtime {

struct Request {
  std::string ns;
  std::string name;
  std::string key() const { return ns.empty() ? name : ns + "/" + name; }
};

struct ReconcileResult {
  enum class Kind { kOk, kRequeueAfter, kRetry, kTerminal };
  Kind kind = Kind::kOk;
  std::chrono::nanoseconds after{0};
  std::string error;

  static ReconcileResult ok() { return {}; }
  static ReconcileResult requeueAfter(std::chrono::nanoseconds d) { return {Kind::kRequeueAfter, d, ""}; }
  static ReconcileResult retry(std::string error) { return {Kind::kRetry, {}, std::move(error)}; }
  static ReconcileResult terminal(std::string error) { return {Kind::kTerminal, {}, std::move(error)}; }
};

// Per-reconcile context handed to the reconciler.
struct ReconcileContext {
  std::string controller;
  std::string reconcileId;
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  virtual ReconcileResult reconcile(const Request& request, const ReconcileContext& context) = 0;
};

struct ControllerOptions {
  std::string name;
  int workers = 2;
  Clock* clock = nullptr;              // default: SystemClock
  RuntimeMetrics* metrics = nullptr;   // optional
  std::unique_ptr<RateLimiter> limiter;  // default: defaultControllerRateLimiter
};

class Controller {
 public:
  Controller(ControllerOptions options, Reconciler& reconciler);
  ~Controller();

  Controller& For(Informer& informer);
  Controller& Owns(Informer& informer, const std::string& ownerKind, const std::string& ownerGroup);

  void enqueue(const Request& request) { queue_->add(request.key()); }
  void start();
  bool stop(std::chrono::milliseconds timeout);
  const std::string& name() const { return options_.name; }
  WorkQueue& queue() { return *queue_; }
  uint64_t reconciles() const { return reconciles_.load(); }

 private:
  void worker();
  void processOne(const std::string& key);

  ControllerOptions options_;
  Clock& clock_;
  Reconciler& reconciler_;
  std::unique_ptr<WorkQueue> queue_;
  std::vector<std::thread> workers_;
  std::atomic<bool> started_{false};
  std::atomic<int> inFlight_{0};
  std::atomic<uint64_t> reconciles_{0};
  std::atomic<uint64_t> nextId_{1};
};

}  // namespace sdb::runtime
