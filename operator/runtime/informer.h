// Informer: a reflector (list, then watch from the list's resourceVersion) feeding an in-memory cache
// of one resource kind, with indexes and event handlers. The shape of client-go's SharedInformer.
//
// - Watches ask for bookmarks and resume from the last seen resourceVersion when a watch ends.
// - 410 Gone (HTTP status or an ERROR event) → re-list; the cache is replaced and the differences
//   are delivered as add/update/delete events.
// - Other failures reconnect after a jittered exponential backoff (options).
// - Stall detection: if neither an event nor a bookmark arrives within stallFactor × timeoutSeconds,
//   the watch is stopped and re-opened from the last resourceVersion.
// - Resync: every resyncPeriod each cached object is re-delivered as update(old == new).
// - metadata.managedFields is stripped before caching (it is often half of an object's size).
// - `labelSelector` filters both list and watch. The manager uses it for Secrets so only Secrets
//   labelled app.kubernetes.io/managed-by=servicedb-operator are cached; user-named Secrets are read
//   with uncached client GETs (caching every Secret is a known cause of operator OOMs).
//
// Storage and ownership. By default (InformerOptions::compactCache) each cached object is kept as
// MessagePack bytes, about the size of its JSON text, instead of as a nlohmann DOM (about 5x that);
// the index entries are kept alongside, so updates and deletes never decode the cached copy to unindex
// it. Every read (get, list, byOwnerUid, byLabel, resync) decodes and returns a fresh, caller-owned
// ObjectPtr: the cost is one decode per object returned (about as much as parsing its JSON text),
// paid outside the cache lock, and two reads of the same object return different pointers that
// compare equal as JSON. Compare objects by value or by resourceVersion, never by pointer across
// reads. With compactCache = false the cache holds shared DOMs and reads return them without copying
// (the previous behaviour): an escape hatch for a caller that reads far more than it is written to.
// Numbers keep their kind: negative integers stay integers, non-negative ones come back unsigned (as
// the JSON parser makes them) and floats stay floats, so 3 and 3.0 remain distinct.
//
// Handlers get the decoded new object of the event being applied, never re-decoded. onUpdate's old
// object is decoded from the cache only if some handler sets needsOldObject; handlers that clear it get
// nullptr as oldObj (controllers enqueueing the new object's key do not need it). On resync, handlers
// that want the old object get old == new (the same pointer); that is how a handler tells a resync
// from a change. onDelete gets the final state the server sent, not the cached copy.
//
// Objects are immutable shared_ptr<const Json>: readers must not cast constness away.
//
// Contract: thread-safe. Handlers run on the informer's thread, in event order, without internal locks
// held; they must be quick (enqueue a key) and must not call stop().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "operator/core/clock.h"
#include "operator/core/json.h"
#include "operator/kube/client.h"

namespace sdb::runtime {

inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedByValue = "servicedb-operator";
inline constexpr const char* kManagedBySelector = "app.kubernetes.io/managed-by=servicedb-operator";

using ObjectPtr = std::shared_ptr<const Json>;

struct InformerHandlers {
  std::function<void(const ObjectPtr&)> onAdd;
  std::function<void(const ObjectPtr& oldObj, const ObjectPtr& newObj)> onUpdate;
  std::function<void(const ObjectPtr&)> onDelete;
  // False: onUpdate's oldObj is always nullptr, which spares a compact cache one decode per update.
  bool needsOldObject = true;
};

struct InformerOptions {
  kube::ResourceRef resource;
  std::string ns;             // "" = all namespaces
  std::string labelSelector;  // e.g. kManagedBySelector for Secrets
  std::string fieldSelector;  // e.g. "metadata.name=s3-credentials": a watch scoped to one user Secret
  int watchTimeoutSeconds = 300;
  int stallFactor = 2;
  std::chrono::milliseconds resyncPeriod{std::chrono::minutes(10)};  // 0 = never
  std::chrono::milliseconds backoffInitial{800};
  std::chrono::milliseconds backoffMax{std::chrono::seconds(30)};
  // Smaller than client-go's 500: a page is held as text and then as a DOM while it is read, and
  // 500 Secrets with managedFields made the largest allocation of the process.
  int64_t listPageSize = 100;
  std::chrono::milliseconds monitorInterval{500};  // real-time period of the stall/resync check
  // Keep cached objects as MessagePack (~1x their JSON size) and decode on read, rather than as DOMs
  // (~5x). See the contract above.
  bool compactCache = true;
};

struct InformerStats {
  uint64_t lists = 0, watches = 0, events = 0, bookmarks = 0, relistsOnGone = 0, stalls = 0, failures = 0;
};

class Informer {
 public:
  Informer(kube::KubeClient& client, InformerOptions options, Clock& clock = SystemClock::instance());
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Handlers added before start() see every object; later ones get synthetic adds for the cache.
  void addHandlers(InformerHandlers handlers);
  void start();
  void stop();
  bool hasSynced() const { return synced_.load(); }
  // Waits (real time) until synced or the timeout passes.
  bool waitForSync(std::chrono::milliseconds timeout) const;

