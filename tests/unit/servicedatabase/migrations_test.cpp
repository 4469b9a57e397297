// spec.migrations in the ServiceDatabase controller, over the in-process store (Jobs are objects
// whose status the test writes, as the Job controller would) and the FakeEngine: Ready gated on
// the version, the result recorded before the Job can go, nothing run twice, retries only on a
// spec change or the annotation, failures with a redacted log tail, built-in mode. backupFirst is
// in migrations_backup_test.cpp.
#include "tests/unit/servicedatabase/migrations_fixture.h"

#include "operator/runtime/object_helpers.h"
#include "operator/specs/migration_job.h"

using namespace std::chrono_literals;
using namespace sdb;
using namespace sdb::controllers::servicedatabase;
using namespace sdb::controllers::servicedatabase::testing;
using runtime::ReconcileResult;

namespace {

TEST_F(MigrationsTest, ImageModeJobGatesReadyUntilItCompletesAndNeverRunsTwice) {
  create(withMigrations(psqlMigrations("1")));
  auto r = reconcile();
  EXPECT_EQ(r.kind, ReconcileResult::Kind::kRequeueAfter);
  EXPECT_EQ(r.after, 10s);
  // The database is provisioned, the Secrets and endpoint are in status, but not Ready.
  EXPECT_EQ(status()["secretName"], "orders-credentials");
  EXPECT_EQ(status()["endpoint"]["database"], "shop_orders");
  EXPECT_EQ(condition("CredentialsReady")->status, "True");
  EXPECT_EQ(condition("Ready")->status, "False");
  EXPECT_EQ(condition("Ready")->reason, "MigrationRunning");
  EXPECT_EQ(condition("Reconciling")->status, "True");
  EXPECT_EQ(condition("Stalled")->status, "False");
  EXPECT_EQ(condition("MigrationsApplied")->status, "False");
  EXPECT_FALSE(status().contains("schemaVersion"));
  const std::string job = onlyJob();
  EXPECT_EQ(job.rfind("orders-migrate-", 0), 0u) << job;
  EXPECT_EQ(status()["migrations"]["job"], job);
  EXPECT_EQ(status()["migrations"]["phase"], "Running");
  EXPECT_EQ(status()["migrations"]["version"], "1");
  Json j = get(res::kJobs, job);
  EXPECT_EQ(j["spec"]["template"]["spec"]["containers"][0]["image"], "postgres:15");
  EXPECT_EQ(j["spec"]["template"]["metadata"]["labels"]["servicedb.io/component"], "migrate");
  EXPECT_EQ(runtime::controllerOf(j)->value("uid", ""), sdbObject()["metadata"]["uid"]);
  // The Job's env names the migration Secret; no value of it is in the Job.
  const std::string pw = secretData("orders-migration-credentials")["password"];
  EXPECT_EQ(j.dump().find(pw), std::string::npos);
  EXPECT_NE(j.dump().find("orders-migration-credentials"), std::string::npos);

  // While it runs: nothing written, no second Job.
  int64_t rv = store_->resourceVersion();
  reconcile();
  EXPECT_EQ(store_->resourceVersion(), rv);
  EXPECT_EQ(jobNames().size(), 1u);

  finishJob(job, true);
  r = reconcile();
  EXPECT_EQ(r.kind, ReconcileResult::Kind::kOk) << r.error;
  EXPECT_EQ(status()["schemaVersion"], "1");
  EXPECT_EQ(status()["migrations"]["phase"], "Succeeded");
  EXPECT_EQ(condition("Ready")->status, "True");
  EXPECT_EQ(condition("MigrationsApplied")->status, "True");
  EXPECT_EQ(condition("MigrationsApplied")->reason, "Applied");
  EXPECT_NE(condition("MigrationsApplied")->message.find("version \"1\" is applied"), std::string::npos);
  bool evented = false;
  for (const auto& e : events("Reconciled")) {
    evented = evented || e["message"].get<std::string>().find("applied migrations version \"1\"") != std::string::npos;
  }
  EXPECT_TRUE(evented);

  // Steady state: no writes. The Job's TTL removes it: still nothing runs again.
  rv = store_->resourceVersion();
  const int writes = client_->writes;
  reconcile();
  EXPECT_EQ(store_->resourceVersion(), rv);
  removeJob(job);
  rv = store_->resourceVersion();
  makeReconciler();  // a restarted operator remembers nothing but status
  EXPECT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(store_->resourceVersion(), rv);
  EXPECT_EQ(client_->writes, writes);
  EXPECT_TRUE(jobNames().empty());
}

TEST_F(MigrationsTest, AVersionBumpRunsAgainAndASpecChangeOfTheSameVersionDoesNot) {
  create(withMigrations(psqlMigrations("1")));
  reconcile();
  finishJob(onlyJob(), true);
  reconcile();
  ASSERT_EQ(status()["schemaVersion"], "1");
  // Same version, another image: applied is applied.
  Json m = psqlMigrations("1");
  m["image"] = "postgres:15.6";
  patchSdb("orders", {{"spec", {{"migrations", m}}}});
  EXPECT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(jobNames().size(), 1u);
  EXPECT_EQ(condition("Ready")->status, "True");

  patchSdb("orders", {{"spec", {{"migrations", psqlMigrations("2")}}}});
  reconcile();
  EXPECT_EQ(condition("Ready")->status, "False") << "a new version is Ready only once applied";
  EXPECT_EQ(condition("Ready")->reason, "MigrationRunning");
  EXPECT_EQ(status()["schemaVersion"], "1") << "still what the database has";
  auto names = jobNames();
  ASSERT_EQ(names.size(), 2u);
  const std::string second = status()["migrations"]["job"];
  EXPECT_NE(std::find(names.begin(), names.end(), second), names.end());
  finishJob(second, true);
  reconcile();
  EXPECT_EQ(status()["schemaVersion"], "2");
  EXPECT_EQ(condition("Ready")->status, "True");
}

TEST_F(MigrationsTest, ASpecChangeWhileAJobRunsWaitsForIt) {
  create(withMigrations(psqlMigrations("1")));
  reconcile();
  const std::string first = onlyJob();
  patchSdb("orders", {{"spec", {{"migrations", psqlMigrations("2")}}}});
  reconcile();
  EXPECT_EQ(jobNames().size(), 1u) << "never two migrations at once";
  EXPECT_NE(condition("Ready")->message.find("earlier spec, version \"1\""), std::string::npos)
      << condition("Ready")->message;
  finishJob(first, true);
  reconcile();
  EXPECT_EQ(status()["schemaVersion"], "1") << "what the first Job applied is recorded";
  EXPECT_EQ(jobNames().size(), 2u) << "then version 2 starts";
  EXPECT_EQ(status()["migrations"]["version"], "2");
  EXPECT_EQ(condition("Ready")->status, "False");
}

TEST_F(MigrationsTest, AFailureIsReportedWithARedactedLogTailAndRetriedOnlyOnRequest) {
  create(withMigrations(psqlMigrations("1")));
  reconcile();
  const std::string job = onlyJob();
  const std::string migPw = secretData("orders-migration-credentials")["password"];
  const std::string appPw = secretData("orders-credentials")["password"];
  std::string log;
  for (int i = 0; i < 200; ++i) log += "noise line " + std::to_string(i) + "\n";
  log += "connecting to postgresql://shop_orders_migrator:" + migPw + "@pg.shared.internal:5432/shop_orders\n";
  log += "app password is " + appPw + "\n";
  log += "psql:<stdin>:1: ERROR:  relation \"customers\" does not exist\n";
  podOf(job, job + "-aaaaa", "first attempt\n");
  podOf(job, job + "-zzzzz", log);
  finishJob(job, false);
  auto r = reconcile();
  EXPECT_EQ(r.kind, ReconcileResult::Kind::kOk) << "a failed migration waits for a human";
  auto applied = condition("MigrationsApplied");
  ASSERT_TRUE(applied);
  EXPECT_EQ(applied->status, "False");
  EXPECT_EQ(applied->reason, "MigrationFailed");
  EXPECT_NE(applied->message.find("BackoffLimitExceeded"), std::string::npos) << applied->message;
  EXPECT_NE(applied->message.find("relation \"customers\" does not exist"), std::string::npos);
  EXPECT_NE(applied->message.find(job + "-zzzzz"), std::string::npos) << "the newest pod's log";
  EXPECT_EQ(applied->message.find("noise line 0\n"), std::string::npos) << "only the tail";
  EXPECT_LT(applied->message.size(), 1500u);
  EXPECT_EQ(applied->message.find(migPw), std::string::npos);
  EXPECT_EQ(applied->message.find(appPw), std::string::npos);
  EXPECT_NE(applied->message.find("shop_orders_migrator:<redacted>@"), std::string::npos);
  EXPECT_EQ(sdbObject().dump().find(migPw), std::string::npos) << "nowhere in the object";
  EXPECT_EQ(condition("Ready")->reason, "MigrationFailed");
  EXPECT_EQ(condition("Stalled")->status, "True");
  EXPECT_NE(condition("Ready")->message.find("servicedb.io/retry-migrations"), std::string::npos);
  EXPECT_EQ(condition("Ready")->message.find("log tail"), std::string::npos) << "the tail is MigrationsApplied's";
  EXPECT_EQ(status()["phase"], "Failed");
  EXPECT_EQ(events("MigrationFailed").size(), 1u);
  for (const auto& e : events("MigrationFailed")) EXPECT_EQ(e.dump().find(migPw), std::string::npos);

  // Not retried by itself, also after the Job and its pods are gone and the operator restarted.
  removeJob(job);
  makeReconciler();
  int64_t rv = store_->resourceVersion();
  reconcile();
  EXPECT_TRUE(jobNames().empty());
  EXPECT_EQ(store_->resourceVersion(), rv);
  EXPECT_EQ(condition("MigrationsApplied")->message, applied->message) << "the report is kept";

  // The annotation asks: a new Job, recorded with the value acted on.
  patchSdb("orders", {{"metadata", {{"annotations", {{"servicedb.io/retry-migrations", "1"}}}}}});
  reconcile();
  const std::string retry = onlyJob();
  EXPECT_NE(retry, job);
  EXPECT_EQ(status()["migrations"]["retryRequest"], "1");
  finishJob(retry, false);
  reconcile();
  EXPECT_EQ(condition("Ready")->reason, "MigrationFailed");
  EXPECT_NE(condition("MigrationsApplied")->message.find("has no pod left"), std::string::npos);
  reconcile();
  EXPECT_EQ(jobNames().size(), 1u) << "the same annotation value does not retry twice";

  // A spec change runs it again too.
  Json fixed = psqlMigrations("1");
  fixed["args"] = {"CREATE TABLE IF NOT EXISTS customers (id bigint)"};
  patchSdb("orders", {{"spec", {{"migrations", fixed}}}});
  reconcile();
  EXPECT_EQ(jobNames().size(), 2u);
  finishJob(status()["migrations"]["job"], true);
  reconcile();
  EXPECT_EQ(condition("Ready")->status, "True");
  EXPECT_EQ(condition("Stalled")->status, "False");
  EXPECT_EQ(status()["schemaVersion"], "1");
}

TEST_F(MigrationsTest, AJobGoneBeforeItsResultWasSeenIsNotRunAgainBlindly) {
  create(withMigrations(psqlMigrations("1")));
  reconcile();
  const std::string job = onlyJob();
  removeJob(job);  // its TTL passed while we were away
  reconcile();
  EXPECT_TRUE(jobNames().empty());
  EXPECT_EQ(condition("MigrationsApplied")->reason, "MigrationJobLost");
  EXPECT_NE(condition("MigrationsApplied")->message.find("removed before its result was recorded"), std::string::npos);
  EXPECT_EQ(condition("Stalled")->status, "True");
  patchSdb("orders", {{"metadata", {{"annotations", {{"servicedb.io/retry-migrations", "after-check"}}}}}});
  reconcile();
  EXPECT_EQ(jobNames().size(), 1u);
}

TEST_F(MigrationsTest, AJobCreatedBeforeALostStatusWriteIsAdoptedNotDuplicated) {
  create(withMigrations(psqlMigrations("1")));
  reconcile();
  const std::string job = onlyJob();
  // As if the status write after the create had never happened.
  Json o = sdbObject();
  o["status"].erase("migrations");
  ASSERT_TRUE(inproc_->updateStatus(res::kServiceDatabases, "shop", o).ok());
  finishJob(job, true);
  makeReconciler();
  reconcile();
  EXPECT_EQ(jobNames(), std::vector<std::string>{job});
  EXPECT_EQ(status()["schemaVersion"], "1") << "its result counts";
  EXPECT_EQ(condition("Ready")->status, "True");
}

TEST_F(MigrationsTest, BuiltinModeNeedsItsConfigMapAndRunsTheOperatorImage) {
  create(withMigrations({{"version", "3"}, {"configMapRef", {{"name", "orders-sql"}}}}));
  auto r = reconcile();
  EXPECT_EQ(r.kind, ReconcileResult::Kind::kRequeueAfter) << "ConfigMaps are not watched: polled";
  EXPECT_EQ(r.after, 30s);
  EXPECT_EQ(condition("Ready")->reason, "MigrationsConfigMapNotFound");
  EXPECT_NE(condition("Ready")->message.find("spec.migrations.configMapRef.name: ConfigMap \"orders-sql\" not found"),
            std::string::npos);
  EXPECT_EQ(condition("Stalled")->status, "True");
  EXPECT_TRUE(jobNames().empty());

  Json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", "orders-sql"}, {"namespace", "shop"}}},
             {"data", {{"V1__init.sql", "CREATE TABLE t (id int);"}}}};
  ASSERT_TRUE(inproc_->create(res::kConfigMaps, "shop", cm).ok());
  reconcile();
  const std::string job = onlyJob();
  Json spec = get(res::kJobs, job)["spec"]["template"]["spec"];
  const Json& c = spec["containers"][0];
  EXPECT_EQ(c["image"], specs::defaultOperatorImage());
  EXPECT_EQ(c["args"], Json({"migrate", "--dir", "/migrations", "--owner-role", "shop_orders_owner"}));
  bool configMap = false, ca = false;
  for (const auto& v : spec["volumes"]) {
    configMap = configMap || v.value("configMap", Json::object()).value("name", "") == "orders-sql";
    ca = ca || v.value("name", "") == "ca";
  }
  EXPECT_TRUE(configMap);
  EXPECT_TRUE(ca) << "the admin Secret has ca.crt, so the migration Secret has it";

