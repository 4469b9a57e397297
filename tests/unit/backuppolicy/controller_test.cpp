// The BackupPolicy controller over the in-process store (the local cluster's store: validation,
// versions, owner references, server-side apply with managedFields) and a fake clock: per-target
// children, the steady state without writes, the Job's report folded into status, BackupHealthy
// turning when the last success ages past twice the interval, targets leaving, conflicts, foreign
// objects, drift, bad specs; and inside the real runtime::Manager, a report patched the way the Job
// does it moving status through the ConfigMap watch.
#include <gtest/gtest.h>

#include <thread>

#include "controllers/backuppolicy/reconciler.h"
#include "controllers/backuppolicy/wiring.h"
#include "e2e/apimachinery_client/inprocess_client.h"
#include "operator/runtime/conditions.h"
#include "tests/unit/runtime/fixture.h"

namespace sdb::controllers::backuppolicy {
namespace {

namespace res = kube::resources;
using namespace std::chrono_literals;

Json sdbObject(const std::string& name, Json labels = Json::object(), Json extra = Json::object()) {
  Json spec = {{"service", name},
               {"engine", "postgres"},
               {"mode", "shared"},
               {"sharedServer", {{"adminSecretRef", {{"name", "pg-admin"}}}}}};
  spec.update(extra);
  return {{"apiVersion", "servicedb.io/v1alpha1"},
          {"kind", "ServiceDatabase"},
          {"metadata", {{"name", name}, {"namespace", "shop"}, {"labels", labels}}},
          {"spec", spec}};
}

Json policyObject(Json targets, const std::string& schedule = "0 2 * * *") {
  return {{"apiVersion", "servicedb.io/v1alpha1"},
          {"kind", "BackupPolicy"},
          {"metadata", {{"name", "nightly"}, {"namespace", "shop"}}},
          {"spec",
           {{"targets", targets},
            {"schedule", schedule},
            {"encryption", {{"keySecretRef", {{"name", "backup-keys"}}}}},
            {"destination", {{"pvc", {{"claimName", "backups"}}}}}}}};
}

// What `servicedb-operator backup --report-configmap` writes (operator/main/backup_job_flags.cpp).
std::string run(const std::string& time, const std::string& id, const std::string& result) {
  return Json{{"time", time}, {"id", id}, {"result", result}, {"sizeBytes", 4096}, {"durationSeconds", 1.5}}.dump();
}

class BackupPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = runtime::testing::openStore();
    ASSERT_TRUE(store_);
    client_ = std::make_unique<apimachinery::InProcessKubeClient>(*store_);
    ASSERT_TRUE(client_->create(res::kNamespaces, "", runtime::testing::nsObject("shop")).ok());
    ASSERT_TRUE(runtime::testing::installServicedbCrds(*client_));
    makeReconciler();
  }

  void makeReconciler() {
    Readers r;
    r.get = [this](const kube::ResourceRef& kind, const std::string& ns, const std::string& name) -> runtime::ObjectPtr {
      auto g = client_->get(kind, ns, name);
      return g.ok() ? std::make_shared<const Json>(*g) : nullptr;
    };
    r.list = [this](const kube::ResourceRef& kind, const std::string& ns) {
      std::vector<runtime::ObjectPtr> out;
      if (auto l = client_->list(kind, ns); l.ok()) {
        for (const auto& o : (*l)["items"]) out.push_back(std::make_shared<const Json>(o));
      }
      return out;
    };
    ReconcilerOptions o;
    o.clock = &clock_;
    o.job.operatorImage = "registry.example/servicedb-operator:test";
    reconciler_ = std::make_unique<BackupPolicyReconciler>(*client_, r, o);
  }

  void create(const kube::ResourceRef& kind, const Json& obj) {
    auto c = client_->create(kind, "shop", obj);
    ASSERT_TRUE(c.ok()) << c.error().toString();
  }
  runtime::ReconcileResult reconcile() { return reconciler_->reconcile({"shop", "nightly"}, {"backuppolicy", "t"}); }
  Json get(const kube::ResourceRef& kind, const std::string& name) {
    auto g = client_->get(kind, "shop", name);
    return g.ok() ? *g : Json();
  }
  Json status() { return get(res::kBackupPolicies, "nightly").value("status", Json::object()); }
  std::optional<runtime::Condition> condition(const std::string& type) { return runtime::findCondition(status(), type); }
  void patchReport(const std::string& name, Json data) {
    kube::PatchOptions o;
    o.fieldManager = "servicedb-backup";
    auto p = client_->patch(res::kConfigMaps, "shop", name, kube::PatchType::kMerge, Json{{"data", data}}.dump(), o);
    ASSERT_TRUE(p.ok()) << p.error().toString();
  }