  ObjectPtr get(const std::string& ns, const std::string& name) const;
  std::vector<ObjectPtr> list(const std::string& ns = "") const;  // "" = all
  std::vector<ObjectPtr> byOwnerUid(const std::string& uid) const;
  std::vector<ObjectPtr> byLabel(const std::string& key, const std::string& value) const;
  size_t size() const;
  std::string lastResourceVersion() const;
  InformerStats stats() const;
  const kube::ResourceRef& resource() const { return options_.resource; }

  // Applies one decoded watch event to the cache and handlers (exposed for benchmarks). Takes the
  // event by value so the object is moved, never copied, into the cache.
  void applyEvent(kube::WatchEvent event);

 private:
  void run();
  void monitor();
  kube::KStatus relist();
  bool watchOnce();  // false when the reflector should re-list
  // A map from an indexed value (namespace, owner UID, "label=value") to the keys of the objects
  // carrying it.
  using Index = std::map<std::string, std::set<std::string>>;
  // Where an entry's key was inserted, so that unindexing needs no decoded copy of the object.
  struct Membership {
    Index* index;
    Index::iterator bucket;
  };
  struct Entry {
    ObjectPtr object;    // compactCache = false
    std::string packed;  // compactCache = true: MessagePack
    std::string resourceVersion;
    std::vector<Membership> memberships;
  };
  // What a reader takes out of an entry under the lock; materialize() decodes it after unlocking.
  struct Held {
    ObjectPtr object;
    std::string packed;
  };

  void upsert(Json obj);
  void erase(Json obj);
  void index(const std::string& key, const Json& obj, Entry& entry);
  void unindex(const std::string& key, Entry& entry);
  Held hold(const Entry& entry) const;
  std::vector<ObjectPtr> materialize(std::vector<Held> held) const;
  ObjectPtr materialize(Held held) const;
  void sleepBackoff();
  std::vector<InformerHandlers> handlersSnapshot() const;

  kube::KubeClient& client_;
  InformerOptions options_;
  Clock& clock_;

  mutable std::mutex mu_;  // cache, indexes, rv
  std::unordered_map<std::string, Entry> items_;
  Index byNamespace_, byOwner_, byLabel_;
  std::string rv_;
  InformerStats stats_;

  mutable std::mutex handlersMu_;
  std::vector<InformerHandlers> handlers_;

  mutable std::mutex streamMu_;
  kube::WatchStream* stream_ = nullptr;
  std::chrono::steady_clock::time_point lastActivity_{};
  std::chrono::steady_clock::time_point lastResync_{};

  std::atomic<bool> synced_{false};
  std::atomic<bool> running_{false};
  mutable std::mutex waitMu_;
  mutable std::condition_variable waitCv_;
  std::chrono::milliseconds backoff_{0};
  std::thread thread_, monitorThread_;
};

}  // namespace sdb::runtime
