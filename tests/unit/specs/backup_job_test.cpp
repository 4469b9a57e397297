// The BackupPolicy's pure parts (backup_policy.h, backup_job.h): parsing with defaults and errors
// naming the field, target matching with spec.backupPolicyRef precedence, schedule intervals, and
// the per-target CronJob, ServiceAccount, Role, RoleBinding and report ConfigMap (golden files).
#include "operator/specs/backup_job.h"

#include <gtest/gtest.h>

#include "e2e/apimachinery/pod_security.h"
#include "tests/unit/specs/golden_file.h"

namespace sdb::specs {
namespace {

Json policyObject(const std::string& specJson) {
  return Json{{"apiVersion", "servicedb.io/v1alpha1"},
              {"kind", "BackupPolicy"},
              {"metadata", {{"name", "nightly"}, {"namespace", "shop"}, {"uid", "bp-uid-1"}, {"generation", 3}}},
              {"spec", Json::parse(specJson)}};
}

const char* kPvcSpec = R"({"targets": {"names": ["orders"]}, "timeZone": "Europe/Berlin",
  "encryption": {"keySecretRef": {"name": "backup-keys"}, "activeKeyId": "k-2026"},
  "destination": {"pvc": {"claimName": "backups", "path": "/shop"}},
  "retention": {"keepLast": 3, "keepDaily": 7, "keepWeekly": 4, "keepMonthly": 6, "maxAge": "2160h"},
  "jobTemplate": {"backoffLimit": 1, "activeDeadlineSeconds": 3600, "resources": {"limits": {"memory": "256Mi"}}}})";

const char* kS3Spec = R"({"targets": {"selector": {"matchLabels": {"tier": "gold"}}},
  "encryption": {"keySecretRef": {"name": "backup-keys"}},
  "destination": {"s3": {"bucket": "shop-backups", "prefix": "prod", "endpoint": "https://s3.example.test",
                         "region": "eu-central-1", "forcePathStyle": true, "credentialsSecretRef": {"name": "s3-creds"}}},
  "accessLog": {"events": false}})";

BackupPolicy policy(const char* spec) {
  auto p = parseBackupPolicy(policyObject(spec));
  EXPECT_TRUE(p.ok()) << p.error().message;
  return p.ok() ? *p : BackupPolicy{};
}

ServiceDatabase orders(const std::string& extraSpec = "") {
  auto s = parseServiceDatabase(Json::parse(R"({"metadata": {"name": "orders", "namespace": "shop", "uid": "sdb-uid"},
    "spec": {"service": "orders-api", "engine": "postgres", "version": "15")" + extraSpec + "}}"));
  EXPECT_TRUE(s.ok()) << s.error().message;
  return *s;
}

TEST(BackupPolicySpec, DefaultsFromTheCrd) {
  BackupPolicy p = policy(kS3Spec);
  EXPECT_EQ(p.schedule, "0 2 * * *");
  EXPECT_EQ(p.timeZone, "Etc/UTC");
  EXPECT_EQ(p.retention.keepLast, 7);
  EXPECT_EQ(p.backoffLimit, 2);
  EXPECT_EQ(p.activeDeadlineSeconds, 21600);
  EXPECT_FALSE(p.accessLogEvents);
  EXPECT_EQ(p.destinationDescription(), "s3://shop-backups/prod");
  EXPECT_EQ(policy(kPvcSpec).destinationDescription(), "pvc/backups/shop");
}

