// spec.deletionPolicy Snapshot in the ServiceDatabase controller: provisioned like Delete, with
// FinalBackupReady saying whether a backup CronJob exists; on deletion, a final backup Job from that
// CronJob (the hand-made one of the migration fixture, as the BackupPolicy controller makes them),
// then what Delete does. Without a CronJob, or when the Job fails, nothing is dropped.
#include "operator/runtime/object_helpers.h"
#include "tests/unit/servicedatabase/migrations_fixture.h"

using namespace std::chrono_literals;
using namespace sdb;
using namespace sdb::controllers::servicedatabase;
using namespace sdb::controllers::servicedatabase::testing;
using runtime::ReconcileResult;

namespace {

class SnapshotTest : public MigrationsTest {
 public:
  void provision(const std::string& name = "orders") {
    Json s = sharedSdb(name);
    s["spec"]["deletionPolicy"] = "Snapshot";
    create(s);
    auto r = reconcile(name);
    ASSERT_EQ(r.kind, ReconcileResult::Kind::kOk) << r.error;
    ASSERT_EQ(condition("Ready", name)->status, "True");
    ASSERT_TRUE(runtime::hasFinalizer(sdbObject(name), kFinalizer));
  }
  void addCronJob(const std::string& name = "orders") {
    ASSERT_TRUE(inproc_->create(res::kCronJobs, "shop", backupCronJob(name, name + "-backup")).ok());
  }
  void deleteSdb(const std::string& name = "orders") {
    ASSERT_TRUE(inproc_->remove(res::kServiceDatabases, "shop", name).ok());
  }
  bool onServer(const std::string& name = "orders") { return fake_.services.count("shop/" + name) == 1; }
};

TEST_F(SnapshotTest, IsProvisionedAndSaysWhetherADeletionWouldFindABackupCronJob) {
  provision();
  auto c = condition("FinalBackupReady");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, "False");
  EXPECT_EQ(c->reason, "SnapshotWithoutBackupPolicy");
  EXPECT_NE(c->message.find("servicedb.io/database=orders,servicedb.io/component=backup"), std::string::npos)
      << c->message;
  EXPECT_TRUE(onServer());
  // Steady state: no write.
  int64_t rv = store_->resourceVersion();
  EXPECT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(store_->resourceVersion(), rv);

  addCronJob();
  reconcile();
  EXPECT_EQ(condition("FinalBackupReady")->status, "True");
  EXPECT_NE(condition("FinalBackupReady")->message.find("\"orders-backup\""), std::string::npos);
  EXPECT_EQ(condition("Ready")->status, "True");
  rv = store_->resourceVersion();
  reconcile();
  EXPECT_EQ(store_->resourceVersion(), rv);

  patchSdb("orders", {{"spec", {{"deletionPolicy", "Delete"}}}});
  reconcile();
  EXPECT_FALSE(condition("FinalBackupReady")) << "only Snapshot has it";
}

TEST_F(SnapshotTest, WithoutABackupCronJobTheDeletionWaitsAndDropsNothing) {
  provision();
  deleteSdb();
  auto r = reconcile();
  EXPECT_EQ(r.kind, ReconcileResult::Kind::kRequeueAfter);
  EXPECT_EQ(r.after, 60s);
  ASSERT_FALSE(sdbObject().is_null());
  EXPECT_TRUE(runtime::hasFinalizer(sdbObject(), kFinalizer));
  EXPECT_EQ(condition("Stalled")->status, "True");
  EXPECT_EQ(condition("Stalled")->reason, "SnapshotWithoutBackupPolicy");
  const std::string m = condition("Ready")->message;
  for (const char* part : {"spec.deletionPolicy Snapshot", "no BackupPolicy backs this database up",
                           "servicedb.io/database=orders,servicedb.io/component=backup,app.kubernetes.io/managed-by="
                           "servicedb-operator", "namespace \"shop\"", "Add a BackupPolicy", "Retain", "Delete"}) {
    EXPECT_NE(m.find(part), std::string::npos) << part << " in " << m;
  }
  EXPECT_EQ(sdbObject()["status"]["phase"], "Deleting");
  EXPECT_TRUE(onServer());
  EXPECT_FALSE(get(res::kSecrets, "orders-credentials").is_null());
  EXPECT_TRUE(jobNames().empty());
  EXPECT_EQ(events("SnapshotWithoutBackupPolicy").size(), 1u);
  const int64_t rv = store_->resourceVersion();
  reconcile();
  EXPECT_EQ(store_->resourceVersion(), rv) << "waiting writes nothing";

  patchSdb("orders", {{"spec", {{"deletionPolicy", "Delete"}}}});
  EXPECT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_TRUE(sdbObject().is_null());
  EXPECT_FALSE(onServer());
}

