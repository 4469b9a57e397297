// Migration Jobs: golden files for image mode, built-in mode and the backup Job made from a
// CronJob; the properties that matter asserted one by one (no secret value in the Job, the label
// contract, restricted Pod Security, names within 63 characters); spec.migrations refusals naming
// the field; run keys that change with the version, the spec and the retry annotation only.
#include "operator/specs/migration_job.h"

#include <gtest/gtest.h>

#include "e2e/apimachinery/pod_security.h"
#include "tests/unit/specs/golden_file.h"

using namespace sdb;
using namespace sdb::specs;
using sdb::specs::golden::matchesGolden;

namespace {

ServiceDatabase sdbWith(const Json& migrations, const std::string& engine = "postgres",
                        const std::string& name = "orders") {
  Json o = {{"apiVersion", "servicedb.io/v1alpha1"},
            {"kind", "ServiceDatabase"},
            {"metadata", {{"name", name}, {"namespace", "shop"}, {"uid", "7d1c2a9e-uid"}}},
            {"spec", {{"service", "orders-api"}, {"engine", engine}, {"migrations", migrations}}}};
  auto s = parseServiceDatabase(o);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return *s;
}

const Json kImageMode = {{"version", "3"},
                         {"image", "flyway/flyway:10"},
                         {"command", {"flyway"}},
                         {"args", {"-locations=filesystem:/flyway/sql", "migrate"}}};
const Json kBuiltinMode = {{"version", "2"}, {"configMapRef", {{"name", "orders-migrations"}}}, {"backupFirst", true}};

Json build(const ServiceDatabase& s, bool mountCa = true, const std::string& ownerRole = "shop_orders_owner") {
  auto m = parseMigrations(s);
  EXPECT_TRUE(m.ok()) << m.error().message;
  MigrationJobInput in;
  in.specHash = migrationsSpecHash(s);
  in.jobName = migrationJobName(s, migrationRunKey(m->version, in.specHash, ""));
  in.credentialsSecret = "orders-migration-credentials";
  in.mountCa = mountCa;
  in.ownerRole = ownerRole;
  MigrationJobOptions o;
  o.operatorImage = "ghcr.io/servicedb/servicedb-operator:0.1.0";
  return migrationJob(s, *m, in, o);
}

Json envOf(const Json& job) { return job["spec"]["template"]["spec"]["containers"][0]["env"]; }

TEST(MigrationJob, ImageModeGolden) {
  Json job = build(sdbWith(kImageMode));
  EXPECT_TRUE(matchesGolden(job, "migration_job_image.json"));
  const Json& c = job["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["image"], "flyway/flyway:10");
  EXPECT_EQ(c["command"], Json({"flyway"}));
  EXPECT_EQ(c["args"][1], "migrate");
}

TEST(MigrationJob, BuiltinModeGolden) {
  Json job = build(sdbWith(kBuiltinMode));
  EXPECT_TRUE(matchesGolden(job, "migration_job_builtin.json"));
  const Json& spec = job["spec"]["template"]["spec"];
  EXPECT_EQ(spec["containers"][0]["image"], "ghcr.io/servicedb/servicedb-operator:0.1.0");
  EXPECT_EQ(spec["containers"][0]["args"],
            Json({"migrate", "--dir", "/migrations", "--owner-role", "shop_orders_owner"}));
  EXPECT_FALSE(spec["containers"][0].contains("command")) << "the image's ENTRYPOINT is the binary";
  EXPECT_EQ(spec["containers"][0]["securityContext"]["readOnlyRootFilesystem"], true);
  bool mounted = false;
  for (const auto& v : spec["volumes"]) mounted = mounted || v.value("name", "") == "migrations";
  EXPECT_TRUE(mounted);
  EXPECT_EQ(spec["volumes"][2]["configMap"]["name"], "orders-migrations");
  // Without an owner role the runner falls back to the login's default role.
  EXPECT_EQ(build(sdbWith(kBuiltinMode), true, "")["spec"]["template"]["spec"]["containers"][0]["args"],
            Json({"migrate", "--dir", "/migrations"}));
}

TEST(MigrationJob, ConnectionOnlyThroughSecretKeyRefs) {
  Json env = envOf(build(sdbWith(kImageMode)));
  std::map<std::string, std::string> keys;
  for (const auto& e : env) {
    if (e.contains("valueFrom")) {
      EXPECT_EQ(e["valueFrom"]["secretKeyRef"]["name"], "orders-migration-credentials") << e.dump();
      keys[e["name"]] = e["valueFrom"]["secretKeyRef"]["key"];
    }
  }
  EXPECT_EQ(keys, (std::map<std::string, std::string>{{"DATABASE_URL", "uri"},
                                                       {"PGHOST", "host"},
                                                       {"PGPORT", "port"},
                                                       {"PGDATABASE", "database"},
                                                       {"PGUSER", "username"},
                                                       {"PGPASSWORD", "password"},
                                                       {"PGSSLMODE", "sslmode"}}));
  bool rootCert = false;
  for (const auto& e : env) rootCert = rootCert || (e["name"] == "PGSSLROOTCERT" && e["value"] == kMigrationCaPath);
  EXPECT_TRUE(rootCert);
  // Without ca.crt in the Secret: no mount (the pod would not start) and no PGSSLROOTCERT.
  Json noCa = build(sdbWith(kImageMode), false);
  for (const auto& e : envOf(noCa)) EXPECT_NE(e["name"], "PGSSLROOTCERT");
  for (const auto& v : noCa["spec"]["template"]["spec"]["volumes"]) EXPECT_NE(v["name"], "ca");
  // Other engines get DATABASE_URL only.
  Json mongo = build(sdbWith(kImageMode, "mongodb"));
  ASSERT_EQ(envOf(mongo).size(), 2u);
  EXPECT_EQ(envOf(mongo)[0]["name"], "DATABASE_URL");
}

TEST(MigrationJob, LabelContractOwnerAndLifetime) {
  ServiceDatabase s = sdbWith(kImageMode);
  Json job = build(s);
  for (const Json* labels : {&job["metadata"]["labels"], &job["spec"]["template"]["metadata"]["labels"]}) {
    EXPECT_EQ((*labels)["servicedb.io/component"], "migrate");
    EXPECT_EQ((*labels)["app.kubernetes.io/component"], "migrate");
    EXPECT_EQ((*labels)["servicedb.io/database"], "orders");
    EXPECT_EQ((*labels)["app.kubernetes.io/managed-by"], "servicedb-operator");
    EXPECT_EQ((*labels)["app.kubernetes.io/part-of"], "orders-api");
  }
  EXPECT_EQ(job["metadata"]["ownerReferences"][0]["uid"], "7d1c2a9e-uid");
  EXPECT_EQ(job["metadata"]["ownerReferences"][0]["controller"], true);
  EXPECT_EQ(job["metadata"]["annotations"][kAnnotationMigrationVersion], "3");
  EXPECT_GT(job["spec"]["ttlSecondsAfterFinished"].get<int>(), 3600) << "time enough to record the result";
  EXPECT_GT(job["spec"]["activeDeadlineSeconds"].get<int>(), 0);
  EXPECT_EQ(job["spec"]["template"]["spec"]["restartPolicy"], "Never");
  EXPECT_EQ(job["spec"]["template"]["spec"]["automountServiceAccountToken"], false);
}

TEST(MigrationJob, PodsPassTheRestrictedChecks) {
  for (const Json& m : {kImageMode, kBuiltinMode}) {
    Json spec = build(sdbWith(m))["spec"]["template"]["spec"];
    EXPECT_EQ(apimachinery::formatViolations(
                  apimachinery::evaluatePodSecurity(apimachinery::PodSecurityLevel::kRestricted, spec)),
              "")
        << m.dump();
    Json weakened = spec;
    weakened["containers"][0]["securityContext"].erase("capabilities");
    EXPECT_NE(apimachinery::formatViolations(
                  apimachinery::evaluatePodSecurity(apimachinery::PodSecurityLevel::kRestricted, weakened)),
              "");
  }
}

TEST(MigrationJob, NamesAreDeterministicPerRunAndFit63) {
  ServiceDatabase s = sdbWith(kImageMode);
  const std::string h = migrationsSpecHash(s);
  const std::string k = migrationRunKey("3", h, "");
  EXPECT_EQ(k.size(), 10u);
  EXPECT_EQ(migrationRunKey("3", h, ""), k);
  EXPECT_NE(migrationRunKey("4", h, ""), k) << "a new version";
  EXPECT_NE(migrationRunKey("3", h, "again"), k) << "a retry request";
  Json changed = kImageMode;
  changed["image"] = "flyway/flyway:11";
  EXPECT_NE(migrationsSpecHash(sdbWith(changed)), h) << "a changed spec";
  EXPECT_EQ(migrationJobName(s, k), "orders-migrate-" + k);
  EXPECT_EQ(migrationBackupJobName(s, k), "orders-backup-" + k);
  ServiceDatabase longName = sdbWith(kImageMode, "postgres", std::string(60, 'a') + "-b");
  EXPECT_EQ(migrationJobName(longName, k).size(), 63u);
  EXPECT_LE(migrationBackupJobName(longName, k).size(), 63u);
  ServiceDatabase dashAt44 = sdbWith(kImageMode, "postgres", std::string(43, 'a') + "-bcd");
  EXPECT_EQ(migrationJobName(dashAt44, k), std::string(43, 'a') + "-migrate-" + k) << "no '--' at the cut";
}

TEST(MigrationJob, FinalBackupJobNameKeepsItsSuffixPast63) {
  EXPECT_EQ(finalBackupJobName(sdbWith(kImageMode)), "orders-final-backup");
  ServiceDatabase fits = sdbWith(kImageMode, "postgres", std::string(50, 'a'));
  EXPECT_EQ(finalBackupJobName(fits), std::string(50, 'a') + "-final-backup");
  ServiceDatabase longName = sdbWith(kImageMode, "postgres", std::string(60, 'a') + "-b");
  const std::string n = finalBackupJobName(longName);
  EXPECT_EQ(n.size(), 63u);
  EXPECT_EQ(n.rfind(std::string(39, 'a') + "-final-backup-", 0), 0u) << n;
  EXPECT_NE(finalBackupJobName(sdbWith(kImageMode, "postgres", std::string(60, 'a') + "-c")), n);
}

TEST(MigrationJob, RefusalsNameTheField) {
  const std::vector<std::pair<Json, std::string>> cases = {
      {Json{{"image", "x"}}, "spec.migrations.version: is required"},
      {Json{{"version", 3}, {"image", "x"}}, "spec.migrations.version: must be a string"},
      {Json{{"version", ""}, {"image", "x"}}, "spec.migrations.version: must be 1 to 63"},
      {Json{{"version", std::string(64, '1')}, {"image", "x"}}, "spec.migrations.version: must be 1 to 63"},
      {Json{{"version", "1"}}, "exactly one of spec.migrations.image and spec.migrations.configMapRef"},
      {Json{{"version", "1"}, {"image", "x"}, {"configMapRef", {{"name", "m"}}}}, "exactly one of"},
      {Json{{"version", "1"}, {"configMapRef", Json::object()}}, "spec.migrations.configMapRef.name: is required"},
      {Json{{"version", "1"}, {"image", "x"}, {"command", "flyway migrate"}}, "spec.migrations.command: must be a list"},
      {Json{{"version", "1"}, {"image", "x"}, {"args", {"a", 2}}}, "spec.migrations.args[1]: must be a string"},
      {Json{{"version", "1"}, {"configMapRef", {{"name", "m"}}}, {"args", {"a"}}}, "spec.migrations.args: is for image mode"},
      {Json{{"version", "1"}, {"image", "x"}, {"backupFirst", "yes"}}, "spec.migrations.backupFirst: must be a boolean"},
  };
  for (const auto& [m, want] : cases) {
    auto r = parseMigrations(sdbWith(m));
    ASSERT_FALSE(r.ok()) << m.dump();
    EXPECT_NE(r.error().message.find(want), std::string::npos) << m.dump() << " -> " << r.error().message;
  }
  auto redis = parseMigrations(sdbWith(Json{{"version", "1"}, {"configMapRef", {{"name", "m"}}}}, "redis"));
  ASSERT_FALSE(redis.ok());
  EXPECT_NE(redis.error().message.find("spec.migrations.configMapRef: built-in SQL migrations need engine postgres"),
            std::string::npos);
  auto ok = parseMigrations(sdbWith(kBuiltinMode));
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->backupFirst);
  EXPECT_TRUE(ok->builtin());
}

TEST(MigrationJob, BackupJobFromCronJobGolden) {
  Json cronJob = {{"apiVersion", "batch/v1"},
                  {"kind", "CronJob"},
                  {"metadata", {{"name", "orders-backup"}, {"namespace", "shop"}}},
                  {"spec",
                   {{"schedule", "0 2 * * *"},
                    {"jobTemplate",
                     {{"metadata", {{"labels", {{"servicedb.io/component", "backup"}, {"servicedb.io/database", "orders"}}}}},
                      {"spec",
                       {{"backoffLimit", 0},
                        {"template",
                         {{"metadata", {{"labels", {{"servicedb.io/component", "backup"}}}}},
                          {"spec",
                           {{"restartPolicy", "Never"},
                            {"containers", Json::array({{{"name", "backup"}, {"image", "ghcr.io/servicedb/servicedb-operator:0.1.0"},
                                                         {"args", {"backup"}}}})}}}}}}}}}}}};
  ServiceDatabase s = sdbWith(kBuiltinMode);
  auto job = backupJobFromCronJob(s, cronJob, "orders-backup-0123456789", "2");
  ASSERT_TRUE(job.ok()) << job.error().message;
  EXPECT_TRUE(matchesGolden(*job, "migration_backup_job.json"));
  EXPECT_EQ((*job)["spec"], cronJob["spec"]["jobTemplate"]["spec"]) << "the template's spec, unchanged";
  EXPECT_EQ((*job)["metadata"]["labels"]["app.kubernetes.io/managed-by"], "servicedb-operator") << "added";
  EXPECT_EQ((*job)["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"], "manual");
  EXPECT_EQ((*job)["metadata"]["ownerReferences"][0]["kind"], "ServiceDatabase");
  auto final = backupJobFromCronJob(s, cronJob, finalBackupJobName(s), "");
  ASSERT_TRUE(final.ok());
  EXPECT_FALSE((*final)["metadata"]["annotations"].contains("servicedb.io/migration-version")) << "no version";
  Json broken = cronJob;
  broken["spec"].erase("jobTemplate");
  auto refused = backupJobFromCronJob(s, broken, "x", "2");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("CronJob \"orders-backup\" has no spec.jobTemplate.spec.template"),
            std::string::npos);
}

}  // namespace