  FakeClock clock_{std::chrono::system_clock::now()};
  std::unique_ptr<apimachinery::Store> store_;
  std::unique_ptr<apimachinery::InProcessKubeClient> client_;
  std::unique_ptr<BackupPolicyReconciler> reconciler_;
};

TEST_F(BackupPolicyTest, AppliesTheChildrenOfEachTargetOwnedByThePolicyThenWritesNothing) {
  create(res::kServiceDatabases, sdbObject("orders"));
  create(res::kServiceDatabases, sdbObject("payments"));
  create(res::kBackupPolicies, policyObject({{"names", {"orders"}}}));
  auto r = reconcile();
  EXPECT_EQ(r.kind, runtime::ReconcileResult::Kind::kRequeueAfter);
  EXPECT_NEAR(std::chrono::duration_cast<std::chrono::seconds>(r.after).count(), 2 * 24 * 3600, 5)
      << "a new target turns overdue two daily intervals after its CronJob appeared";
  const std::string uid = jsonString(get(res::kBackupPolicies, "nightly"), {"metadata", "uid"});
  for (const auto& kind : childKinds()) {
    Json child = get(kind, "orders-backup-nightly");
    ASSERT_FALSE(child.is_null()) << kind.kind;
    EXPECT_EQ(child["metadata"]["ownerReferences"][0]["uid"], uid) << kind.kind;
    EXPECT_EQ(child["metadata"]["ownerReferences"][0]["controller"], true) << kind.kind;
    EXPECT_EQ(child["metadata"]["labels"]["servicedb.io/component"], "backup") << kind.kind;
    EXPECT_TRUE(get(kind, "payments-backup-nightly").is_null()) << "payments is not a target: " << kind.kind;
  }
  Json cron = get(res::kCronJobs, "orders-backup-nightly");
  EXPECT_EQ(cron["spec"]["schedule"], "0 2 * * *");
  EXPECT_EQ(cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"],
            "registry.example/servicedb-operator:test");
  EXPECT_EQ(condition("Ready")->status, "True");
  EXPECT_EQ(condition("Ready")->reason, "Scheduled");
  EXPECT_EQ(condition("Stalled")->status, "False");
  EXPECT_EQ(condition("BackupHealthy")->status, "True");
  EXPECT_EQ(condition("TargetConflict")->status, "False");
  EXPECT_EQ(status()["targetCount"], 1);
  EXPECT_EQ(status()["targets"], Json::array({{{"name", "orders"}}}));
  EXPECT_EQ(status()["destination"], "pvc/backups");

  const int64_t rv = store_->resourceVersion();
  const uint64_t writes = reconciler_->childWrites() + reconciler_->statusWrites();
  reconcile();
  reconcile();
  EXPECT_EQ(store_->resourceVersion(), rv) << "the steady state wrote to the API";
  EXPECT_EQ(reconciler_->childWrites() + reconciler_->statusWrites(), writes);
}

