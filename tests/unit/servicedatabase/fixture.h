// Controller tests over the in-process client (the local cluster's store) and the FakeEngine.
//
// The store is real: every write goes through its validation, versions and watches, and its global
// resourceVersion counts API writes. The engine is engines::FakeEngine, reached through the real
// shared backends (postgres, redis and mongodb: admin Secret read, parsed and turned into a
// Session) by engine factories that hand out views of one FakeEngine, the "server" shared by every
// ServiceDatabase, and record the admin connection they were given.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <functional>

#include "controllers/servicedatabase/mongo_shared_backend.h"
#include "controllers/servicedatabase/postgres_shared_backend.h"
#include "controllers/servicedatabase/redis_shared_backend.h"
#include "controllers/servicedatabase/reconciler.h"
#include "operator/core/base64.h"
#include "operator/core/clock.h"
#include "operator/core/random.h"
#include "operator/engines/fake_engine.h"
#include "tests/unit/servicedatabase/test_client.h"
#include "operator/runtime/conditions.h"
#include "operator/runtime/event_recorder.h"
#include "operator/specs/credentials_secret.h"
#include "tests/unit/runtime/fixture.h"

namespace sdb::controllers::servicedatabase::testing {

namespace res = kube::resources;

class ControllerTest : public ::testing::Test {
 public:
  void SetUp() override { reset(); }
  void TearDown() override { destroy(); }

  // Everything fresh: store, clients, fake server, reconciler.
  void reset() {
    destroy();
    fake_ = engines::FakeEngine();
    kill_ = KillSwitch();
    store_ = runtime::testing::openStore();
    ASSERT_TRUE(store_);
    inproc_ = std::make_unique<apimachinery::InProcessKubeClient>(*store_);
    client_ = std::make_unique<TestClient>(*inproc_);
    ASSERT_TRUE(inproc_->create(res::kNamespaces, "", runtime::testing::nsObject("shop")).ok());
    ASSERT_TRUE(runtime::testing::installServicedbCrds(*inproc_));
    ASSERT_TRUE(inproc_->create(res::kSecrets, "shop", adminSecret()).ok());
    fake_.beforeCall = [this](const std::string&) -> std::optional<Error> {
      if (kill_.invariant) kill_.invariant();
      if (client_->kill && !kill_.step()) return Error(ErrorCode::kUnavailable, "injected: the process was killed");
      return std::nullopt;
    };
    makeReconciler();
  }

  void destroy() {
    reconciler_.reset();
    events_.reset();
    sdbReader_.reset();
    secretReader_.reset();
    backends_.reset();
    client_.reset();
    inproc_.reset();
    store_.reset();
  }

  // A fresh reconciler: the state of a restarted process (nothing remembered in memory).
  void makeReconciler(std::chrono::seconds recheck = std::chrono::seconds(0)) {
    reconciler_.reset();
    clock_.advance(std::chrono::seconds(1));  // a restart takes time (and Event names embed it)
    backends_ = std::make_unique<BackendRegistry>();
    PostgresSharedOptions po;
    po.engineFactory = [this](const engines::postgres::ConnectionOptions& admin) -> std::unique_ptr<engines::Engine> {
      lastAdmin_ = admin;
      return std::make_unique<FakeEngineView>(fake_);
    };
    backends_->add("postgres", "shared", std::make_unique<PostgresSharedBackend>(*client_, po));
    RedisSharedOptions ro2;
    ro2.engineFactory = [this](const engines::redis::EngineOptions& o) -> std::unique_ptr<engines::Engine> {
      lastRedis_ = o;
      return std::make_unique<FakeEngineView>(fake_);
    };
    backends_->add("redis", "shared", std::make_unique<RedisSharedBackend>(*client_, ro2));
    MongoSharedOptions mo;
    mo.engineFactory = [this](const engines::mongo::ConnectionOptions& o) -> std::unique_ptr<engines::Engine> {
      lastMongo_ = o;
      return std::make_unique<FakeEngineView>(fake_);
    };
    backends_->add("mongodb", "shared", std::make_unique<MongoSharedBackend>(*client_, mo));
    sdbReader_ = std::make_unique<LiveReader>(*inproc_, res::kServiceDatabases);
    secretReader_ = std::make_unique<LiveReader>(*inproc_, res::kSecrets);
    events_ = std::make_unique<runtime::EventRecorder>(*inproc_, runtime::EventRecorderOptions{}, clock_);
    ReconcilerOptions ro;
    ro.clock = &clock_;
    ro.random = &random_;
    ro.events = events_.get();
    ro.engineRecheckInterval = recheck;
    // The in-process store has no kubelet: pod logs come from podLogs_.
    ro.migrations.podLog = [this](const std::string&, const std::string& pod) -> kube::KResult<std::string> {
      auto it = podLogs_.find(pod);
      if (it == podLogs_.end()) return kube::notFoundError("pods", "", pod);
      return it->second;
    };
    reconciler_ = std::make_unique<ServiceDatabaseReconciler>(*client_, *sdbReader_, *secretReader_, *backends_, ro);
  }

