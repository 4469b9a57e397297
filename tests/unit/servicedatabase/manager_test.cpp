// The ServiceDatabase controller inside the real runtime::Manager (informers, cache, workqueue,
// Event recorder) over the in-process store: two shared-mode ServiceDatabases become Ready, the
// other kinds keep the placeholder, and the steady state, across many informer resyncs that
// re-observe the server every time, writes nothing to the API and plans nothing on the server.
#include "controllers/placeholder/placeholder.h"
#include "controllers/servicedatabase/wiring.h"
#include "tests/unit/servicedatabase/fixture.h"

using namespace std::chrono_literals;
using namespace sdb;
using namespace sdb::controllers::servicedatabase;
using namespace sdb::controllers::servicedatabase::testing;
using runtime::testing::eventually;

namespace {

TEST_F(ControllerTest, ManagerReachesReadyThenResyncsWriteNothing) {
  runtime::ManagerOptions mo;
  mo.leaderElect = false;
  mo.metricsAddress = "0";
  mo.healthAddress = "0";
  mo.resyncPeriod = 200ms;
  mo.shutdownTimeout = 2s;
  runtime::Manager mgr(*client_, mo);
  ControllerOptions co;
  co.reconciler.engineRecheckInterval = 0s;  // observe the server on every resync
  co.postgresShared.engineFactory = [this](const engines::postgres::ConnectionOptions&) {
    return std::unique_ptr<engines::Engine>(new FakeEngineView(fake_));
  };
  auto registration = addServiceDatabaseController(mgr, std::move(co));
  auto placeholders = controllers::addPlaceholderControllers(mgr, {kube::resources::kBackupPolicies});

  create(sharedSdb("orders"));
  create(sharedSdb("payments"));
  Json dedicated = sharedSdb("cache");
  dedicated["spec"]["engine"] = "redis";
  dedicated["spec"]["mode"] = "dedicated";
  dedicated["spec"].erase("sharedServer");
  create(dedicated);
  Json bp = runtime::testing::loadExample("backuppolicy-pvc.yaml");
  ASSERT_TRUE(inproc_->create(kube::resources::kBackupPolicies, "shop", bp).ok());

  std::thread runner([&] { mgr.run(); });
  struct Join {
    runtime::Manager& m;
    std::thread& t;
    ~Join() {
      m.requestStop();
      if (t.joinable()) t.join();
    }
  } join{mgr, runner};

  ASSERT_TRUE(eventually(
      [&] {
        auto a = condition("Ready", "orders"), b = condition("Ready", "payments"), c = condition("Stalled", "cache");
        return a && a->status == "True" && b && b->status == "True" && c && c->status == "True";
      },
      10s));
  EXPECT_EQ(condition("Stalled", "cache")->reason, "NotImplemented");
  ASSERT_TRUE(eventually([&] {
    auto o = inproc_->get(kube::resources::kBackupPolicies, "shop", bp["metadata"]["name"]);
    return o.ok() && runtime::findCondition((*o)["status"], "Stalled").has_value();
  }));

  // Let the queue drain (our own writes re-trigger reconciles) and the Events reach the store.
  std::this_thread::sleep_for(600ms);
  const int64_t rv = store_->resourceVersion();
  const uint64_t engineRuns = registration->reconciler->engineRuns();
  const size_t calls = fake_.calls.size();
  std::this_thread::sleep_for(2s);  // about ten resyncs of every cached object
  EXPECT_EQ(store_->resourceVersion(), rv) << "the steady state wrote to the API";
  EXPECT_GE(registration->reconciler->engineRuns(), engineRuns + 10) << "resyncs re-observed the server";
  size_t nonEmpty = 0;
  for (size_t i = calls; i < fake_.calls.size(); ++i) {
    if (fake_.calls[i].rfind("reconcile", 0) != 0) ++nonEmpty;
  }
  EXPECT_EQ(nonEmpty, 0u) << "only observe+plan calls, no rotate/remove";
  EXPECT_EQ(fake_.services["shop/orders"].passwords["app"], secretData("orders-credentials")["password"]);
}

}  // namespace