TEST_F(BackupPolicyTest, TheJobsReportFoldsIntoStatusAndBackupHealthyTurnsAfterTwoIntervals) {
  create(res::kServiceDatabases, sdbObject("orders"));
  create(res::kBackupPolicies, policyObject({{"names", {"orders"}}}, "0 */6 * * *"));
  reconcile();
  const std::string ok = formatRfc3339(clock_.now());
  patchReport("orders-backup-nightly",
              {{"lastAttempt", run(ok, "20261206T020000Z-a1", "Succeeded")},
               {"lastSuccess", run(ok, "20261206T020000Z-a1", "Succeeded")},
               {"kept", "3"}});
  clock_.advance(1h);
  auto r = reconcile();
  Json t = status()["targets"][0];
  EXPECT_EQ(t["lastSuccess"]["id"], "20261206T020000Z-a1");
  EXPECT_EQ(t["lastSuccess"]["sizeBytes"], 4096);
  EXPECT_EQ(t["lastSuccess"]["durationSeconds"], 1.5);
  EXPECT_EQ(t["lastAttempt"]["result"], "Succeeded");
  EXPECT_EQ(t["kept"], 3);
  EXPECT_EQ(condition("BackupHealthy")->status, "True");
  ASSERT_EQ(r.kind, runtime::ReconcileResult::Kind::kRequeueAfter);
  EXPECT_NEAR(std::chrono::duration_cast<std::chrono::seconds>(r.after).count(), 11 * 3600, 1)
      << "requeued for the moment the success is twice the six-hour interval old";
  EXPECT_EQ(get(res::kConfigMaps, "orders-backup-nightly")["data"]["kept"], "3")
      << "the controller's apply leaves the Job's data alone";

  // A failed attempt shows, and the success stays what it was.
  patchReport("orders-backup-nightly", {{"lastAttempt", run(formatRfc3339(clock_.now()), "", "Failed")}});
  clock_.advance(11h + 2s);
  reconcile();
  t = status()["targets"][0];
  EXPECT_EQ(t["lastAttempt"]["result"], "Failed");
  EXPECT_EQ(t["lastSuccess"]["id"], "20261206T020000Z-a1");
  auto healthy = condition("BackupHealthy");
  EXPECT_EQ(healthy->status, "False");
  EXPECT_EQ(healthy->reason, "BackupOverdue");
  EXPECT_NE(healthy->message.find("orders (last success " + ok + ")"), std::string::npos) << healthy->message;
  EXPECT_NE(healthy->message.find("12h"), std::string::npos) << healthy->message;
  EXPECT_EQ(condition("Ready")->status, "True") << "the policy itself is in place";

  // A report that is not the Job's JSON is ignored field by field, never copied into status.
  patchReport("orders-backup-nightly", {{"lastAttempt", "{not json"}, {"kept", "lots"}});
  reconcile();
  t = status()["targets"][0];
  EXPECT_FALSE(t.contains("lastAttempt"));
  EXPECT_FALSE(t.contains("kept"));
  EXPECT_EQ(t["lastSuccess"]["id"], "20261206T020000Z-a1");
}

TEST_F(BackupPolicyTest, ATargetThatLeavesTheSelectorLosesItsChildren) {
  create(res::kServiceDatabases, sdbObject("orders", {{"backup", "nightly"}}));
  create(res::kServiceDatabases, sdbObject("payments", {{"backup", "nightly"}}));
  create(res::kBackupPolicies, policyObject({{"selector", {{"matchLabels", {{"backup", "nightly"}}}}}}));
  reconcile();
  EXPECT_EQ(status()["targetCount"], 2);
  for (const auto& kind : childKinds()) ASSERT_FALSE(get(kind, "payments-backup-nightly").is_null()) << kind.kind;

  kube::PatchOptions o;
  ASSERT_TRUE(client_->patch(res::kServiceDatabases, "shop", "payments", kube::PatchType::kMerge,
                             R"({"metadata":{"labels":{"backup":null}}})", o).ok());
  reconcile();
  for (const auto& kind : childKinds()) {
    EXPECT_TRUE(get(kind, "payments-backup-nightly").is_null()) << kind.kind << " of a former target";
    EXPECT_FALSE(get(kind, "orders-backup-nightly").is_null()) << kind.kind;
  }
  EXPECT_EQ(status()["targetCount"], 1);
  EXPECT_EQ(status()["targets"][0]["name"], "orders");
}