  static Json adminSecret(const std::string& name = "pg-admin") {
    auto enc = [](const std::string& s) { return base64Encode(s); };
    return {{"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata", {{"name", name}, {"namespace", "shop"}}},
            {"data",
             {{"host", enc("pg.shared.internal")},
              {"port", enc("5432")},
              {"username", enc("sdb_admin")},
              {"password", enc("admin-pw")},
              {"ca.crt", enc("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")}}}};
  }

  static Json sharedSdb(const std::string& name = "orders") {
    return {{"apiVersion", "servicedb.io/v1alpha1"},
            {"kind", "ServiceDatabase"},
            {"metadata", {{"name", name}, {"namespace", "shop"}}},
            {"spec",
             {{"service", name},
              {"engine", "postgres"},
              {"mode", "shared"},
              {"sharedServer", {{"adminSecretRef", {{"name", "pg-admin"}}}}}}}};
  }

  Json create(const Json& sdb) {
    auto c = inproc_->create(res::kServiceDatabases, "shop", sdb);
    EXPECT_TRUE(c.ok()) << c.error().toString();
    return c.ok() ? *c : Json();
  }

  runtime::ReconcileResult reconcile(const std::string& name = "orders") {
    auto r = reconciler_->reconcile({"shop", name}, {"servicedatabase", "test"});
    events_->flush();
    return r;
  }

  Json get(const kube::ResourceRef& r, const std::string& name) {
    auto g = inproc_->get(r, "shop", name);
    return g.ok() ? *g : Json();
  }
  Json sdbObject(const std::string& name = "orders") { return get(res::kServiceDatabases, name); }
  std::map<std::string, std::string> secretData(const std::string& name) {
    return specs::secretData(get(res::kSecrets, name));
  }
  std::optional<runtime::Condition> condition(const std::string& type, const std::string& name = "orders") {
    Json o = sdbObject(name);
    return runtime::findCondition(o.contains("status") ? o["status"] : Json::object(), type);
  }
  // Events of `reason` about the object.
  std::vector<Json> events(const std::string& reason) {
    std::vector<Json> out;
    auto l = inproc_->list(res::kEvents, "shop");
    if (!l.ok()) return out;
    for (const auto& e : (*l)["items"]) {
      if (e.value("reason", "") == reason) out.push_back(e);
    }
    return out;
  }
  void patchSdb(const std::string& name, const Json& merge) {
    auto p = inproc_->patch(res::kServiceDatabases, "shop", name, kube::PatchType::kMerge, merge.dump());
    ASSERT_TRUE(p.ok()) << p.error().toString();
  }

  // Credentials consistency: for every slot, the password the (fake) server accepts is one the
  // Secret stores (current or pending). Holds at every instant of the rotation protocol.
  ::testing::AssertionResult serverAcceptsAStoredPassword(const std::string& name = "orders") {
    auto svc = fake_.services.find("shop/" + name);
    if (svc == fake_.services.end()) return ::testing::AssertionSuccess();  // nothing on the server yet
    for (const auto& [slot, pw] : svc->second.passwords) {
      std::string secretName = slot == "app" ? name + "-credentials" : name + "-" + slot + "-credentials";
      auto data = secretData(secretName);
      if (data["password"] != pw && data["pending-password"] != pw) {
        return ::testing::AssertionFailure() << "the server accepts a " << slot << " password that Secret "
                                             << secretName << " does not hold";
      }
    }
    return ::testing::AssertionSuccess();
  }

  FakeClock clock_{std::chrono::system_clock::time_point(std::chrono::hours(24 * 365 * 56))};
  SeededRandom random_{42};
  std::unique_ptr<apimachinery::Store> store_;
  std::unique_ptr<apimachinery::InProcessKubeClient> inproc_;
  std::unique_ptr<TestClient> client_;
  engines::FakeEngine fake_;
  KillSwitch kill_;
  engines::postgres::ConnectionOptions lastAdmin_;
  engines::redis::EngineOptions lastRedis_;
  engines::mongo::ConnectionOptions lastMongo_;
  std::unique_ptr<BackendRegistry> backends_;
  std::unique_ptr<LiveReader> sdbReader_, secretReader_;
  std::unique_ptr<runtime::EventRecorder> events_;
  std::unique_ptr<ServiceDatabaseReconciler> reconciler_;
  std::map<std::string, std::string> podLogs_;  // pod name -> its log
};

}  // namespace sdb::controllers::servicedatabase::testing
