// What the ServiceDatabase controller needs from the chosen engine and mode, and nothing more: the
// controller itself has no engine-specific branches beyond picking a Backend from the registry.
//
// A Backend serves one (spec.engine, spec.mode) pair, e.g. postgres/shared. `open()` resolves what
// that mode connects to (shared: the admin Secret the spec names, read uncached; dedicated: the
// instance the operator runs) and returns a Session: an Engine for that server, the endpoint
// clients use, and the engine's builder for a credentials Secret's entries. Failures come back as a
// Problem: the condition reason and message, whether it needs a human (Stalled) and whether to
// retry with backoff.
//
// Contract: backends are owned by the registry; open() may be called from several reconcile
// workers at once (implementations are thread-safe); a Session belongs to one reconcile.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "operator/core/result.h"
#include "operator/engines/engine.h"
#include "operator/kube/client.h"
#include "operator/specs/servicedatabase.h"

namespace sdb::controllers::servicedatabase {

// A condition besides the kstatus ones that a backend reports (e.g. NetworkIsolated).
struct ExtraCondition {
  std::string type, status, reason, message;
};

// Material for a condition: why the ServiceDatabase is not Ready.
struct Problem {
  std::string reason;   // CamelCase, e.g. ServerUnreachable
  std::string message;  // names the field, Secret key or server object at fault; never a secret
  bool stalled = false;  // needs a human (kstatus Stalled=True)
  bool retry = true;     // requeue with exponential backoff (false: wait for a spec change)
  // Instead of backoff: look again after this long (waiting for an instance that is starting).
  std::optional<std::chrono::seconds> requeueAfter = std::nullopt;
  std::vector<ExtraCondition> conditions = {};  // known so far (e.g. NetworkIsolated)
  std::vector<std::string> changes = {};        // what was changed before the problem (for Events)
};

template <class T>
using PResult = Result<T, Problem>;

struct Endpoint {
  std::string host;
  int port = 0;
  std::string database;  // database name (Postgres, MongoDB) or key prefix (Redis)
};

struct Session {
  std::unique_ptr<engines::Engine> engine;
  Endpoint endpoint;
  std::string bindingType;  // Service Binding type: "postgresql", "redis", "mongodb"
  // The decoded entries of a slot's credentials Secret for `password` (host, port, uri, ...).
  std::function<std::map<std::string, std::string>(const std::string& slot, const std::string& password)> bindingData;
  // Identifies the server and the admin identity (hashed; no secret in clear), so a change of the
  // admin Secret makes the controller re-run the engine.
  std::string fingerprint;
  // Dedicated mode: conditions about the instance, what open() changed in the cluster (for Events),
  // and when to look again (certificate renewal, a reload still in flight).
  std::vector<ExtraCondition> conditions;
  std::vector<std::string> changes;
  std::optional<std::chrono::seconds> requeueAfter;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string describe() const = 0;                // "postgres (shared)"
  virtual std::vector<std::string> slots() const = 0;      // credential slots, e.g. {"app", "migration"}
  // Spec checks of this engine and mode that need no I/O, run before anything is created (so a
  // refused spec leaves no finalizer and no Secret behind).
  virtual std::optional<Problem> check(const specs::ServiceDatabase&) const { return std::nullopt; }
  // What status.endpoint.database holds for a spec with spec.databaseName set, so the controller
  // can refuse a changed name. Engines that keep something else there (Redis: the key prefix built
  // from the name) override it.
  virtual std::string endpointDatabaseFor(const specs::ServiceDatabase& sdb) const { return sdb.databaseName; }
  virtual PResult<Session> open(const specs::ServiceDatabase& sdb) = 0;
  // The role migration Jobs act as (`servicedb-operator migrate --owner-role`), "" when the engine
  // has none. Pure.
  virtual std::string migrationOwnerRole(const specs::ServiceDatabase&) const { return ""; }

  // Deletion (deletion.cpp). Retain: keep what must outlive the ServiceDatabase (dedicated: the
  // superuser Secret; PVCs carry no owner reference) and return what was kept.
  virtual PResult<std::vector<std::string>> retain(const specs::ServiceDatabase&) { return std::vector<std::string>{}; }
  // Delete: true when the data goes with the instance (dedicated), so the finalizer calls
  // removeInstance() instead of opening a session to drop objects one by one.
  virtual bool dataLivesInInstance() const { return false; }
  virtual PResult<std::vector<std::string>> removeInstance(const specs::ServiceDatabase&) {
    return std::vector<std::string>{};
  }
};

// Backends by (engine, mode). A pair without a backend is reported Stalled/NotImplemented.
class BackendRegistry {
 public:
  void add(const std::string& engine, const std::string& mode, std::unique_ptr<Backend> backend) {
    backends_[{engine, mode}] = std::move(backend);
  }
  Backend* find(const std::string& engine, const std::string& mode) const {
    auto it = backends_.find({engine, mode});
    return it == backends_.end() ? nullptr : it->second.get();
  }
  // "postgres (shared)" for every registered pair, for messages.
  std::string supported() const;

 private:
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Backend>> backends_;
};

// Removes the owner references to ServiceDatabases named `sdbName` from `object` (a JSON patch
// guarded by its resourceVersion, so a stale copy fails with Conflict instead of clobbering).
kube::KStatus orphanFrom(kube::KubeClient& client, const kube::ResourceRef& kind, const Json& object,
                         const std::string& sdbName, const std::string& fieldManager);

// How an engine error becomes a condition (engine-neutral: by error code).
Problem problemFromEngineError(const Error& error, const std::string& doing);

}  // namespace sdb::controllers::servicedatabase
