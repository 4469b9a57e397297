// The manager over the in-process client: the placeholder controller reports NotImplemented once,
// /readyz follows cache sync, /metrics carries the reconcile counters, shutdown returns 0, and Secret
// data never reaches the logs even at trace level.
#include "operator/runtime/manager.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include <spdlog/sinks/ostream_sink.h>

#include "controllers/placeholder/placeholder.h"
#include "operator/core/log.h"
#include "operator/runtime/conditions.h"
#include "tests/unit/runtime/fixture.h"

using namespace std::chrono_literals;
using namespace sdb;
using namespace sdb::runtime;
using namespace sdb::runtime::testing;
namespace res = sdb::kube::resources;

namespace {

std::string httpGet(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  (void)!::write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = openStore();
    ASSERT_TRUE(store_);
    client_ = std::make_unique<apimachinery::InProcessKubeClient>(*store_);
    ASSERT_TRUE(client_->create(res::kNamespaces, "", nsObject("shop")).ok());
    ASSERT_TRUE(installServicedbCrds(*client_));
  }
  ManagerOptions options() {
    ManagerOptions o;
    o.metricsAddress = "127.0.0.1:0";
    o.healthAddress = "127.0.0.1:0";
    o.leaderElection.leaseNamespace = "shop";
    o.leaderElection.identity = "test-replica";
    o.shutdownTimeout = 2s;
    return o;
  }
  std::unique_ptr<apimachinery::Store> store_;
  std::unique_ptr<apimachinery::InProcessKubeClient> client_;
};

}  // namespace

