// The local cluster's control plane for workloads: in-process controllers over the store that turn
// StatefulSets, Deployments (through ReplicaSets), Jobs and CronJobs into Pod objects, keep their
// status current, bind pods to the node, bind PersistentVolumeClaims, and keep Endpoints in step
// with Services and pod readiness. They do not run anything: the kubelet runs the Pod objects and
// writes their status, which these controllers read.
//
// The controllers use the operator's runtime (informers, rate-limited workqueues) over the
// in-process KubeClient, so they watch the store directly: each kind is listed once at start and
// then watched, and every event reconciles only the objects it concerns. They are level-triggered
// and keep no state of their own beyond caches: a restart of the local cluster resumes from the
// store. Time and randomness are injected (WorkloadsOptions) for deterministic tests.
//
// Contract: start() once, then stop() (or the destructor). The store must outlive this object.
// Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "e2e/apimachinery/store.h"
#include "e2e/workloads/context.h"
#include "operator/core/result.h"

namespace sdb::workloads {

class Workloads {
 public:
  Workloads(apimachinery::Store& store, WorkloadsOptions options = {});
  ~Workloads();
  Workloads(const Workloads&) = delete;
  Workloads& operator=(const Workloads&) = delete;

  // Creates the default StorageClass (unless disabled), starts the informers, waits up to
  // `syncTimeout` for their first list, then starts the controllers.
  Status start(std::chrono::milliseconds syncTimeout = std::chrono::seconds(30));
  void stop();

  // Total reconciles so far (all controllers), for tests and benchmarks.
  uint64_t reconciles() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sdb::workloads
