// Dedicated mode, engine-neutral: a service's own database instance in its namespace, run by the
// operator, and the Session to its superuser. An InstanceEngine supplies what differs per engine
// (workload objects, port, superuser, how to connect and reload certificates); everything else is
// here: the superuser Secret, the Services, the server certificate, the NetworkPolicy and the
// NetworkIsolated condition, day-2 changes of version and storage, readiness, and deletion.
//
// open(), in order (each step reads the operator's caches; it writes only what differs):
//   1. checks: spec.version parses and keeps its major; spec.resources and spec.storage.size are
//      valid; the engine's own checks (names); spec.access is well formed and selects no other
//      service's pods (accessConflict);
//   2. the superuser Secret: generated once and stored before the instance first uses it;
//   3. the headless and ClusterIP Services; the server certificate for every DNS form of them and the
//      clusterIP (instance_tls.h);
//   4. the engine's workload objects (ConfigMaps and Secrets, then the StatefulSet), built with the
//      superuser password (Redis derives its ACL file from it); a bigger spec.storage first patches the
//      PVC (when its StorageClass allows expansion) and deletes the StatefulSet with orphaned pods, so
//      the next apply recreates it with the new volumeClaimTemplate; a smaller one is refused;
//   5. the NetworkPolicy, then NetworkIsolated over every policy of the namespace;
//   6. waits (requeue after a few seconds) until the StatefulSet has rolled out and its pod is ready,
//      naming the pod's waiting reason (ImageNotRunnable for images that cannot run);
//   7. the certificate the server presents is the stored one (else the engine's reload, no restart);
//   8. a Session over the ClusterIP with full verification against the operator's CA.
// Deletion: Retain removes the owner reference of the superuser Secret (the PVC has none), so a new
// ServiceDatabase of the same name adopts the data; Delete deletes the PVC (the rest goes with owner
// references once the finalizer is removed).
//
// Contract: thread-safe (reconciles of different ServiceDatabases run concurrently); no secret in
// messages or logs.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "controllers/servicedatabase/backend.h"
#include "controllers/servicedatabase/ca_store.h"
#include "controllers/servicedatabase/instance_tls.h"
#include "controllers/servicedatabase/object_reader.h"
#include "controllers/servicedatabase/ca_files.h"
#include "operator/core/clock.h"
#include "operator/core/random.h"
#include "operator/kube/client.h"
#include "operator/specs/instance.h"

namespace sdb::controllers::servicedatabase {

// How the operator reaches a ready instance as its superuser.
struct InstanceConnection {
  std::string host;      // the ClusterIP
  int port = 0;
  std::string username, password;  // password never logged
  std::string caFile;    // PEM file of the operator's CA, for verify-full
  std::string caPem;
  std::string serverName;  // a DNS name in the certificate (for engines that verify by name)
};

struct InstanceEngine {
  std::string describe;     // "postgres (dedicated)"
  std::string portName;     // "postgres"
  int port = 0;
  std::string superuser;    // "postgres", "servicedb-admin"
  std::vector<std::string> slots;
  std::string bindingType;  // "postgresql"
  // The major version of spec.version (refusing what the engine cannot run), for step 1.
  std::function<Result<int>(const std::string& version)> major;
  // More spec checks of the engine without I/O, for step 1 (e.g. Redis' key prefix). May be empty.
  std::function<std::optional<Problem>(const specs::ServiceDatabase&)> check;
  // The workload objects in apply order (ConfigMaps and Secrets first, the StatefulSet last), from
  // the spec and the superuser password (which must only reach Secrets, never the other objects).
  std::function<Result<std::vector<Json>>(const specs::ServiceDatabase&, const std::string& superuserPassword)> workload;
  std::function<std::unique_ptr<engines::Engine>(const InstanceConnection&)> engine;
  // The database name (or key prefix) for the endpoint.
  std::function<std::string(const specs::ServiceDatabase&)> database;
  // The role migration Jobs act as (Backend::migrationOwnerRole); empty function: none.
  std::function<std::string(const specs::ServiceDatabase&)> migrationOwnerRole;
  // Binding entries of a slot's Secret: endpoint host (the Service's DNS name), port, ca.crt ...
  std::function<std::map<std::string, std::string>(const specs::ServiceDatabase&, const Endpoint&, const std::string& caPem,
                                                   const std::string& slot, const std::string& password)>
      bindingData;
  // Makes the server present the certificate with `serial` (e.g. pg_reload_conf()) and returns
  // the serial it presents afterwards. Empty function: the engine cannot tell; step 7 is skipped.
  std::function<Result<std::string>(const InstanceConnection&, const std::string& serial)> reloadTls;
};

struct DedicatedOptions {
  std::string operatorNamespace;             // where the CA Secret lives and the operator's pods run
  std::vector<std::string> operatorCidrs;    // an operator outside the pod network (e2e, development)
  InstanceTlsOptions tls;
  std::chrono::seconds pollInterval{3};      // while an instance starts or rolls
  std::string fieldManager = "servicedb-operator";
  std::string caDir;                         // "" = a private temp directory
  Clock* clock = nullptr;
  Random* random = nullptr;
};

// Reads the dedicated backend needs; all from the operator's caches.
struct InstanceReaders {
  const ObjectReader* secrets = nullptr;       // managed-by Secrets
  const ObjectReader* statefulSets = nullptr;
  const ObjectReader* services = nullptr;
  const ObjectReader* configMaps = nullptr;
  std::function<std::vector<Json>(const std::string& ns)> networkPolicies;            // every policy of a namespace
  std::function<std::vector<specs::ServiceDatabase>(const std::string& ns)> serviceDatabases;
};

class DedicatedBackend final : public Backend {
 public:
  DedicatedBackend(kube::KubeClient& client, InstanceReaders readers, CaStore& ca, InstanceEngine engine,
                   DedicatedOptions options);

  std::string describe() const override { return engine_.describe; }
  std::vector<std::string> slots() const override { return engine_.slots; }
  std::optional<Problem> check(const specs::ServiceDatabase& sdb) const override;
  std::string endpointDatabaseFor(const specs::ServiceDatabase& sdb) const override { return engine_.database(sdb); }
  PResult<Session> open(const specs::ServiceDatabase& sdb) override;
  std::string migrationOwnerRole(const specs::ServiceDatabase& sdb) const override {
    return engine_.migrationOwnerRole ? engine_.migrationOwnerRole(sdb) : "";
  }
  PResult<std::vector<std::string>> retain(const specs::ServiceDatabase& sdb) override;
  bool dataLivesInInstance() const override { return true; }
  PResult<std::vector<std::string>> removeInstance(const specs::ServiceDatabase& sdb) override;

 private:
  struct Step;  // one open()'s working state (dedicated_backend.cpp)
  PResult<std::string> superuserPassword(Step& step);
  // Server-side apply of `desired` unless `live` already has every field it sets.
  PResult<Json> apply(Step& step, const kube::ResourceRef& kind, const Json* live, const Json& desired);
  PResult<bool> expandStorage(Step& step, const Json& liveStatefulSet, const Json& desiredStatefulSet);
  std::optional<Problem> notReady(Step& step, const Json* statefulSet);

  kube::KubeClient& client_;
  InstanceReaders readers_;
  CaStore& ca_;
  InstanceEngine engine_;
  DedicatedOptions options_;
  Clock& clock_;
  Random& random_;
  CaFiles caFiles_;
  std::mutex mu_;
  std::map<std::string, std::string> servedSerial_;  // uid -> serial the server was seen presenting
};

}  // namespace sdb::controllers::servicedatabase