TEST_F(ManagerTest, PlaceholderReportsNotImplementedOnceAndServesMetrics) {
  Json sdb = loadExample("servicedatabase-postgres-dedicated.yaml");
  auto created = client_->create(res::kServiceDatabases, "shop", sdb);
  ASSERT_TRUE(created.ok()) << created.error().toString();
  std::string name = jsonString(*created, {"metadata", "name"});

  Manager mgr(*client_, options());
  auto reconcilers = controllers::addPlaceholderControllers(mgr);
  int code = -1;
  std::thread runner([&] { code = mgr.run(); });
  struct Join {
    Manager& m;
    std::thread& t;
    ~Join() {
      m.requestStop();
      if (t.joinable()) t.join();
    }
  } join{mgr, runner};
  ASSERT_TRUE(eventually([&] { return mgr.healthPort() > 0 && mgr.ready(); }));
  EXPECT_EQ(httpGet(mgr.healthPort(), "/readyz").rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(httpGet(mgr.healthPort(), "/healthz").rfind("HTTP/1.1 200", 0), 0u);
  ASSERT_TRUE(eventually([&] { return mgr.isLeader(); })) << "a single replica acquires the lease";

  Json status;
  ASSERT_TRUE(eventually([&] {
    auto o = client_->get(res::kServiceDatabases, "shop", name);
    if (!o.ok() || !o->contains("status")) return false;
    status = (*o)["status"];
    return findCondition(status, "Stalled").has_value();
  }));
  auto stalled = findCondition(status, "Stalled");
  EXPECT_EQ(stalled->status, "True");
  EXPECT_EQ(stalled->reason, "NotImplemented");
  EXPECT_EQ(findCondition(status, "Ready")->status, "False");
  EXPECT_EQ(findCondition(status, "Reconciling")->status, "False");
  EXPECT_EQ(status["observedGeneration"], (*created)["metadata"]["generation"]);
  EXPECT_EQ(stalled->observedGeneration, (*created)["metadata"]["generation"].get<int64_t>());

  // A label change re-triggers a reconcile, which must not write status again.
  auto cur = *client_->get(res::kServiceDatabases, "shop", name);
  cur["metadata"]["labels"]["touched"] = "1";
  ASSERT_TRUE(client_->update(res::kServiceDatabases, "shop", cur).ok());
  std::string metrics;
  ASSERT_TRUE(eventually([&] {
    metrics = httpGet(mgr.metricsPort(), "/metrics");
    std::string key = "controller_runtime_reconcile_total{controller=\"servicedatabase\",result=\"success\"} ";
    auto at = metrics.find(key);
    // The first reconcile wrote status; the status write and the label change each re-trigger one
    // (the queue may merge them).
    return at != std::string::npos && std::stod(metrics.substr(at + key.size())) >= 2 && mgr.ready() &&
           reconcilers[0]->writes() >= 1;
  })) << metrics;
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(reconcilers[0]->writes(), 1u) << "status is written once, a no-op thereafter";
  EXPECT_NE(metrics.find("leader_election_master_status{name=\"servicedb-operator-leader\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("workqueue_adds_total{name=\"servicedatabase\"}"), std::string::npos);
  EXPECT_NE(metrics.find("rest_client_requests_total{code=\"200\",host=\"kubernetes\",method=\"PUT\"}"),
            std::string::npos)
      << "the status write and lease renewals are counted";
  EXPECT_NE(metrics.find("rest_client_requests_total{code=\"200\",host=\"kubernetes\",method=\"GET\"}"),
            std::string::npos);

  // The Warning event was recorded.
  ASSERT_TRUE(eventually([&] {
    auto evs = client_->list(res::kEvents, "shop");
    return evs.ok() && !(*evs)["items"].empty() && (*evs)["items"][0]["reason"] == "NotImplemented";
  }));

  mgr.requestStop();
  runner.join();
  EXPECT_EQ(code, 0);
  auto lease = client_->get(res::kLeases, "shop", "servicedb-operator-leader");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "") << "the lease is released on shutdown";
}

TEST_F(ManagerTest, SecretDataNeverReachesLogs) {
  // Capture every log line at trace level in the JSON format the binary uses.
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  ASSERT_TRUE(setupLogging({"trace", "json"}).ok());
  auto logger = spdlog::default_logger();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  logger->sinks().push_back(sink);
  ASSERT_TRUE(setupLogging({"trace", "json"}).ok());  // again, so our sink gets the JSON formatter too

  SeededRandom random(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::string secretValue = *random.string(32, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
  Json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "orders-admin"}, {"namespace", "shop"}, {"labels", {{kManagedByLabel, kManagedByValue}}}}},
                 {"stringData", {{"password", secretValue}}}};
  ASSERT_TRUE(client_->create(res::kSecrets, "shop", secret).ok());

  struct SecretReader : Reconciler {
    kube::KubeClient* client;
    KindCache* secrets;
    std::atomic<int> calls{0};
    ReconcileResult reconcile(const Request& r, const ReconcileContext&) override {
      auto cached = secrets->get(r.ns, r.name);
      auto fresh = client->get(res::kSecrets, r.ns, r.name);  // the uncached read of a user-named Secret
      if (!cached || !fresh.ok()) return ReconcileResult::retry("secret " + r.name + " not readable");
      if (calls++ == 0) return ReconcileResult::retry("secret " + r.name + " is not usable yet");
      return ReconcileResult::ok();
    }
  } reader;
  reader.client = client_.get();
  auto o = options();
  o.leaderElect = false;
  {
    Manager mgr(*client_, o);
    reader.secrets = &mgr.cache(res::kSecrets);
    mgr.addController("secretreader", reader, res::kSecrets);
    std::thread runner([&] { (void)mgr.run(); });
    struct Join {
      Manager& m;
      std::thread& t;
      ~Join() {
        m.requestStop();
        if (t.joinable()) t.join();
      }
    } join{mgr, runner};
    ASSERT_TRUE(eventually([&] { return reader.calls.load() >= 2; }));
    mgr.requestStop();
    runner.join();
  }
  logger->sinks().pop_back();
  spdlog::set_default_logger(previous);
  std::string logs = captured.str();
  EXPECT_NE(logs.find("orders-admin"), std::string::npos) << "the capture works: the Secret's name is logged";
  EXPECT_NE(logs.find("\"reconcileID\""), std::string::npos);
  EXPECT_NE(logs.find("\"controller\":\"secretreader\""), std::string::npos);
  EXPECT_EQ(logs.find(secretValue), std::string::npos) << "Secret data leaked into the logs";
  // Nor its base64 form (how the API stores it in .data).
  static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string enc;
  for (size_t i = 0; i + 2 < secretValue.size(); i += 3) {
    uint32_t v = (uint8_t(secretValue[i]) << 16) | (uint8_t(secretValue[i + 1]) << 8) | uint8_t(secretValue[i + 2]);
    for (int k = 3; k >= 0; --k) enc += b64[(v >> (6 * k)) & 63];
  }
  EXPECT_EQ(logs.find(enc.substr(0, 24)), std::string::npos) << "base64 Secret data leaked into the logs";
}

