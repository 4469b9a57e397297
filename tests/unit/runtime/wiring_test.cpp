// `servicedb-operator run` wiring over the in-process client: operator namespace resolution; the
// ServiceDatabase and BackupPolicy controllers and the placeholders of the other kinds; and a SIGTERM delivered to the
// process ending the manager gracefully (exit 0, lease released).
// Its own binary: the signal flag is process-wide and stays set.
#include "operator/main/manager_wiring.h"

#include <csignal>
#include <cstdio>

#include "operator/runtime/conditions.h"
#include "tests/unit/runtime/fixture.h"

using namespace std::chrono_literals;
using namespace sdb;
using namespace sdb::runtime::testing;
namespace res = sdb::kube::resources;

TEST(Wiring, OperatorNamespaceFromFlagOrFile) {
  EXPECT_EQ(*cli::resolveOperatorNamespace("flagged", "/nonexistent"), "flagged");
  auto missing = cli::resolveOperatorNamespace("", "/nonexistent/namespace");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("--operator-namespace"), std::string::npos);
  char path[] = "/tmp/sdb-ns-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  (void)!write(fd, "ops\n", 4);
  close(fd);
  EXPECT_EQ(*cli::resolveOperatorNamespace("", path), "ops");
  std::remove(path);
}

TEST(Wiring, ServiceDatabaseControllerAndPlaceholdersThenSigtermShutsDownGracefully) {
  auto store = openStore();
  ASSERT_TRUE(store);
  apimachinery::InProcessKubeClient client(*store);
  ASSERT_TRUE(client.create(res::kNamespaces, "", nsObject("ops")).ok());
  ASSERT_TRUE(installServicedbCrds(client));
  // Every (engine, mode) pair has a backend now; spec.restore is what the controller still refuses.
  Json sdb = loadExample("servicedatabase-redis-dedicated.yaml");
  sdb["spec"]["restore"] = {{"fromBackup", {{"policy", "nightly"}}}};
  ASSERT_TRUE(client.create(res::kServiceDatabases, "ops", sdb).ok());
  ASSERT_TRUE(client.create(res::kBackupPolicies, "ops", loadExample("backuppolicy-pvc.yaml")).ok());
  Json orders = loadExample("servicedatabase-postgres-shared.yaml");
  orders["metadata"]["name"] = "orders";
  ASSERT_TRUE(client.create(res::kServiceDatabases, "ops", orders).ok());
  cli::RunOptions o;
  o.operatorImage = "registry.example/servicedb-operator:wired";
  o.operatorNamespace = "ops";
  o.metricsAddress = "127.0.0.1:0";
  o.healthAddress = "127.0.0.1:0";
  o.shutdownTimeoutSeconds = 5;
  int code = -1;
  std::thread runner([&] { code = cli::runManagerWith(client, o); });
  ASSERT_TRUE(eventually([&] {
    auto lease = client.get(res::kLeases, "ops", "servicedb-operator-leader");
    return lease.ok() && !jsonString(*lease, {"spec", "holderIdentity"}).empty();
  }));
  auto stalledMessage = [&](const kube::ResourceRef& r) {
    auto l = client.list(r, "ops");
    if (!l.ok() || (*l)["items"].empty()) return std::string();
    Json item = (*l)["items"][0];
    for (const auto& i : (*l)["items"]) {
      if (i["metadata"]["name"] == "sessions") item = i;  // the ServiceDatabase that is not implemented
    }
    auto c = runtime::findCondition(item.value("status", Json::object()), "Stalled");
    return c && c->status == "True" ? c->reason + ": " + c->message : std::string();
  };
  // The real ServiceDatabase controller says what it does not implement; the placeholder says the kind is not.
  ASSERT_TRUE(eventually([&] { return !stalledMessage(res::kServiceDatabases).empty(); }));
  EXPECT_NE(stalledMessage(res::kServiceDatabases).find("NotImplemented: spec.restore"), std::string::npos)
      << stalledMessage(res::kServiceDatabases);
  // The BackupPolicy controller schedules the listed target's backups in the image of --operator-image.
  ASSERT_TRUE(eventually([&] {
    auto c = client.get(res::kCronJobs, "ops", "orders-backup-nightly");
    return c.ok() && (*c)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"] ==
                         "registry.example/servicedb-operator:wired";
  }));
  ASSERT_TRUE(eventually([&] {
    auto p = client.get(res::kBackupPolicies, "ops", "nightly");
    return p.ok() && runtime::isConditionTrue(p->value("status", Json::object()), "Ready");
  }));
  ASSERT_TRUE(client.create(res::kReadReplicas, "ops", loadExample("readreplica.yaml")).ok());
  ASSERT_TRUE(eventually([&] { return !stalledMessage(res::kReadReplicas).empty(); }));
  EXPECT_NE(stalledMessage(res::kReadReplicas).find("ReadReplica controller is not implemented"), std::string::npos)
      << stalledMessage(res::kReadReplicas);
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  runner.join();
  EXPECT_EQ(code, 0);
  auto lease = client.get(res::kLeases, "ops", "servicedb-operator-leader");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "");
  EXPECT_EQ((*lease)["spec"]["leaseDurationSeconds"], 1);
}