TEST_F(BackupPolicyTest, ConflictsUnsupportedEnginesAndBadSpecsAreReportedNamingTheField) {
  create(res::kServiceDatabases, sdbObject("orders"));
  create(res::kServiceDatabases, sdbObject("billing", Json::object(), {{"backupPolicyRef", {{"name", "weekly"}}}}));
  create(res::kServiceDatabases, sdbObject("cache", Json::object(), {{"engine", "redis"}}));
  create(res::kBackupPolicies, policyObject({{"names", {"orders", "billing", "ghost"}}}));
  reconcile();
  auto conflict = condition("TargetConflict");
  EXPECT_EQ(conflict->status, "True");
  EXPECT_NE(conflict->message.find("billing"), std::string::npos) << conflict->message;
  EXPECT_TRUE(get(res::kCronJobs, "billing-backup-nightly").is_null()) << "its own reference wins";
  EXPECT_EQ(condition("Ready")->status, "True");
  EXPECT_NE(condition("Ready")->message.find("listed but not found: \"ghost\""), std::string::npos);

  Json p = get(res::kBackupPolicies, "nightly");
  p["spec"]["targets"]["names"] = {"orders", "cache"};
  ASSERT_TRUE(client_->update(res::kBackupPolicies, "shop", p, {}).ok());
  reconcile();
  auto stalled = condition("Stalled");
  EXPECT_EQ(stalled->status, "True");
  EXPECT_EQ(stalled->reason, "UnsupportedTarget");
  EXPECT_EQ(stalled->message.rfind("spec.engine:", 0), 0u) << stalled->message;
  EXPECT_FALSE(get(res::kCronJobs, "orders-backup-nightly").is_null()) << "the other target is still backed up";
  EXPECT_EQ(condition("TargetConflict")->status, "False");

  p = get(res::kBackupPolicies, "nightly");
  p["spec"]["schedule"] = "61 * * * *";
  ASSERT_TRUE(client_->update(res::kBackupPolicies, "shop", p, {}).ok());
  const int64_t rv = store_->resourceVersion();
  auto r = reconcile();
  EXPECT_EQ(r.kind, runtime::ReconcileResult::Kind::kOk) << "a bad spec waits for its change";
  EXPECT_EQ(condition("Stalled")->reason, "InvalidSpec");
  EXPECT_EQ(condition("Stalled")->message.rfind("spec.schedule", 0), 0u) << condition("Stalled")->message;
  EXPECT_EQ(get(res::kCronJobs, "orders-backup-nightly")["spec"]["schedule"], "0 2 * * *") << "nothing applied";
  EXPECT_EQ(store_->resourceVersion(), rv + 1) << "only the status write";
}

TEST_F(BackupPolicyTest, AForeignSameNamedObjectIsNeverTakenOver) {
  create(res::kServiceDatabases, sdbObject("orders"));
  create(res::kServiceAccounts, {{"apiVersion", "v1"},
                                 {"kind", "ServiceAccount"},
                                 {"metadata", {{"name", "orders-backup-nightly"}, {"namespace", "shop"},
                                               {"labels", {{"app.kubernetes.io/managed-by", "servicedb-operator"}}}}}});
  create(res::kBackupPolicies, policyObject({{"names", {"orders"}}}));
  reconcile();
  EXPECT_EQ(condition("Stalled")->reason, "ForeignObject");
  EXPECT_NE(condition("Stalled")->message.find("ServiceAccount \"orders-backup-nightly\""), std::string::npos);
  EXPECT_FALSE(get(res::kServiceAccounts, "orders-backup-nightly")["metadata"].contains("ownerReferences"));
  EXPECT_TRUE(get(res::kCronJobs, "orders-backup-nightly").is_null()) << "no Job runs under someone else's account";
}

TEST_F(BackupPolicyTest, DriftInACronJobIsRepaired) {
  create(res::kServiceDatabases, sdbObject("orders"));
  create(res::kBackupPolicies, policyObject({{"names", {"orders"}}}));
  reconcile();
  kube::PatchOptions o;
  ASSERT_TRUE(client_->patch(res::kCronJobs, "shop", "orders-backup-nightly", kube::PatchType::kMerge,
                             R"({"spec":{"schedule":"* * * * *","concurrencyPolicy":"Allow"}})", o).ok());
  reconcile();
  Json cron = get(res::kCronJobs, "orders-backup-nightly");
  EXPECT_EQ(cron["spec"]["schedule"], "0 2 * * *");
  EXPECT_EQ(cron["spec"]["concurrencyPolicy"], "Forbid");
}