TEST_F(ManagerTest, LostLeadershipFencesWritesAndExitsOne) {
  GatedClient gated(*client_);
  ManagerOptions o = options();
  o.leaderElection.leaseDuration = 3s;
  o.leaderElection.renewDeadline = 2s;
  o.leaderElection.retryPeriod = 200ms;
  Manager mgr(gated, o);
  auto reconcilers = controllers::addPlaceholderControllers(mgr);
  int code = -1;
  std::thread runner([&] { code = mgr.run(); });
  ASSERT_TRUE(eventually([&] { return mgr.isLeader(); }));
  ASSERT_TRUE(mgr.client().create(res::kConfigMaps, "shop", {{"metadata", {{"name", "before"}}}}).ok());
  gated.refuseWrites = true;  // lease renewals time out from now on
  runner.join();
  EXPECT_EQ(code, 1) << "a replica that lost leadership exits so it restarts as a standby";
  auto after = mgr.client().create(res::kConfigMaps, "shop", {{"metadata", {{"name", "after"}}}});
  ASSERT_FALSE(after.ok()) << "writes are fenced once leadership is lost";
  EXPECT_NE(after.error().message.find("fenced"), std::string::npos);
  EXPECT_TRUE(client_->get(res::kConfigMaps, "shop", "after").error().is(kube::ApiErrorReason::kNotFound));
  EXPECT_TRUE(mgr.client().get(res::kConfigMaps, "shop", "before").ok()) << "reads still pass";
}

