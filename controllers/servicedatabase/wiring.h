// Registers the ServiceDatabase controller on a runtime::Manager: the primary kind from the
// ServiceDatabase cache; our credentials and instance Secrets, StatefulSets, Services, ConfigMaps
// and migration Jobs (managed-by caches) as owned children; NetworkPolicies of a namespace re-check
// every dedicated ServiceDatabase there (NetworkIsolated); a backup CronJob (managed-by, labelled
// servicedb.io/component=backup) wakes the ServiceDatabase its servicedb.io/database label names.
// Backends: postgres/shared, redis/shared, mongodb/shared, postgres/dedicated, redis/dedicated and
// mongodb/dedicated (the dedicated ones need an operator namespace). Engines and modes without a
// backend are reported Stalled/NotImplemented by the reconciler.
//
// Contract: build before Manager::run(); the returned object owns the reconciler, readers and
// backends and must outlive run().
#pragma once

#include <memory>

#include "controllers/servicedatabase/backend.h"
#include "controllers/servicedatabase/ca_store.h"
#include "controllers/servicedatabase/dedicated_backend.h"
#include "controllers/servicedatabase/object_reader.h"
#include "controllers/servicedatabase/mongo_dedicated.h"
#include "controllers/servicedatabase/mongo_shared_backend.h"
#include "controllers/servicedatabase/postgres_shared_backend.h"
#include "controllers/servicedatabase/redis_dedicated.h"
#include "controllers/servicedatabase/redis_shared_backend.h"
#include "controllers/servicedatabase/reconciler.h"
#include "operator/runtime/manager.h"
#include "operator/specs/postgres_instance.h"

namespace sdb::controllers::servicedatabase {

struct ControllerOptions {
  ReconcilerOptions reconciler;       // events default to the manager's recorder
  PostgresSharedOptions postgresShared;
  // Dedicated instances need the operator's namespace (its CA Secret and its pods); without it
  // dedicated mode is reported Stalled/NotImplemented.
  DedicatedOptions dedicated;
  specs::PostgresInstanceOptions postgresInstance;
  RedisDedicatedOptions redisInstance;
  MongoDedicatedOptions mongoInstance;
  RedisSharedOptions redisShared;
  MongoSharedOptions mongoShared;
  int workers = 4;
};

struct Registration {
  std::unique_ptr<CacheReader> serviceDatabases, secrets, statefulSets, services, configMaps;
  std::unique_ptr<CaStore> ca;
  std::unique_ptr<BackendRegistry> backends;
  std::unique_ptr<ServiceDatabaseReconciler> reconciler;
};

std::unique_ptr<Registration> addServiceDatabaseController(runtime::Manager& manager, ControllerOptions options = {});

}  // namespace sdb::controllers::servicedatabase
