// servicedatabase_crash_runner: the ServiceDatabase controller as a process of its own, for the
// kill -9 test (crash_test.cpp). It opens the local cluster's store from a data directory (a
// write-ahead log that survives kill -9), reconciles one ServiceDatabase against the real
// PostgreSQL named by its admin Secret, and exits 0 when it is Ready.
//
//   servicedatabase_crash_runner --store DIR --namespace NS --name NAME [--stop-after N]
//
// With --stop-after N, the process stops itself (SIGSTOP) right after its N-th write, counting API
// writes (creates, updates, patches, deletes, Events included) and SQL writes (every action the
// engine executes) in the order they happen; the test then kills it with SIGKILL. On exit it prints
// "writes=<count>".
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "controllers/servicedatabase/postgres_shared_backend.h"
#include "controllers/servicedatabase/reconciler.h"
#include "e2e/apimachinery/store.h"
#include "e2e/apimachinery_client/inprocess_client.h"
#include "operator/core/log.h"
#include "operator/engines/postgres/postgres_engine.h"
#include "operator/runtime/conditions.h"
#include "operator/runtime/event_recorder.h"

using namespace sdb;
using namespace sdb::controllers::servicedatabase;

namespace {

long gStopAfter = 0;
long gWrites = 0;

void wrote(const std::string& what) {
  ++gWrites;
  if (gStopAfter > 0 && gWrites == gStopAfter) {
    std::printf("stopped after write %ld: %s\n", gWrites, what.c_str());
    std::fflush(stdout);
    std::raise(SIGSTOP);  // the test sends SIGKILL now
  }
}

// Counts API writes after they succeeded (the server has them).
class CountingClient final : public kube::KubeClient {
 public:
  explicit CountingClient(kube::KubeClient& inner) : inner_(inner) {}
  kube::KResult<Json> get(const kube::ResourceRef& r, const std::string& ns, const std::string& n,
                          const std::string& s = "") override {
    return inner_.get(r, ns, n, s);
  }
  kube::KResult<Json> list(const kube::ResourceRef& r, const std::string& ns, const kube::ListOptions& o = {}) override {
    return inner_.list(r, ns, o);
  }
  kube::KResult<std::unique_ptr<kube::WatchStream>> watch(const kube::ResourceRef& r, const std::string& ns,
                                                          const kube::WatchOptions& o = {}) override {
    return inner_.watch(r, ns, o);
  }
  kube::KResult<Json> create(const kube::ResourceRef& r, const std::string& ns, const Json& obj,
                             const kube::WriteOptions& o = {}, const std::string& n = "",
                             const std::string& s = "") override {
    return after(inner_.create(r, ns, obj, o, n, s), "create " + r.resource);
  }
  kube::KResult<Json> update(const kube::ResourceRef& r, const std::string& ns, const Json& obj,
                             const kube::WriteOptions& o = {}, const std::string& s = "") override {
    return after(inner_.update(r, ns, obj, o, s), "update " + r.resource + (s.empty() ? "" : "/" + s));
  }
  kube::KResult<Json> patch(const kube::ResourceRef& r, const std::string& ns, const std::string& n, kube::PatchType t,
                            const std::string& b, const kube::PatchOptions& o = {}, const std::string& s = "") override {
    return after(inner_.patch(r, ns, n, t, b, o, s), "patch " + r.resource + " " + n);
  }
  kube::KResult<Json> remove(const kube::ResourceRef& r, const std::string& ns, const std::string& n,
                             const kube::DeleteOptions& o = {}) override {
    return after(inner_.remove(r, ns, n, o), "delete " + r.resource + " " + n);
  }

 private:
  kube::KResult<Json> after(kube::KResult<Json> r, const std::string& what) {
    if (r.ok()) wrote("API " + what);
    return r;
  }
  kube::KubeClient& inner_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string dir, ns, name;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--store") dir = argv[i + 1];
    else if (flag == "--namespace") ns = argv[i + 1];
    else if (flag == "--name") name = argv[i + 1];
    else if (flag == "--stop-after") gStopAfter = std::atol(argv[i + 1]);
  }
  if (dir.empty() || ns.empty() || name.empty()) {
    std::fprintf(stderr, "usage: %s --store DIR --namespace NS --name NAME [--stop-after N]\n", argv[0]);
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  apimachinery::StoreOptions so;
  so.dataDir = dir;
  auto store = apimachinery::Store::open(so);
  if (!store.ok()) {
    std::fprintf(stderr, "opening the store: %s\n", store.error().toString().c_str());
    return 1;
  }
  apimachinery::InProcessKubeClient inproc(**store);
  CountingClient client(inproc);

  BackendRegistry backends;
  PostgresSharedOptions po;
  po.engineFactory = [](const engines::postgres::ConnectionOptions& admin) -> std::unique_ptr<engines::Engine> {
    auto e = std::make_unique<engines::postgres::PostgresEngine>(admin, engines::postgres::Mode::kShared);
    e->setAfterWriteHook([](const std::string& what) { wrote("SQL " + what); });
    return e;
  };
  backends.add("postgres", "shared", std::make_unique<PostgresSharedBackend>(client, po));
  LiveReader sdbs(inproc, kube::resources::kServiceDatabases), secrets(inproc, kube::resources::kSecrets);
  runtime::EventRecorder events(client, {});
  ReconcilerOptions ro;
  ro.events = &events;
  ro.engineRecheckInterval = std::chrono::seconds(0);
  ServiceDatabaseReconciler reconciler(client, sdbs, secrets, backends, ro);

  for (int attempt = 0; attempt < 8; ++attempt) {
    auto r = reconciler.reconcile({ns, name}, {"servicedatabase", "crash-runner"});
    events.flush();
    auto obj = inproc.get(kube::resources::kServiceDatabases, ns, name);
    bool ready = obj.ok() && runtime::isConditionTrue((*obj)["status"], "Ready");
    bool gone = !obj.ok();
    if (r.kind != runtime::ReconcileResult::Kind::kRetry && (ready || gone)) {
      std::printf("writes=%ld\n", gWrites);
      return 0;
    }
    if (r.kind == runtime::ReconcileResult::Kind::kRetry) std::fprintf(stderr, "retry: %s\n", r.error.c_str());
  }
  std::printf("not converged; writes=%ld\n", gWrites);
  return 1;
}