TEST_F(SnapshotTest, TakesAFinalBackupFromThePolicysCronJobThenDeletes) {
  Json s = sharedSdb();
  s["spec"]["deletionPolicy"] = "Snapshot";
  s["spec"]["backupPolicyRef"] = {{"name", "nightly"}};
  create(s);
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  // Two CronJobs back it up: the one of spec.backupPolicyRef's policy wins over the first by name.
  addCronJob();  // "orders-backup"
  Json theirs = backupCronJob("orders", "orders-backup-nightly");
  theirs["metadata"]["ownerReferences"] = Json::array({{{"apiVersion", "servicedb.io/v1alpha1"},
                                                        {"kind", "BackupPolicy"},
                                                        {"name", "nightly"},
                                                        {"uid", "0b7e5d3c-1111-4222-8333-444455556666"},
                                                        {"controller", true}}});
  theirs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"] = {"echo", "nightly"};
  ASSERT_TRUE(inproc_->create(res::kCronJobs, "shop", theirs).ok());
  const std::string uid = sdbObject()["metadata"]["uid"];
  deleteSdb();

  auto r = reconcile();
  EXPECT_EQ(r.kind, ReconcileResult::Kind::kRequeueAfter);
  EXPECT_EQ(r.after, 5s);
  ASSERT_EQ(jobNames(), std::vector<std::string>({"orders-final-backup"}));
  Json job = get(res::kJobs, "orders-final-backup");
  EXPECT_EQ(job["spec"]["template"]["spec"]["containers"][0]["args"], Json({"echo", "nightly"}));
  EXPECT_EQ(job["metadata"]["annotations"]["servicedb.io/from-cronjob"], "orders-backup-nightly");
  EXPECT_FALSE(job["metadata"]["annotations"].contains("servicedb.io/migration-version"));
  EXPECT_EQ(job["metadata"]["labels"]["servicedb.io/database"], "orders");
  EXPECT_EQ((*runtime::controllerOf(job))["uid"], uid) << "owned by the ServiceDatabase";
  EXPECT_EQ(condition("Ready")->reason, "FinalBackupRunning");
  EXPECT_EQ(condition("Reconciling")->status, "True");
  EXPECT_EQ(condition("Stalled")->status, "False");
  EXPECT_NE(condition("Ready")->message.find("\"orders-final-backup\""), std::string::npos);
  EXPECT_TRUE(runtime::hasFinalizer(sdbObject(), kFinalizer));
  EXPECT_TRUE(onServer());

  // Running: no second Job, no write.
  const int64_t rv = store_->resourceVersion();
  EXPECT_EQ(reconcile().kind, ReconcileResult::Kind::kRequeueAfter);
  EXPECT_EQ(store_->resourceVersion(), rv);
  EXPECT_EQ(jobNames().size(), 1u);

  finishJob("orders-final-backup", true);
  EXPECT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_TRUE(sdbObject().is_null()) << "the finalizer was removed";
  EXPECT_FALSE(onServer());
  EXPECT_TRUE(get(res::kSecrets, "orders-credentials").is_null());
  auto backedUp = events("FinalBackup");
  ASSERT_EQ(backedUp.size(), 1u);
  EXPECT_NE(backedUp[0]["message"].get<std::string>().find("\"orders-final-backup\""), std::string::npos);
  auto deleted = events("Deleted");
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0]["message"].get<std::string>().rfind("deletionPolicy Snapshot: ", 0), 0u);
  EXPECT_EQ(jobNames().size(), 1u);
}