  const std::string summary =
      R"({"alreadyApplied":2,"applied":[],"failure":{"column":47,"file":"V3__audit.sql","line":4,"message":"relation \"no_such_table\" does not exist","partialEffects":false,"sqlstate":"42P01","version":"3"},"result":"failed","schemaVersion":"2","type":"servicedb.io/migration-summary"})";
  podOf(job, job + "-x1y2z", "{\"level\":\"error\",\"msg\":\"migration failed\"}\n" + summary + "\n");
  finishJob(job, false);
  reconcile();
  EXPECT_NE(condition("MigrationsApplied")->message.find(
                "V3__audit.sql failed: SQLSTATE 42P01: relation \"no_such_table\" does not exist (line 4, column 47)"),
            std::string::npos)
      << condition("MigrationsApplied")->message;
}

TEST_F(MigrationsTest, RemovingSpecMigrationsDropsTheCondition) {
  create(withMigrations(psqlMigrations("1")));
  reconcile();
  finishJob(onlyJob(), true);
  reconcile();
  ASSERT_TRUE(condition("MigrationsApplied"));
  patchSdb("orders", {{"spec", {{"migrations", nullptr}}}});
  reconcile();
  EXPECT_FALSE(condition("MigrationsApplied"));
  EXPECT_EQ(status()["schemaVersion"], "1") << "what the database has stays on record";
  EXPECT_EQ(condition("Ready")->status, "True");
}

}  // namespace
