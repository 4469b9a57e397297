// `servicedb-operator run` wiring over the in-process client: operator namespace resolution; the
// ServiceDatabase controller and the placeholders of the other kinds; and a SIGTERM delivered to the
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
  ASSERT_TRUE(client.create(res::kServiceDatabases, "ops", loadExample("servicedatabase-redis-dedicated.yaml")).ok());
  ASSERT_TRUE(client.create(res::kBackupPolicies, "ops", loadExample("backuppolicy-pvc.yaml")).ok());
  cli::RunOptions o;
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
    auto c = runtime::findCondition((*l)["items"][0].value("status", Json::object()), "Stalled");
    return c && c->status == "True" ? c->reason + ": " + c->message : std::string();
  };
  // The real ServiceDatabase controller says what is implemented; the placeholder says the kind is not.
  ASSERT_TRUE(eventually([&] { return !stalledMessage(res::kServiceDatabases).empty(); }));
  EXPECT_NE(stalledMessage(res::kServiceDatabases).find(
                "implemented: mongodb (dedicated), mongodb (shared), postgres (dedicated), postgres (shared), redis (shared)"), std::string::npos)
      << stalledMessage(res::kServiceDatabases);
  ASSERT_TRUE(eventually([&] { return !stalledMessage(res::kBackupPolicies).empty(); }));
  EXPECT_NE(stalledMessage(res::kBackupPolicies).find("BackupPolicy controller is not implemented"), std::string::npos)
      << stalledMessage(res::kBackupPolicies);
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  runner.join();
  EXPECT_EQ(code, 0);
  auto lease = client.get(res::kLeases, "ops", "servicedb-operator-leader");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "");
  EXPECT_EQ((*lease)["spec"]["leaseDurationSeconds"], 1);
}
