// spec.restore.fromBackup in the ServiceDatabase controller (shared PostgreSQL over the FakeEngine):
// the engine plans the roles but no database while the restore is pending, the restore Job is created
// once with the policy's destination and keys and the admin Secret, the ServiceDatabase is not Ready
// until the Job completed, a failed Job stalls with RestoreFailed (deleting it retries), a missing
// policy names the field, and a restored database is never restored again.
#include "operator/specs/restore_job.h"
#include "tests/unit/servicedatabase/fixture.h"

using namespace std::chrono_literals;
using namespace sdb;
using namespace sdb::controllers::servicedatabase;
using namespace sdb::controllers::servicedatabase::testing;

namespace {

Json policy() {
  return {{"apiVersion", "servicedb.io/v1alpha1"},
          {"kind", "BackupPolicy"},
          {"metadata", {{"name", "nightly"}, {"namespace", "shop"}}},
          {"spec",
           {{"targets", {{"names", {"orders"}}}},
            {"encryption", {{"keySecretRef", {{"name", "backup-keys"}}}}},
            {"destination", {{"pvc", {{"claimName", "backups"}, {"path", "/prod"}}}}}}}};
}

Json restoredSdb() {
  Json o = ControllerTest::sharedSdb("copy");
  o["spec"]["restore"] = {{"fromBackup", {{"policy", "nightly"}, {"backupId", "20261206T020000Z-a1"}, {"target", "shop/orders"}}}};
  return o;
}

class RestoreTest : public ControllerTest {
 protected:
  static kube::DeleteOptions background() {
    kube::DeleteOptions d;
    d.propagationPolicy = "Background";  // Jobs default to orphaning their pods: a finalizer
    return d;
  }
  void setJobCondition(const std::string& type, const std::string& message = "") {
    Json job = get(res::kJobs, "copy-restore");
    job["status"] = {{"conditions", Json::array({{{"type", type}, {"status", "True"}, {"reason", type == "Failed" ? "BackoffLimitExceeded" : ""},
                                                  {"message", message}}})}};
    ASSERT_TRUE(inproc_->updateStatus(res::kJobs, "shop", job, {}).ok());
  }
};

TEST_F(RestoreTest, TheRestoreJobRunsBeforeReadyThenTheDatabaseIsAdopted) {
  create(restoredSdb());
  auto r = reconcile("copy");
  EXPECT_EQ(condition("Ready", "copy")->status, "False");
  EXPECT_EQ(condition("Stalled", "copy")->reason, "RestorePolicyNotFound");
  EXPECT_EQ(condition("Stalled", "copy")->message.rfind("spec.restore.fromBackup.policy:", 0), 0u);
  EXPECT_TRUE(get(res::kJobs, "copy-restore").is_null());

  ASSERT_TRUE(inproc_->create(res::kBackupPolicies, "shop", policy()).ok());
  r = reconcile("copy");
  EXPECT_EQ(r.kind, runtime::ReconcileResult::Kind::kRequeueAfter);
  EXPECT_EQ(condition("Ready", "copy")->reason, "Restoring");
  EXPECT_EQ(condition("Restored", "copy")->status, "False");
  Json job = get(res::kJobs, "copy-restore");
  ASSERT_FALSE(job.is_null());
  const Json& pod = job["spec"]["template"]["spec"];
  std::vector<std::string> args = pod["containers"][0]["args"];
  auto has = [&](const std::string& flag, const std::string& value) {
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == flag && args[i + 1] == value) return true;
    }
    return false;
  };
  EXPECT_EQ(args[0], "restore");
  EXPECT_TRUE(has("--target", "shop/orders"));
  EXPECT_TRUE(has("--backup-id", "20261206T020000Z-a1"));
  EXPECT_TRUE(has("--destination", "dir:/backups/prod"));
  EXPECT_TRUE(has("--into", "shop_copy"));
  EXPECT_TRUE(has("--owner", "shop_copy_owner"));
  EXPECT_TRUE(has("--app-role", "shop_copy_app"));
  EXPECT_EQ(job["metadata"]["labels"]["servicedb.io/component"], "restore");
  EXPECT_EQ(job["metadata"]["ownerReferences"][0]["uid"], sdbObject("copy")["metadata"]["uid"]);
  EXPECT_EQ(job["spec"]["backoffLimit"], 2);
  EXPECT_EQ(job["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"], Json::array({2}));
  EXPECT_EQ(pod["automountServiceAccountToken"], false);
  EXPECT_EQ(pod["containers"][0]["env"][2]["valueFrom"]["secretKeyRef"]["name"], "pg-admin") << "PGUSER from the admin Secret";
  EXPECT_EQ(pod["volumes"][0]["secret"]["secretName"], "backup-keys");
  for (const auto& e : pod["containers"][0]["env"]) EXPECT_FALSE(e.contains("value") && e["value"] == "admin-pw");

  // Still running: no second Job, not Ready, and the engine has not been asked for the database.
  reconcile("copy");
  EXPECT_EQ(condition("Ready", "copy")->status, "False");
  EXPECT_TRUE(fake_.services["shop/copy"].databaseDeferred) << "the restore Job makes the database";

  setJobCondition("Complete");
  reconcile("copy");
  EXPECT_EQ(condition("Restored", "copy")->status, "True");
  EXPECT_NE(condition("Restored", "copy")->message.find("20261206T020000Z-a1"), std::string::npos);
  reconcile("copy");
  EXPECT_EQ(condition("Ready", "copy")->status, "True");
  EXPECT_FALSE(fake_.services["shop/copy"].databaseDeferred) << "the engine adopts the restored database";

  // Read once: deleting the finished Job never restores again.
  ASSERT_TRUE(inproc_->remove(res::kJobs, "shop", "copy-restore", background()).ok());
  reconcile("copy");
  EXPECT_TRUE(get(res::kJobs, "copy-restore").is_null());
  EXPECT_EQ(condition("Ready", "copy")->status, "True");
}

