// What every workload controller of the local cluster shares: the in-process client over the store,
// one informer per kind (each watched once, however many controllers read it), the injected clock
// and randomness, and the options.
//
// Contract: built and owned by Workloads (workloads.h); controllers hold references and must not
// outlive it. Informers are thread-safe; the struct itself is not mutated after start.
#pragma once

#include <memory>
#include <string>

#include "operator/core/clock.h"
#include "operator/core/random.h"
#include "operator/kube/client.h"
#include "operator/runtime/informer.h"

namespace sdb::workloads {

// The single node of the local cluster: pods are bound to it (spec.nodeName), and the kubelet runs
// the pods bound to it.
inline constexpr const char* kDefaultNodeName = "servicedb-local";

struct WorkloadsOptions {
  std::string nodeName = kDefaultNodeName;
  bool cronSchedules = true;          // false: CronJobs never fire on their own (deterministic tests)
  bool defaultStorageClass = true;    // make the `standard` StorageClass (default, expandable) if absent
  std::string zoneinfoDir = "/usr/share/zoneinfo";
  Clock* clock = nullptr;             // default: SystemClock
  Random* random = nullptr;           // default: CryptoRandom
  int workersPerController = 1;
  // Delays for Job pod re-creation after failures: base * 2^(failures-1), capped (kube: 10 s, 6 min).
  std::chrono::milliseconds jobBackoffBase{std::chrono::seconds(10)};
  std::chrono::milliseconds jobBackoffMax{std::chrono::minutes(6)};
};

struct Informers {
  std::unique_ptr<runtime::Informer> pods, statefulSets, controllerRevisions, deployments, replicaSets, jobs,
      cronJobs, services, endpoints, claims, storageClasses;
};

struct Context {
  kube::KubeClient& client;
  Clock& clock;
  Random& random;
  const WorkloadsOptions& options;
  Informers& informers;
};

}  // namespace sdb::workloads
