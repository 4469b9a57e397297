#include "controllers/servicedatabase/wiring.h"

#include "controllers/servicedatabase/postgres_dedicated.h"
#include "controllers/servicedatabase/redis_dedicated.h"
#include "operator/specs/labels.h"

namespace sdb::controllers::servicedatabase {

std::unique_ptr<Registration> addServiceDatabaseController(runtime::Manager& manager, ControllerOptions options) {
  namespace res = kube::resources;
  auto reg = std::make_unique<Registration>();
  runtime::KindCache& sdbCache = manager.cache(res::kServiceDatabases);
  reg->serviceDatabases = std::make_unique<CacheReader>(sdbCache);
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
  // Jobs: a migration Job's end wakes its ServiceDatabase (migrations.h).
  std::vector<kube::ResourceRef> owned = {res::kSecrets, res::kJobs};
  const bool dedicated = !options.dedicated.operatorNamespace.empty();
  if (dedicated) owned.insert(owned.end(), {res::kStatefulSets, res::kServices, res::kConfigMaps});
  runtime::Controller& controller =
      manager.addController("servicedatabase", *reg->reconciler, res::kServiceDatabases, owned, options.workers);
  // backupFirst (migrations.h): a backup CronJob appearing for a database (the label contract:
  // servicedb.io/database, servicedb.io/component=backup) wakes its ServiceDatabase at once.
  auto wakeDatabase = [&controller](const runtime::ObjectPtr& cronJob) {
    if (!cronJob) return;
    const Json* labels = jsonAt(*cronJob, {"metadata", "labels"});
    if (!labels || jsonString(*labels, {specs::kLabelServicedbComponent}) != "backup") return;
    const std::string database = jsonString(*labels, {specs::kLabelDatabase});
    if (!database.empty()) controller.enqueue({jsonString(*cronJob, {"metadata", "namespace"}), database});
  };
  for (const auto& inf : manager.cache(res::kCronJobs).informers()) {
    runtime::InformerHandlers h;
    h.onAdd = wakeDatabase;
    h.onUpdate = [wakeDatabase](const runtime::ObjectPtr&, const runtime::ObjectPtr& now) { wakeDatabase(now); };
    h.needsOldObject = false;
    inf->addHandlers(std::move(h));
  }
  if (!dedicated) return reg;

  reg->statefulSets = std::make_unique<CacheReader>(manager.cache(res::kStatefulSets));
  reg->services = std::make_unique<CacheReader>(manager.cache(res::kServices));
  reg->configMaps = std::make_unique<CacheReader>(manager.cache(res::kConfigMaps));
  runtime::KindCache& policies = manager.cache(res::kNetworkPolicies);
  InstanceReaders readers;
  readers.secrets = reg->secrets.get();
  readers.statefulSets = reg->statefulSets.get();
  readers.services = reg->services.get();
  readers.configMaps = reg->configMaps.get();
  readers.networkPolicies = [&policies](const std::string& ns) {
    std::vector<Json> out;
    for (const auto& p : policies.list(ns)) out.push_back(*p);
    return out;
  };
  readers.serviceDatabases = [&sdbCache](const std::string& ns) {
    std::vector<specs::ServiceDatabase> out;
    for (const auto& o : sdbCache.list(ns)) {
      if (auto s = specs::parseServiceDatabase(*o); s.ok()) out.push_back(std::move(*s));
    }
    return out;
  };
  // Any NetworkPolicy change in a namespace may open or close a door: re-check its dedicated instances.
  auto recheck = [&sdbCache, &controller](const runtime::ObjectPtr& policy) {
    if (!policy) return;
    const std::string ns = jsonString(*policy, {"metadata", "namespace"});
    for (const auto& o : sdbCache.list(ns)) {
      if (jsonString(*o, {"spec", "mode"}) == "shared") continue;
      controller.enqueue({ns, jsonString(*o, {"metadata", "name"})});
    }
  };
  for (const auto& inf : policies.informers()) {
    runtime::InformerHandlers h;
    h.onAdd = recheck;
    h.onUpdate = [recheck](const runtime::ObjectPtr&, const runtime::ObjectPtr& now) { recheck(now); };
    h.onDelete = recheck;
    h.needsOldObject = false;
    inf->addHandlers(std::move(h));
  }
  if (options.dedicated.fieldManager.empty()) options.dedicated.fieldManager = options.reconciler.fieldManager;
  reg->ca = std::make_unique<CaStore>(manager.client(), reg->secrets.get(), options.dedicated.operatorNamespace,
                                      options.dedicated.fieldManager);
  reg->backends->add("postgres", "dedicated",
                     std::make_unique<DedicatedBackend>(manager.client(), readers, *reg->ca,
                                                        postgresInstanceEngine(options.postgresInstance),
                                                        options.dedicated));
  reg->backends->add("redis", "dedicated",
                     std::make_unique<DedicatedBackend>(manager.client(), readers, *reg->ca,
                                                        redisInstanceEngine(options.redisInstance), options.dedicated));
  reg->backends->add("mongodb", "dedicated",
                     std::make_unique<DedicatedBackend>(manager.client(), readers, *reg->ca,
                                                        mongoInstanceEngine(options.mongoInstance), options.dedicated));
  return reg;
}

}  // namespace sdb::controllers::servicedatabase
