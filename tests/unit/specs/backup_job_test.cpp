// The BackupPolicy's pure parts (backup_policy.h, backup_job.h): parsing with defaults and errors
// naming the field, target matching with spec.backupPolicyRef precedence, schedule intervals, and
// the per-target CronJob, ServiceAccount, Role, RoleBinding and report ConfigMap (golden files).
#include "operator/specs/backup_job.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

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

namespace sdb::specs {
namespace {

const Json& podOf(const Json& cronJob) { return cronJob["spec"]["jobTemplate"]["spec"]["template"]["spec"]; }
std::map<std::string, Json> envOf(const Json& cronJob) {
  std::map<std::string, Json> out;
  for (const auto& e : podOf(cronJob)["containers"][0]["env"]) out[e["name"]] = e;
  return out;
}
std::string secretOf(const Json& env) { return env["valueFrom"]["secretKeyRef"]["name"]; }

TEST(DrillJob, RunsRestoreDrillOnTheVerifyScheduleAsTheAdminWithTheQueryAsTheMigrationLogin) {
  std::string spec = kPvcSpec;
  spec.insert(spec.rfind('}'), R"(, "verify": {"schedule": "30 5 * * 0", "query": "SELECT count(*) FROM orders"})");
  BackupPolicy p = policy(spec.c_str());
  ASSERT_TRUE(p.hasVerify);
  auto cj = drillCronJob(p, orders(R"(, "mode": "dedicated")"), {});
  ASSERT_TRUE(cj.ok()) << cj.error().message;
  EXPECT_TRUE(golden::matchesGolden(*cj, "drill_cronjob_dedicated.json"));
  EXPECT_EQ((*cj)["metadata"]["name"], "orders-drill-nightly");
  EXPECT_EQ((*cj)["spec"]["schedule"], "30 5 * * 0");
  EXPECT_EQ((*cj)["spec"]["timeZone"], "Europe/Berlin");
  EXPECT_EQ((*cj)["spec"]["concurrencyPolicy"], "Forbid");
  EXPECT_EQ(podOf(*cj)["serviceAccountName"], "orders-backup-nightly") << "the backups' identity: it may patch the report";
  const std::vector<std::string> args = podOf(*cj)["containers"][0]["args"];
  auto after = [&](const std::string& flag) {
    auto it = std::find(args.begin(), args.end(), flag);
    return it == args.end() || it + 1 == args.end() ? std::string("<absent>") : *(it + 1);
  };
  EXPECT_EQ(args[0], "restore");
  EXPECT_EQ(args[1], "--drill");
  EXPECT_EQ(after("--query"), "SELECT count(*) FROM orders");
  EXPECT_EQ(after("--report-configmap"), "orders-backup-nightly");
  EXPECT_EQ(after("--backup-id"), "latest");
  EXPECT_EQ(after("--destination"), "dir:/backups/shop");
  auto env = envOf(*cj);
  EXPECT_EQ(secretOf(env["PGUSER"]), "orders-postgres-superuser");
  EXPECT_EQ(secretOf(env["PGPASSWORD"]), "orders-postgres-superuser");
  EXPECT_EQ(env["PGDATABASE"]["value"], "postgres");
  EXPECT_EQ(secretOf(env["SERVICEDB_QUERY_PGUSER"]), "orders-migration-credentials");
  EXPECT_EQ(secretOf(env["SERVICEDB_QUERY_PGPASSWORD"]), "orders-migration-credentials");
  EXPECT_EQ(podOf(*cj)["containers"][0]["name"], "drill");
  EXPECT_EQ((*cj)["spec"]["jobTemplate"]["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["containerName"], "drill");
  using apimachinery::PodSecurityLevel;
  EXPECT_EQ(apimachinery::formatViolations(apimachinery::evaluatePodSecurity(PodSecurityLevel::kRestricted, podOf(*cj))), "");
  EXPECT_EQ(podOf(*cj)["volumes"], podOf(*backupCronJob(p, orders(), {}))["volumes"]) << "same keys, destination, CA";
}

TEST(DrillJob, SharedTargetsUseTheirAdminSecretAndNamesAreCutLikeTheBackups) {
  std::string spec = kPvcSpec;
  spec.insert(spec.rfind('}'), R"(, "verify": {})");
  BackupPolicy p = policy(spec.c_str());
  auto cj = drillCronJob(p, orders(R"(, "mode": "shared", "sharedServer": {"adminSecretRef": {"name": "pg-admin"}})"), {});
  ASSERT_TRUE(cj.ok()) << cj.error().message;
  EXPECT_EQ(secretOf(envOf(*cj)["PGUSER"]), "pg-admin");
  EXPECT_EQ((*cj)["spec"]["schedule"], "0 4 * * 0") << "the CRD's default";
  const std::vector<std::string> args = podOf(*cj)["containers"][0]["args"];
  EXPECT_EQ(std::find(args.begin(), args.end(), "--query"), args.end()) << "no query, no flag";
  p.name = std::string(40, 'p');
  ServiceDatabase a = orders();
  a.name = std::string(30, 'a');
  EXPECT_LE(drillCronJobName(p, a).size(), kMaxCronJobName);
  EXPECT_NE(drillCronJobName(p, a), backupChildName(p, a));
}

TEST(DrillJob, RefusedWithoutVerifyAndForOtherEnginesNamingTheField) {
  auto none = drillCronJob(policy(kPvcSpec), orders(), {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message.rfind("spec.verify: ", 0), 0u);
  std::string spec = kPvcSpec;
  spec.insert(spec.rfind('}'), R"(, "verify": {})");
  ServiceDatabase redis = orders();
  redis.engine = "redis";
  auto r = drillCronJob(policy(spec.c_str()), redis, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("spec.verify: ", 0), 0u);
}

}  // namespace
}  // namespace sdb::specs