TEST(BackupPolicySpec, BadInputNamesTheField) {
  struct Case {
    std::string patch, field;
  };
  const std::vector<Case> cases = {
      {R"({"targets": {"names": null}})", "spec.targets:"},
      {R"({"targets": {"names": [""]}})", "spec.targets.names[0]:"},
      {R"({"targets": {"names": ["a"], "selector": {"matchExpressions": [{"key": "x", "operator": "In"}]}}})",
       "spec.targets.selector.matchExpressions[0].values"},
      {R"({"schedule": "0 2 * *"})", "spec.schedule:"},
      {R"({"schedule": "61 2 * * *"})", "spec.schedule:"},
      {R"({"schedule": "0 0 30 2 *"})", "spec.schedule:"},
      {R"({"timeZone": "../etc/passwd"})", "spec.timeZone:"},
      {R"({"encryption": {"keySecretRef": {"name": ""}}})", "spec.encryption.keySecretRef.name:"},
      {R"({"destination": {"pvc": null}})", "spec.destination:"},
      {R"({"destination": {"s3": {"bucket": "abc", "credentialsSecretRef": {"name": "c"}}}})", "spec.destination:"},
      {R"({"destination": {"pvc": {"claimName": "b", "path": "/../x"}}})", "spec.destination.pvc.path:"},
      {R"({"destination": {"pvc": null, "s3": {"bucket": "ab", "credentialsSecretRef": {"name": "c"}}}})", "spec.destination.s3.bucket:"},
      {R"({"destination": {"pvc": null, "s3": {"bucket": "abc", "endpoint": "ftp://x", "credentialsSecretRef": {"name": "c"}}}})",
       "spec.destination.s3.endpoint:"},
      {R"({"destination": {"pvc": null, "s3": {"bucket": "abc"}}})", "spec.destination.s3.credentialsSecretRef.name:"},
      {R"({"retention": {"keepLast": 1001}})", "spec.retention.keepLast:"},
      {R"({"retention": {"keepDaily": "7"}})", "spec.retention.keepDaily:"},
      {R"({"retention": {"maxAge": "3 days"}})", "spec.retention.maxAge:"},
      {R"({"verify": {"schedule": "nope"}})", "spec.verify.schedule:"},
      {R"({"jobTemplate": {"backoffLimit": 11}})", "spec.jobTemplate.backoffLimit:"},
      {R"({"jobTemplate": {"activeDeadlineSeconds": 10}})", "spec.jobTemplate.activeDeadlineSeconds:"},
  };
  for (const auto& c : cases) {
    Json obj = policyObject(kPvcSpec);
    obj["spec"].merge_patch(Json::parse(c.patch));
    auto p = parseBackupPolicy(obj);
    ASSERT_FALSE(p.ok()) << c.patch;
    EXPECT_EQ(p.error().message.rfind(c.field, 0), 0u) << c.patch << " -> " << p.error().message;
  }
}

TEST(BackupPolicySpec, TargetsByNameSelectorAndReferenceWithPrecedence) {
  BackupPolicy byName = policy(kPvcSpec), bySelector = policy(kS3Spec);
  const Json gold = {{"tier", "gold"}}, silver = {{"tier", "silver"}};
  EXPECT_TRUE(matchTarget(byName, orders(), Json::object()).backedUp);
  EXPECT_FALSE(matchTarget(bySelector, orders(), silver).backedUp);
  EXPECT_TRUE(matchTarget(bySelector, orders(), gold).backedUp);
  // Its own reference wins: another policy's selector never takes it; this one's reference does.
  ServiceDatabase referencesOther = orders(R"(, "backupPolicyRef": {"name": "weekly"})");
  EXPECT_FALSE(matchTarget(bySelector, referencesOther, gold).backedUp);
  EXPECT_FALSE(matchTarget(bySelector, referencesOther, gold).conflict);
  TargetMatch listed = matchTarget(byName, referencesOther, Json::object());
  EXPECT_FALSE(listed.backedUp);
  EXPECT_TRUE(listed.conflict);
  EXPECT_NE(listed.message.find("\"weekly\""), std::string::npos) << listed.message;
  ServiceDatabase referencesThis = orders(R"(, "backupPolicyRef": {"name": "nightly"})");
  EXPECT_TRUE(matchTarget(bySelector, referencesThis, silver).backedUp);
}

TEST(BackupPolicySpec, ScheduleIntervalIsTheLongestGap) {
  using std::chrono::minutes;
  const std::vector<std::pair<std::string, int64_t>> rows = {
      {"0 2 * * *", 1440},       {"@daily", 1440},        {"@hourly", 60},          {"*/15 * * * *", 15},
      {"0 2,14 * * *", 720},     {"0 1,2 * * *", 1380},   {"30 3 * * 0", 7 * 1440}, {"0 4 * * sun", 7 * 1440},
      {"0 0 1 * *", 31 * 1440},  {"0 0 1 1 *", 366 * 1440}, {"0 9-17 * * 1-5", 64 * 60},
      {"0 0 29 2 *", 1461 * 1440}, {"0 0 1 * mon", 7 * 1440}};  // both day fields: either matches
  for (const auto& [schedule, expected] : rows) {
    auto i = scheduleInterval(schedule);
    ASSERT_TRUE(i.ok()) << schedule << ": " << i.error().message;
    EXPECT_EQ(i->count(), expected) << schedule;
  }
  auto never = scheduleInterval("0 0 31 2 *", "spec.verify.schedule");
  ASSERT_FALSE(never.ok());
  EXPECT_EQ(never.error().message.rfind("spec.verify.schedule: ", 0), 0u);
}