TEST_F(RestoreTest, AFailedRestoreStallsUntilTheJobIsDeleted) {
  ASSERT_TRUE(inproc_->create(res::kBackupPolicies, "shop", policy()).ok());
  create(restoredSdb());
  reconcile("copy");
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "copy-restore-x1"}, {"namespace", "shop"}, {"labels", {{"job-name", "copy-restore"}}}}},
              {"spec", {{"restartPolicy", "Never"}, {"containers", Json::array({{{"name", "restore"}, {"image", "x"}}})}}}};
  ASSERT_TRUE(inproc_->create(res::kPods, "shop", pod).ok());
  podLogs_["copy-restore-x1"] =
      "servicedb-operator restore: restoring: chunk 3: authentication failed (tampered or corrupt)\n";
  setJobCondition("Failed", "Job has reached the specified backoff limit");
  auto r = reconcile("copy");
  EXPECT_EQ(r.kind, runtime::ReconcileResult::Kind::kOk) << "not retried into a loop";
  auto stalled = condition("Stalled", "copy");
  EXPECT_EQ(stalled->status, "True");
  EXPECT_EQ(stalled->reason, "RestoreFailed");
  EXPECT_NE(stalled->message.find("pod \"copy-restore-x1\""), std::string::npos) << stalled->message;
  EXPECT_NE(stalled->message.find("chunk 3: authentication failed"), std::string::npos)
      << "the condition names the chunk the Job's pod reported: " << stalled->message;
  EXPECT_EQ(condition("Restored", "copy")->status, "False");
  ASSERT_TRUE(inproc_->remove(res::kJobs, "shop", "copy-restore", background()).ok());
  reconcile("copy");
  EXPECT_FALSE(get(res::kJobs, "copy-restore").is_null()) << "a deleted failed Job is tried again";
  EXPECT_EQ(condition("Ready", "copy")->reason, "Restoring");
}

}  // namespace
