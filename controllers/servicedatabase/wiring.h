// Registers the ServiceDatabase controller on a runtime::Manager: the primary kind from the
// ServiceDatabase cache, our credentials Secrets (the managed-by Secret cache) as owned children,
// and the backends implemented today: postgres/shared, redis/shared and mongodb/shared. Engines and
// modes without a backend (every dedicated mode, for now) are reported Stalled/NotImplemented by
// the reconciler.
//
// Contract: build before Manager::run(); the returned object owns the reconciler, readers and
// backends and must outlive run().
#pragma once

#include <memory>

#include "controllers/servicedatabase/backend.h"
#include "controllers/servicedatabase/object_reader.h"
#include "controllers/servicedatabase/mongo_shared_backend.h"
#include "controllers/servicedatabase/postgres_shared_backend.h"
#include "controllers/servicedatabase/redis_shared_backend.h"
#include "controllers/servicedatabase/reconciler.h"
#include "operator/runtime/manager.h"

namespace sdb::controllers::servicedatabase {

struct ControllerOptions {
  ReconcilerOptions reconciler;       // events default to the manager's recorder
  PostgresSharedOptions postgresShared;
  RedisSharedOptions redisShared;
  MongoSharedOptions mongoShared;
  int workers = 4;
};

struct Registration {
  std::unique_ptr<CacheReader> serviceDatabases, secrets;
  std::unique_ptr<BackendRegistry> backends;
  std::unique_ptr<ServiceDatabaseReconciler> reconciler;
};

std::unique_ptr<Registration> addServiceDatabaseController(runtime::Manager& manager, ControllerOptions options = {});

}  // namespace sdb::controllers::servicedatabase
