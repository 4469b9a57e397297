// backupFirst in the ServiceDatabase controller: a Job from the backup CronJob that the label
// contract names (a hand-made one here, as the BackupPolicy controller will make them) runs before
// the migration Job; without one, BackupRequired naming spec.backupPolicyRef; a failed backup stops
// the migration.
#include "tests/unit/servicedatabase/migrations_fixture.h"

using namespace std::chrono_literals;
using namespace sdb;
using namespace sdb::controllers::servicedatabase;
using namespace sdb::controllers::servicedatabase::testing;
using runtime::ReconcileResult;

namespace {

TEST_F(MigrationsTest, BackupFirstNeedsALabelledCronJobAndRunsItsJobFirst) {
  Json m = psqlMigrations("1");
  m["backupFirst"] = true;
  Json s = withMigrations(m);
  s["spec"]["backupPolicyRef"] = {{"name", "nightly"}};
  create(s);
  // A CronJob of another database does not count.
  ASSERT_TRUE(inproc_->create(res::kCronJobs, "shop", backupCronJob("payments", "payments-backup")).ok());
  auto r = reconcile();
  EXPECT_EQ(r.kind, ReconcileResult::Kind::kRequeueAfter);
  EXPECT_EQ(r.after, 30s);
  EXPECT_EQ(condition("Ready")->reason, "BackupRequired");
  EXPECT_EQ(condition("Stalled")->status, "True");
  EXPECT_NE(condition("Ready")->message.find("spec.backupPolicyRef names BackupPolicy \"nightly\""), std::string::npos)
      << condition("Ready")->message;
  EXPECT_TRUE(jobNames().empty());

  ASSERT_TRUE(inproc_->create(res::kCronJobs, "shop", backupCronJob()).ok());
  reconcile();
  const std::string backup = onlyJob();
  EXPECT_EQ(backup.rfind("orders-backup-", 0), 0u) << backup;
  Json b = get(res::kJobs, backup);
  EXPECT_EQ(b["spec"]["template"]["spec"]["containers"][0]["args"], Json({"echo", "backup of orders"}));
  EXPECT_EQ(b["metadata"]["annotations"]["servicedb.io/from-cronjob"], "orders-backup");
  EXPECT_EQ(condition("Ready")->reason, "BackupRunning");
  EXPECT_EQ(condition("MigrationsApplied")->reason, "BackupRunning");
  EXPECT_EQ(status()["migrations"]["phase"], "BackingUp");
  reconcile();
  EXPECT_EQ(jobNames().size(), 1u) << "no migration before the backup completed";

  finishJob(backup, true);
  reconcile();
  auto names = jobNames();
  ASSERT_EQ(names.size(), 2u);
  const std::string migration = status()["migrations"]["job"];
  EXPECT_EQ(migration.rfind("orders-migrate-", 0), 0u);
  EXPECT_EQ(migration.substr(15), backup.substr(14)) << "both named for the same run";
  finishJob(migration, true);
  reconcile();
  EXPECT_EQ(status()["schemaVersion"], "1");
  EXPECT_EQ(condition("Ready")->status, "True");
}

TEST_F(MigrationsTest, AFailedBackupStopsTheMigration) {
  Json m = psqlMigrations("1");
  m["backupFirst"] = true;
  create(withMigrations(m));
  reconcile();
  EXPECT_NE(condition("Ready")->message.find("set spec.backupPolicyRef"), std::string::npos);
  ASSERT_TRUE(inproc_->create(res::kCronJobs, "shop", backupCronJob()).ok());
  reconcile();
  const std::string backup = onlyJob();
  podOf(backup, backup + "-p0000", "upload failed: 403\n");
  finishJob(backup, false);
  reconcile();
  EXPECT_EQ(jobNames().size(), 1u) << "no migration without its backup";
  EXPECT_EQ(condition("Ready")->reason, "BackupFailed");
  EXPECT_NE(condition("MigrationsApplied")->message.find("upload failed: 403"), std::string::npos);
  EXPECT_EQ(condition("Stalled")->status, "True");
}

}  // namespace
