// Private to the store: its state, persistence and watch fan-out. Everything here runs with
// Impl::mu held unless a function says otherwise.
#pragma once

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <set>

#include "e2e/apimachinery/managed_fields.h"
#include "e2e/apimachinery/store.h"

namespace sdb::apimachinery {

struct HistoryEvent {
  int64_t rv;
  kube::WatchEvent::Type type;
  std::string group, resource, ns;
  Json object;
  Json old;  // previous state for MODIFIED (selector transitions), null otherwise
};

struct Store::Impl {
  StoreOptions options;
  Clock* clock;
  Random* random;
  Registry* registry;  // the Store's
  mutable std::mutex mu;
  std::map<std::string, Json> objects;  // key: group/resource/namespace/name
  int64_t rv = 0;
  int64_t compactedRv = 0;  // watches and continue tokens from before this get 410
  std::deque<HistoryEvent> history;
  std::vector<std::weak_ptr<Watcher>> watchers;
  std::set<std::string> usedClusterIps;
  FILE* wal = nullptr;

  static std::string key(const ResourceInfo& info, const std::string& ns, const std::string& name) {
    return info.ref.group + "/" + info.ref.resource + "/" + ns + "/" + name;
  }
  static std::string prefix(const ResourceInfo& info, const std::string& ns) {
    return info.ref.group + "/" + info.ref.resource + "/" + (ns.empty() ? "" : ns + "/");
  }

  // Persistence (store_state.cpp).
  Status load();
  Status appendWal(const char* op, const std::string& key, const Json* obj);
  // Assigns the next resourceVersion, persists, applies, records history and notifies watchers.
  kube::KResult<Json> commitPut(const ResourceInfo& info, const std::string& key, Json obj,
                                kube::WatchEvent::Type type, const Json* old);
  kube::KResult<Json> commitDelete(const ResourceInfo& info, const std::string& key, Json obj);
  void notify(const HistoryEvent& e);
  static bool watcherWants(const Watcher& w, const std::string& group, const std::string& resource,
                           const std::string& ns);

  // Helpers (store.cpp).
  std::string newUid();
  std::string allocateClusterIp();

  // Writes with the lock held (store_write.cpp). `obj` is the object as the client sent it (or as a
  // patch produced it). With `applied`, its managedFields were computed by server-side apply;
  // otherwise the write is recorded as an Update by opts.fieldManager.
  kube::KResult<Json> createLocked(const ResourceInfo& info, const std::string& ns, Json obj,
                                   const kube::WriteOptions& opts, RequestContext* ctx, bool applied);
  kube::KResult<Json> replaceLocked(const ResourceInfo& info, const std::string& key, const Json& old, Json obj,
                                    const kube::WriteOptions& opts, const std::string& subresource, RequestContext* ctx,
                                    bool applied);
  // Deletion with its propagation policy (store_delete.cpp): finalizers "orphan" and
  // "foregroundDeletion" for Orphan and Foreground, deletionTimestamp while finalizers remain,
  // Terminating for namespaces. `policy` is the validated propagation policy ("" for the kind's
  // default).
  kube::KResult<Json> removeLocked(const ResourceInfo& info, const std::string& key, const kube::DeleteOptions& opts,
                                   RequestContext* ctx);

  // Garbage collection (store_gc.cpp).
  bool gcDirty = false;  // a write may have given the collector work
  std::condition_variable gcWake;
  size_t collectGarbageLocked();
};

// Whether an object still has finalizers that hold its deletion (metadata.finalizers, and for
// namespaces spec.finalizers).
bool hasFinalizers(const Json& obj, const ResourceInfo& info);

// Validates and normalises an object of `info` about to be stored (store_write.cpp). `old` is null
// on create.
struct Admitted {
  Json object;
  std::vector<std::string> warnings;
};
kube::KResult<Admitted> admit(const ResourceInfo& info, Json obj, const Json* old, const kube::WriteOptions& opts,
                              const std::string& name);
// What field ownership needs to know about a write to `info` (store_write.cpp).
FieldManagerScope fieldManagerScope(const ResourceInfo& info, const std::string& subresource, const std::string& now,
                                    const std::string& ns, const std::string& name);
// 422 for an invalid fieldManager, on "CreateOptions", "UpdateOptions" or "PatchOptions".
kube::ApiError fieldManagerError(const char* optionsKind, const std::vector<kube::StatusCause>& causes);

}  // namespace sdb::apimachinery