TEST_F(BackupPolicyTest, VerifyAddsADrillCronJobWhoseReportSetsRestoreVerifiedAndRemovingItDeletesTheCronJob) {
  create(res::kServiceDatabases, sdbObject("orders"));
  Json p = policyObject({{"names", {"orders"}}});
  p["spec"]["verify"] = {{"schedule", "0 5 * * 0"}, {"query", "SELECT 1"}};
  create(res::kBackupPolicies, p);
  reconcile();
  Json drill = get(res::kCronJobs, "orders-drill-nightly");
  ASSERT_FALSE(drill.is_null());
  EXPECT_EQ(drill["spec"]["schedule"], "0 5 * * 0");
  EXPECT_EQ(drill["metadata"]["ownerReferences"][0]["kind"], "BackupPolicy");
  EXPECT_EQ(drill["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"][1], "--drill");
  EXPECT_EQ(condition("RestoreVerified")->status, "Unknown");
  EXPECT_EQ(condition("RestoreVerified")->reason, "NoDrillYet");
  EXPECT_EQ(condition("Ready")->status, "True");

  // The drill Job reports a failure, then a pass.
  const std::string t1 = formatRfc3339(clock_.now());
  Json failed = Json::parse(run(t1, "b7", "Failed"));
  failed["message"] = "restoring: chunk 3: authentication failed";
  patchReport("orders-backup-nightly", {{"lastVerifiedRestore", failed.dump()}});
  reconcile();
  EXPECT_EQ(status()["targets"][0]["lastVerifiedRestore"]["result"], "Failed");
  auto v = condition("RestoreVerified");
  EXPECT_EQ(v->status, "False");
  EXPECT_EQ(v->reason, "RestoreDrillFailed");
  EXPECT_NE(v->message.find("orders (" + t1 + ": restoring: chunk 3: authentication failed)"), std::string::npos) << v->message;
  patchReport("orders-backup-nightly", {{"lastVerifiedRestore", run(t1, "b8", "Succeeded")}});
  reconcile();
  EXPECT_EQ(status()["targets"][0]["lastVerifiedRestore"]["id"], "b8");
  EXPECT_EQ(condition("RestoreVerified")->status, "True");
  const int64_t rv = store_->resourceVersion();
  reconcile();
  EXPECT_EQ(store_->resourceVersion(), rv) << "the steady state with a drill wrote to the API";

  // Without spec.verify: the drill CronJob goes, the backup CronJob stays, the condition goes.
  p = get(res::kBackupPolicies, "nightly");
  p["spec"].erase("verify");
  ASSERT_TRUE(client_->update(res::kBackupPolicies, "shop", p, {}).ok());
  reconcile();
  EXPECT_TRUE(get(res::kCronJobs, "orders-drill-nightly").is_null());
  EXPECT_FALSE(get(res::kCronJobs, "orders-backup-nightly").is_null());
  EXPECT_FALSE(condition("RestoreVerified").has_value());
}

// Inside the Manager: informers, the owned-kind watches and the ServiceDatabase handler.
TEST_F(BackupPolicyTest, InTheManagerANewDatabaseAndAReportMoveStatusThenNothingIsWritten) {
  runtime::ManagerOptions mo;
  mo.leaderElect = false;
  mo.metricsAddress = "0";
  mo.healthAddress = "0";
  mo.resyncPeriod = 200ms;
  mo.shutdownTimeout = 2s;
  runtime::Manager mgr(*client_, mo);
  auto registration = addBackupPolicyController(mgr);
  create(res::kBackupPolicies, policyObject({{"selector", {{"matchLabels", {{"backup", "nightly"}}}}}}));
  std::thread runner([&] { mgr.run(); });
  struct Join {
    runtime::Manager& m;
    std::thread& t;
    ~Join() {
      m.requestStop();
      if (t.joinable()) t.join();
    }
  } join{mgr, runner};
  using runtime::testing::eventually;
  ASSERT_TRUE(eventually([&] { return condition("Ready") && condition("Ready")->reason == "NoTargets"; }));
  create(res::kServiceDatabases, sdbObject("orders", {{"backup", "nightly"}}));
  ASSERT_TRUE(eventually([&] { return status().value("targetCount", 0) == 1; }));
  ASSERT_TRUE(eventually([&] { return !get(res::kConfigMaps, "orders-backup-nightly").is_null(); }));
  const std::string now = formatRfc3339(std::chrono::system_clock::now());
  patchReport("orders-backup-nightly", {{"lastAttempt", run(now, "b1", "Succeeded")},
                                        {"lastSuccess", run(now, "b1", "Succeeded")}, {"kept", "1"}});
  ASSERT_TRUE(eventually([&] {
    const Json t = status().value("targets", Json::array());
    return !t.empty() && t[0].value("lastSuccess", Json::object()).value("id", "") == "b1";
  })) << status().dump();
  std::this_thread::sleep_for(600ms);
  const int64_t rv = store_->resourceVersion();
  std::this_thread::sleep_for(1500ms);  // several resyncs of every cached object
  EXPECT_EQ(store_->resourceVersion(), rv) << "the steady state wrote to the API";
}

}  // namespace
}  // namespace sdb::controllers::backuppolicy