// --watch-namespaces: with watchNamespaces={"a"} only a's objects are cached and reconciled; b's are
// neither, even when they change. Cluster-scoped kinds stay cluster-wide.
TEST_F(ManagerTest, WatchNamespacesLimitsCacheAndReconciles) {
  for (auto ns : {"a", "b"}) ASSERT_TRUE(client_->create(res::kNamespaces, "", nsObject(ns)).ok());
  // ConfigMaps are informed with the managed-by label only (like Secrets): ours carry it.
  auto cm = [](const std::string& ns, const std::string& name) {
    return Json{{"apiVersion", "v1"},
                {"kind", "ConfigMap"},
                {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"app.kubernetes.io/managed-by", "servicedb-operator"}}}}}};
  };
  Json unlabelled = cm("a", "users-own");
  unlabelled["metadata"].erase("labels");
  ASSERT_TRUE(client_->create(res::kConfigMaps, "a", unlabelled).ok());
  ASSERT_TRUE(client_->create(res::kConfigMaps, "a", cm("a", "in-a")).ok());
  ASSERT_TRUE(client_->create(res::kConfigMaps, "b", cm("b", "in-b")).ok());

  struct Recording : Reconciler {
    std::mutex mu;
    std::set<std::string> keys;
    ReconcileResult reconcile(const Request& r, const ReconcileContext&) override {
      std::lock_guard<std::mutex> lock(mu);
      keys.insert(r.key());
      return ReconcileResult::ok();
    }
    bool has(const std::string& k) {
      std::lock_guard<std::mutex> lock(mu);
      return keys.count(k) > 0;
    }
    std::set<std::string> seen() {
      std::lock_guard<std::mutex> lock(mu);
      return keys;
    }
  } rec;
  auto o = options();
  o.leaderElect = false;
  o.watchNamespaces = {"a"};
  Manager mgr(*client_, o);
  KindCache& cms = mgr.cache(res::kConfigMaps);
  KindCache& namespaces = mgr.cache(res::kNamespaces);
  mgr.addController("configmaps", rec, res::kConfigMaps);
  std::thread runner([&] { (void)mgr.run(); });
  struct Join {
    Manager& m;
    std::thread& t;
    ~Join() {
      m.requestStop();
      if (t.joinable()) t.join();
    }
  } join{mgr, runner};
  ASSERT_TRUE(eventually([&] { return mgr.ready() && rec.has("a/in-a"); }));
  EXPECT_EQ(cms.informers().size(), 1u) << "one informer, for namespace a";
  EXPECT_TRUE(cms.get("a", "in-a"));
  EXPECT_FALSE(cms.get("b", "in-b")) << "b is not watched";
  EXPECT_FALSE(cms.get("a", "users-own")) << "a ConfigMap without the managed-by label is not cached";
  EXPECT_TRUE(cms.list("b").empty());
  EXPECT_EQ(namespaces.informers().size(), 1u);
  EXPECT_TRUE(namespaces.get("", "b")) << "cluster-scoped kinds are informed cluster-wide";

  // Changes after start: a's are seen, b's are not. b's change is made first, so once a's change has
  // been reconciled, b's would have been too had it been watched.
  auto inB = *client_->get(res::kConfigMaps, "b", "in-b");
  inB["data"] = {{"k", "changed"}};
  ASSERT_TRUE(client_->update(res::kConfigMaps, "b", inB).ok());
  ASSERT_TRUE(client_->create(res::kConfigMaps, "b", cm("b", "late-b")).ok());
  ASSERT_TRUE(client_->create(res::kConfigMaps, "a", cm("a", "late-a")).ok());
  ASSERT_TRUE(eventually([&] { return rec.has("a/late-a"); }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(rec.seen(), (std::set<std::string>{"a/in-a", "a/late-a"}));
  EXPECT_FALSE(cms.get("b", "late-b"));
  for (const auto& obj : cms.list()) EXPECT_EQ(jsonString(*obj, {"metadata", "namespace"}), "a");
}

// The BackupPolicy's children (CronJobs, ServiceAccounts, Roles, RoleBindings) are cached with the
// managed-by label only, like Secrets: a cluster's own CronJobs and accounts never fill our memory.
TEST_F(ManagerTest, BackupChildKindsAreCachedWithTheManagedByLabelOnly) {
  const kube::ResourceRef roles{"rbac.authorization.k8s.io", "v1", "roles", "Role", true};
  const kube::ResourceRef bindings{"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true};
  auto meta = [](const std::string& name, bool ours) {
    Json m = {{"name", name}, {"namespace", "shop"}};
    if (ours) m["labels"] = {{"app.kubernetes.io/managed-by", "servicedb-operator"}};
    return m;
  };
  for (bool ours : {true, false}) {
    const std::string n = ours ? "ours" : "theirs";
    ASSERT_TRUE(client_->create(res::kServiceAccounts, "shop", {{"metadata", meta(n, ours)}}).ok());
    ASSERT_TRUE(client_->create(roles, "shop", {{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "Role"},
                                                {"metadata", meta(n, ours)}, {"rules", Json::array()}}).ok());
    ASSERT_TRUE(client_->create(bindings, "shop",
                                {{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "RoleBinding"},
                                 {"metadata", meta(n, ours)},
                                 {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", n}}},
                                 {"subjects", Json::array()}}).ok());
    Json container = {{"name", "c"}, {"image", "busybox"}};
    Json pod = {{"restartPolicy", "Never"}, {"containers", Json::array({container})}};
    Json cron = {{"apiVersion", "batch/v1"}, {"kind", "CronJob"}, {"metadata", meta(n, ours)}};
    cron["spec"]["schedule"] = "0 2 * * *";
    cron["spec"]["jobTemplate"]["spec"]["template"]["spec"] = pod;
    auto c = client_->create(res::kCronJobs, "shop", cron);
    ASSERT_TRUE(c.ok()) << c.error().toString();
  }
  auto o = options();
  o.leaderElect = false;
  Manager mgr(*client_, o);
  std::vector<KindCache*> caches = {&mgr.cache(res::kCronJobs), &mgr.cache(res::kServiceAccounts), &mgr.cache(roles),
                                    &mgr.cache(bindings)};
  std::thread runner([&] { (void)mgr.run(); });
  struct Join {
    Manager& m;
    std::thread& t;
    ~Join() {
      m.requestStop();
      if (t.joinable()) t.join();
    }
  } join{mgr, runner};
  ASSERT_TRUE(eventually([&] { return mgr.ready(); }));
  for (KindCache* c : caches) {
    EXPECT_TRUE(c->get("shop", "ours"));
    EXPECT_FALSE(c->get("shop", "theirs"));
  }
}
