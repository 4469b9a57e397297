// The local cluster's object store: Kubernetes API semantics in-process. The HTTP face
// (e2e/localcluster) serves it to kubectl and other clients; the in-process KubeClient adapts it for
// unit tests. One implementation, so the fake cannot drift from the server.
//
// Semantics (kube-apiserver's, see e2e/README.md for the fidelity table):
// - uid, creationTimestamp, generateName, one global resourceVersion (a rising decimal integer);
// - generation: 1 on create; +1 when anything but metadata (and status, for kinds with a status
//   subresource) changes; +1 when deletion starts;
// - 409 Conflict on a stale resourceVersion, AlreadyExists on a duplicate name, NotFound;
// - status is written only through the status subresource when the kind has one; the main resource
//   ignores status changes there, and /status ignores everything else;
// - deletion with finalizers sets deletionTimestamp; the object goes when the last finalizer does;
//   propagationPolicy Background, Foreground (finalizer foregroundDeletion, blockOwnerDeletion) and
//   Orphan (finalizer orphan), carried out by collectGarbage(); namespaces terminate (phase
//   Terminating, no new content, contents deleted, then the namespace);
// - pods bound to a node are deleted gracefully (deletionTimestamp = now + grace; the node deletes
//   them with grace 0 once their containers have stopped);
// - custom resources are pruned, defaulted and validated against their CRD's structural schema
//   (422 Invalid with field causes); fieldValidation Strict|Warn|Ignore; dryRun=All;
// - CRDs register their resources and get Established and NamesAccepted;
// - patches: JSON merge, JSON, strategic merge (built-in kinds) and server-side apply, each a
//   read-modify-write under the lock; every write records field ownership in
//   metadata.managedFields, and apply enforces it (managed_fields.h);
// - lists with label and field selectors, limit and continue; watches from a resourceVersion with a
//   bounded history (410 Expired when older), and synthetic ADDED events from "" or "0".
//
// Persistence: with a data dir, every write is appended to a write-ahead log before it is
// acknowledged (write(2); fdatasync too with fsync=always). A restart, even after kill -9, replays it;
// a torn last line is dropped. The log is compacted into a snapshot at open.
//
// Contract: thread-safe (one mutex; watchers are fed under it, readers drain without it).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "e2e/apimachinery/registry.h"
#include "e2e/apimachinery/watcher.h"
#include "operator/core/clock.h"
#include "operator/core/random.h"
#include "operator/kube/client.h"

namespace sdb::apimachinery {

struct StoreOptions {
  std::string dataDir;                 // "" keeps everything in memory
  bool fsyncEveryWrite = false;        // fdatasync per write (survives power loss, not only kill -9)
  size_t historyLimit = 20000;         // watch events kept for resuming; older RVs get 410
  size_t watcherCapacity = 100000;     // events queued per watcher before it is dropped
  // ClusterIPs: "198.19." allocates 198.19.0.2 - 198.19.255.254, "198.19.7." 198.19.7.2 - 198.19.7.254.
  // The range's first address (.0.1 or .1) is left for the `kubernetes` Service, as kube-apiserver does.
  std::string serviceCidrPrefix = "198.19.";
  Clock* clock = nullptr;              // default: SystemClock
  Random* random = nullptr;            // default: CryptoRandom
};

// Per-request details the HTTP face passes through and gets back.
struct RequestContext {
  std::vector<std::string> warnings;  // for Warning headers (fieldValidation=Warn)
};

class Store {
 public:
  static Result<std::unique_ptr<Store>> open(StoreOptions options);
  ~Store();

  Registry& registry() { return registry_; }
  // Resolves a URL's group/version/resource; NotFound ("the server could not find the requested resource").
  kube::KResult<ResourceInfo> resolve(const std::string& group, const std::string& version,
                                      const std::string& resource) const;

  kube::KResult<Json> get(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                          const std::string& subresource = "");
  kube::KResult<Json> list(const kube::ResourceRef& r, const std::string& ns, const kube::ListOptions& opts);
  kube::KResult<std::shared_ptr<Watcher>> watch(const kube::ResourceRef& r, const std::string& ns,
                                                const kube::WatchOptions& opts);
  kube::KResult<Json> create(const kube::ResourceRef& r, const std::string& ns, Json obj,
                             const kube::WriteOptions& opts = {}, RequestContext* ctx = nullptr);
  kube::KResult<Json> update(const kube::ResourceRef& r, const std::string& ns, const std::string& name, Json obj,
                             const kube::WriteOptions& opts = {}, const std::string& subresource = "",
                             RequestContext* ctx = nullptr);
  kube::KResult<Json> patch(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                            kube::PatchType type, const std::string& body, const kube::PatchOptions& opts = {},
                            const std::string& subresource = "", RequestContext* ctx = nullptr);
  kube::KResult<Json> remove(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                             const kube::DeleteOptions& opts = {}, RequestContext* ctx = nullptr);

  // Garbage collection and namespace termination (store_gc.cpp), as kube-controller-manager's
  // garbage collector and namespace controller do them: one pass over every object, returning the
  // number of writes it made (call until 0 to reach a fixed point; tests do). GarbageCollector
  // (garbage_collector.h) runs passes on a thread whenever writes may have given it work.
  size_t collectGarbage();
  // Blocks until a write may have given the collector work (true) or `timeout` passes (false).
  bool waitForGarbage(std::chrono::milliseconds timeout);

  int64_t resourceVersion() const;
  // What an API server restart does to the store, without a new process: every open watch ends
  // (closed without an event), the watch history starts again at the current resourceVersion (so a
  // watch or continue token from before gets 410 and clients re-list), and with a data dir the state
  // is read back from it (snapshot plus log, compacted again), as a fresh process would find it.
  // Objects and resourceVersions are kept. Returns the resourceVersion after the restart.
  Result<int64_t> restart();
  // Queues a BOOKMARK at the current resourceVersion, ordered after every event already queued.
  void bookmark(Watcher& watcher);
  void stopWatch(const std::shared_ptr<Watcher>& watcher);

 private:
  explicit Store(StoreOptions options);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Registry registry_;
};

}  // namespace sdb::apimachinery
