#include "controllers/backuppolicy/wiring.h"

namespace sdb::controllers::backuppolicy {

std::unique_ptr<Registration> addBackupPolicyController(runtime::Manager& manager, ControllerOptions options) {
  namespace res = kube::resources;
  auto reg = std::make_unique<Registration>();
  // Create every cache now (Manager::cache is not for use after run() starts).
  std::vector<std::pair<kube::ResourceRef, runtime::KindCache*>> caches;
  for (const auto& kind : childKinds()) caches.emplace_back(kind, &manager.cache(kind));
  runtime::KindCache& policies = manager.cache(res::kBackupPolicies);
  runtime::KindCache& databases = manager.cache(res::kServiceDatabases);
  caches.emplace_back(res::kBackupPolicies, &policies);
  caches.emplace_back(res::kServiceDatabases, &databases);
  auto find = [caches](const kube::ResourceRef& kind) -> const runtime::KindCache* {
    for (const auto& [ref, cache] : caches) {
      if (ref == kind) return cache;
    }
    return nullptr;
  };
  Readers readers;
  readers.get = [find](const kube::ResourceRef& kind, const std::string& ns, const std::string& name) {
    const runtime::KindCache* c = find(kind);
    return c ? c->get(ns, name) : nullptr;
  };
  readers.list = [find](const kube::ResourceRef& kind, const std::string& ns) {
    const runtime::KindCache* c = find(kind);
    return c ? c->list(ns) : std::vector<runtime::ObjectPtr>{};
  };
  if (!options.reconciler.events) options.reconciler.events = &manager.events();
  reg->reconciler = std::make_unique<BackupPolicyReconciler>(manager.client(), std::move(readers), options.reconciler);
  runtime::Controller& controller =
      manager.addController("backuppolicy", *reg->reconciler, res::kBackupPolicies, childKinds(), options.workers);

  auto recheck = [&policies, &controller](const runtime::ObjectPtr& sdb) {
    if (!sdb) return;
    const std::string ns = jsonString(*sdb, {"metadata", "namespace"});
    for (const auto& p : policies.list(ns)) controller.enqueue({ns, jsonString(*p, {"metadata", "name"})});
  };
  for (const auto& inf : databases.informers()) {
    runtime::InformerHandlers h;
    h.onAdd = recheck;
    h.onUpdate = [recheck](const runtime::ObjectPtr&, const runtime::ObjectPtr& now) { recheck(now); };
    h.onDelete = recheck;
    h.needsOldObject = false;
    inf->addHandlers(std::move(h));
  }
  return reg;
}

}  // namespace sdb::controllers::backuppolicy