TEST_F(SnapshotTest, AFailedFinalBackupKeepsTheDatabaseUntilTheJobIsDeleted) {
  provision();
  addCronJob();
  deleteSdb();
  reconcile();
  finishJob("orders-final-backup", false);
  EXPECT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  ASSERT_FALSE(sdbObject().is_null());
  EXPECT_TRUE(runtime::hasFinalizer(sdbObject(), kFinalizer));
  EXPECT_EQ(condition("Stalled")->status, "True");
  EXPECT_EQ(condition("Stalled")->reason, "FinalBackupFailed");
  const std::string m = condition("Ready")->message;
  for (const char* part : {"\"orders-final-backup\"", "BackoffLimitExceeded", "the database is kept",
                           "delete the Job", "Retain", "Delete"}) {
    EXPECT_NE(m.find(part), std::string::npos) << part << " in " << m;
  }
  EXPECT_TRUE(onServer());
  EXPECT_FALSE(get(res::kSecrets, "orders-credentials").is_null());

  // Deleting the Job takes the backup again.
  removeJob("orders-final-backup");
  EXPECT_EQ(reconcile().kind, ReconcileResult::Kind::kRequeueAfter);
  EXPECT_EQ(condition("Ready")->reason, "FinalBackupRunning");
  finishJob("orders-final-backup", true);
  EXPECT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_TRUE(sdbObject().is_null());
  EXPECT_FALSE(onServer());
}

TEST_F(SnapshotTest, AForeignJobOfTheSameNameIsNeverTakenForTheBackup) {
  provision();
  addCronJob();
  Json foreign = backupCronJob()["spec"]["jobTemplate"];
  foreign["apiVersion"] = "batch/v1";
  foreign["kind"] = "Job";
  foreign["metadata"] = {{"name", "orders-final-backup"}, {"namespace", "shop"}};
  foreign["status"] = {{"conditions", Json::array({{{"type", "Complete"}, {"status", "True"}}})}};
  ASSERT_TRUE(inproc_->create(res::kJobs, "shop", foreign).ok());
  deleteSdb();
  EXPECT_EQ(reconcile().kind, ReconcileResult::Kind::kRetry);
  EXPECT_EQ(condition("Stalled")->reason, "ForeignObject");
  EXPECT_TRUE(onServer());
}

TEST_F(SnapshotTest, KilledAtAnyStepTheRerunTakesOneBackupAndDeletes) {
  // Count the steps of an uninterrupted deletion once the Job completed.
  provision("probe");
  addCronJob("probe");
  deleteSdb("probe");
  reconcile("probe");
  finishJob("probe-final-backup", true);
  client_->kill = &kill_;
  ASSERT_EQ(reconcile("probe").kind, ReconcileResult::Kind::kOk);
  client_->kill = nullptr;
  const int steps = kill_.steps();
  ASSERT_GE(steps, 3);  // engine remove, Secrets, finalizer
  // Phase 0 kills the reconcile that creates the Job (step 0: the create; 1: the status write);
  // phase 1 the one that deletes after the Job completed.
  for (int phase = 0; phase < 2; ++phase) {
    for (int k = 0; k < (phase == 0 ? 2 : steps); ++k) {
      SCOPED_TRACE("phase " + std::to_string(phase) + ", killed after step " + std::to_string(k));
      const std::string name = "k" + std::to_string(phase) + "-" + std::to_string(k);
      provision(name);
      addCronJob(name);
      deleteSdb(name);
      if (phase == 1) {
        reconcile(name);
        finishJob(name + "-final-backup", true);
      }
      client_->kill = &kill_;
      kill_.arm(k);
      makeReconciler();
      EXPECT_NE(reconcile(name).kind, ReconcileResult::Kind::kOk);
      kill_.disarm();
      client_->kill = nullptr;
      makeReconciler();  // restarted process
      if (phase == 0) {
        EXPECT_EQ(reconcile(name).kind, ReconcileResult::Kind::kRequeueAfter);
        finishJob(name + "-final-backup", true);
      }
      auto r = reconcile(name);
      ASSERT_EQ(r.kind, ReconcileResult::Kind::kOk) << r.error;
      EXPECT_TRUE(sdbObject(name).is_null());
      EXPECT_FALSE(onServer(name));
      int finalJobs = 0;
      for (const auto& j : jobNames()) finalJobs += j == name + "-final-backup";
      EXPECT_EQ(finalJobs, 1);
    }
  }
}

}  // namespace