TEST(BackupJob, CronJobAndItsIdentityMatchTheGoldenFiles) {
  BackupPolicy p = policy(kPvcSpec);
  auto cj = backupCronJob(p, orders(), {});
  ASSERT_TRUE(cj.ok()) << cj.error().message;
  EXPECT_TRUE(golden::matchesGolden(*cj, "backup_cronjob_pvc.json"));
  EXPECT_TRUE(golden::matchesGolden(backupRole(p, orders()), "backup_role.json"));
  EXPECT_TRUE(golden::matchesGolden(backupRoleBinding(p, orders()), "backup_rolebinding.json"));
  EXPECT_TRUE(golden::matchesGolden(backupServiceAccount(p, orders()), "backup_serviceaccount.json"));
  EXPECT_TRUE(golden::matchesGolden(backupReportConfigMap(p, orders()), "backup_report_configmap.json"));
  BackupJobOptions image;
  image.operatorImage = "registry.example/servicedb-operator:1.2.3";
  auto s3 = backupCronJob(policy(kS3Spec), orders(), image);
  ASSERT_TRUE(s3.ok());
  EXPECT_TRUE(golden::matchesGolden(*s3, "backup_cronjob_s3.json"));
}

TEST(BackupJob, TheLabelContractLetsTheTargetsNetworkPolicyAdmitThePods) {
  auto cj = backupCronJob(policy(kPvcSpec), orders(), {});
  ASSERT_TRUE(cj.ok());
  const Json& labels = (*cj)["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"];
  EXPECT_EQ(labels[kLabelDatabase], "orders");
  EXPECT_EQ(labels[kLabelServicedbComponent], "backup");
  EXPECT_EQ(labels[kLabelManagedBy], "servicedb-operator");
  EXPECT_EQ(labels[kLabelComponent], "backup");
}

TEST(BackupJob, PodPassesTheRestrictedPodSecurityChecks) {
  for (const char* spec : {kPvcSpec, kS3Spec}) {
    auto cj = backupCronJob(policy(spec), orders(), {});
    ASSERT_TRUE(cj.ok());
    const Json& podSpec = (*cj)["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    using apimachinery::PodSecurityLevel;
    EXPECT_EQ(apimachinery::formatViolations(apimachinery::evaluatePodSecurity(PodSecurityLevel::kRestricted, podSpec)), "");
    Json weakened = podSpec;
    weakened["containers"][0]["securityContext"].erase("capabilities");
    EXPECT_NE(apimachinery::formatViolations(apimachinery::evaluatePodSecurity(PodSecurityLevel::kRestricted, weakened)), "");
  }
}

TEST(BackupJob, NoSecretValueIsInTheCronJob) {
  auto cj = backupCronJob(policy(kS3Spec), orders(), {});
  ASSERT_TRUE(cj.ok());
  for (const auto& env : (*cj)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]) {
    const std::string name = env["name"];
    if (name.find("PASSWORD") != std::string::npos || name.find("SECRET") != std::string::npos ||
        name.find("KEY") != std::string::npos) {
      EXPECT_FALSE(env.contains("value")) << name << " must come from a secretKeyRef";
    }
  }
}

TEST(BackupJob, NamesFitACronJobAndStayUnique) {
  BackupPolicy p = policy(kPvcSpec);
  p.name = std::string(40, 'p');
  ServiceDatabase a = orders(), b = orders();
  a.name = std::string(30, 'a');
  b.name = std::string(30, 'a') + "b";
  const std::string na = backupChildName(p, a), nb = backupChildName(p, b);
  EXPECT_LE(na.size(), kMaxCronJobName);
  EXPECT_NE(na, nb);
  EXPECT_EQ(backupChildName(policy(kPvcSpec), orders()), "orders-backup-nightly");
  EXPECT_EQ(backupActor(policy(kPvcSpec), orders()), "system:serviceaccount:shop:orders-backup-nightly");
}

TEST(BackupJob, OtherEnginesAreRefusedNamingTheField) {
  ServiceDatabase redis = orders();
  redis.engine = "redis";
  auto cj = backupCronJob(policy(kPvcSpec), redis, {});
  ASSERT_FALSE(cj.ok());
  EXPECT_EQ(cj.error().message.rfind("spec.engine: ", 0), 0u);
}

}  // namespace
}  // namespace sdb::specs
