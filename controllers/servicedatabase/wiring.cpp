#include "controllers/servicedatabase/wiring.h"

namespace sdb::controllers::servicedatabase {

std::unique_ptr<Registration> addServiceDatabaseController(runtime::Manager& manager, ControllerOptions options) {
  namespace res = kube::resources;
  auto reg = std::make_unique<Registration>();
  reg->serviceDatabases = std::make_unique<CacheReader>(manager.cache(res::kServiceDatabases));
  reg->secrets = std::make_unique<CacheReader>(manager.cache(res::kSecrets));
  reg->backends = std::make_unique<BackendRegistry>();
  reg->backends->add("postgres", "shared",
                     std::make_unique<PostgresSharedBackend>(manager.client(), std::move(options.postgresShared)));
  reg->backends->add("redis", "shared",
                     std::make_unique<RedisSharedBackend>(manager.client(), std::move(options.redisShared)));
  reg->backends->add("mongodb", "shared",
                     std::make_unique<MongoSharedBackend>(manager.client(), std::move(options.mongoShared)));
  if (!options.reconciler.events) options.reconciler.events = &manager.events();
  reg->reconciler = std::make_unique<ServiceDatabaseReconciler>(manager.client(), *reg->serviceDatabases,
                                                                *reg->secrets, *reg->backends, options.reconciler);
  manager.addController("servicedatabase", *reg->reconciler, res::kServiceDatabases, {res::kSecrets}, options.workers);
  return reg;
}

}  // namespace sdb::controllers::servicedatabase
