#include "operator/specs/migration_job.h"

#include <algorithm>

#include "operator/core/hash.h"
#include "operator/specs/instance.h"
#include "operator/specs/labels.h"

namespace sdb::specs {

namespace {

constexpr size_t kMaxJobPrefix = 44;  // + "-migrate-" + 10 hex = 63

Error fieldError(const std::string& field, const std::string& message) { return invalidArgument(field + ": " + message); }

Result<std::vector<std::string>> stringList(const Json& m, const std::string& key) {
  std::vector<std::string> out;
  const Json* v = jsonAt(m, {key});
  if (v == nullptr || v->is_null()) return out;
  const std::string field = "spec.migrations." + key;
  if (!v->is_array()) return fieldError(field, "must be a list of strings");
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) return fieldError(field + "[" + std::to_string(i) + "]", "must be a string");
    out.push_back((*v)[i].get<std::string>());
  }
  return out;
}

std::string jobPrefix(const ServiceDatabase& sdb) {
  std::string cut = sdb.name.substr(0, kMaxJobPrefix);
  while (!cut.empty() && (cut.back() == '-' || cut.back() == '.')) cut.pop_back();
  return cut;
}

Json secretEnv(const std::string& name, const std::string& secret, const std::string& key) {
  return {{"name", name}, {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", key}}}}}};
}

}  // namespace

std::string defaultOperatorImage() { return std::string(kOperatorImageRepository) + ":" + SERVICEDB_VERSION; }

Result<MigrationsSpec> parseMigrations(const ServiceDatabase& sdb) {
  const Json& m = sdb.migrations;
  if (!m.is_object()) return fieldError("spec.migrations", "must be an object with version and image or configMapRef");
  MigrationsSpec out;
  const Json* version = jsonAt(m, {"version"});
  if (version == nullptr || version->is_null()) return fieldError("spec.migrations.version", "is required");
  if (!version->is_string()) return fieldError("spec.migrations.version", "must be a string (quote a number: \"3\")");
  out.version = version->get<std::string>();
  if (out.version.empty() || out.version.size() > 63) {
    return fieldError("spec.migrations.version", "must be 1 to 63 characters");
  }
  if (const Json* image = jsonAt(m, {"image"}); image && !image->is_null()) {
    if (!image->is_string() || image->get<std::string>().empty()) {
      return fieldError("spec.migrations.image", "must be an image reference");
    }
    out.image = image->get<std::string>();
  }
  if (const Json* ref = jsonAt(m, {"configMapRef"}); ref && !ref->is_null()) {
    const Json* name = jsonAt(*ref, {"name"});
    if (name == nullptr || !name->is_string() || name->get<std::string>().empty()) {
      return fieldError("spec.migrations.configMapRef.name", "is required");
    }
    out.configMapName = name->get<std::string>();
  }
  if (out.image.empty() == out.configMapName.empty()) {
    return fieldError("spec.migrations", "exactly one of spec.migrations.image and spec.migrations.configMapRef must be set");
  }
  auto command = stringList(m, "command");
  if (!command.ok()) return command.error();
  auto args = stringList(m, "args");
  if (!args.ok()) return args.error();
  out.command = std::move(*command);
  out.args = std::move(*args);
  if (out.builtin()) {
    if (!out.command.empty()) return fieldError("spec.migrations.command", "is for image mode; remove it or configMapRef");
    if (!out.args.empty()) return fieldError("spec.migrations.args", "is for image mode; remove it or configMapRef");
    if (sdb.engine != "postgres") {
      return fieldError("spec.migrations.configMapRef",
                        "built-in SQL migrations need engine postgres (use spec.migrations.image for " + sdb.engine + ")");
    }
  }
  if (const Json* b = jsonAt(m, {"backupFirst"}); b && !b->is_null()) {
    if (!b->is_boolean()) return fieldError("spec.migrations.backupFirst", "must be a boolean");
    out.backupFirst = b->get<bool>();
  }
  return out;
}

std::string migrationsSpecHash(const ServiceDatabase& sdb) { return sha256Hex(sdb.migrations.dump(), 16); }

std::string migrationRunKey(const std::string& version, const std::string& specHash, const std::string& retryRequest) {
  return sha256Hex(version + "\n" + specHash + "\n" + retryRequest, 10);
}

std::string migrationJobName(const ServiceDatabase& sdb, const std::string& runKey) {
  return jobPrefix(sdb) + "-migrate-" + runKey;
}

std::string migrationBackupJobName(const ServiceDatabase& sdb, const std::string& runKey) {
  return jobPrefix(sdb) + "-backup-" + runKey;
}

std::string finalBackupJobName(const ServiceDatabase& sdb) {
  const std::string suffix = "-final-backup";
  if (sdb.name.size() + suffix.size() <= 63) return sdb.name + suffix;
  const std::string hash = sha256Hex(sdb.ns + "/" + sdb.name, 10);
  std::string cut = sdb.name.substr(0, 63 - suffix.size() - 1 - hash.size());
  while (!cut.empty() && (cut.back() == '-' || cut.back() == '.')) cut.pop_back();
  return cut + suffix + "-" + hash;
}

Json migrationJob(const ServiceDatabase& sdb, const MigrationsSpec& m, const MigrationJobInput& in,
                  const MigrationJobOptions& o) {
  const Labels labels = standardLabels(sdb, Component::kMigrate);
  const std::string& secret = in.credentialsSecret;
  Json env = Json::array({secretEnv("DATABASE_URL", secret, "uri")});
  if (sdb.engine == "postgres") {
    for (const auto& [name, key] : std::vector<std::pair<std::string, std::string>>{
             {"PGHOST", "host"}, {"PGPORT", "port"}, {"PGDATABASE", "database"}, {"PGUSER", "username"},
             {"PGPASSWORD", "password"}, {"PGSSLMODE", "sslmode"}}) {
      env.push_back(secretEnv(name, secret, key));
    }
    if (in.mountCa) env.push_back({{"name", "PGSSLROOTCERT"}, {"value", kMigrationCaPath}});
  }
  env.push_back({{"name", "HOME"}, {"value", "/tmp"}});

  Json mounts = Json::array({{{"name", "tmp"}, {"mountPath", "/tmp"}}});
  Json volumes = Json::array({{{"name", "tmp"}, {"emptyDir", Json::object()}}});
  if (in.mountCa) {
    mounts.push_back({{"name", "ca"}, {"mountPath", "/etc/servicedb/tls"}, {"readOnly", true}});
    volumes.push_back({{"name", "ca"},
                       {"secret", {{"secretName", secret}, {"items", Json::array({{{"key", "ca.crt"}, {"path", "ca.crt"}}})}}}});
  }
  Json container = {{"name", kMigrationContainer},
                    {"imagePullPolicy", "IfNotPresent"},
                    {"env", env},
                    {"resources", {{"requests", {{"cpu", "100m"}, {"memory", "128Mi"}}}, {"limits", {{"memory", "512Mi"}}}}},
                    {"securityContext", restrictedContainerSecurityContext()}};
  if (m.builtin()) {
    container["image"] = o.operatorImage;
    Json args = Json::array({"migrate", "--dir", kMigrationsMountPath});
    if (!in.ownerRole.empty()) {
      args.push_back("--owner-role");
      args.push_back(in.ownerRole);
    }
    container["args"] = args;
    mounts.push_back({{"name", "migrations"}, {"mountPath", kMigrationsMountPath}, {"readOnly", true}});
    volumes.push_back({{"name", "migrations"}, {"configMap", {{"name", m.configMapName}}}});
  } else {
    container["image"] = m.image;
    if (!m.command.empty()) container["command"] = m.command;
    if (!m.args.empty()) container["args"] = m.args;
    // Flyway, Liquibase and Prisma write caches and temporary files next to themselves.
    container["securityContext"]["readOnlyRootFilesystem"] = false;
  }
  container["volumeMounts"] = mounts;

  const Json annotations = {{kAnnotationMigrationVersion, m.version}, {kAnnotationMigrationSpecHash, in.specHash}};
  Json pod = {{"metadata", {{"labels", labels}, {"annotations", {{kAnnotationMigrationVersion, m.version}}}}},
              {"spec",
               {{"restartPolicy", "Never"},
                {"automountServiceAccountToken", false},
                {"enableServiceLinks", false},
                {"securityContext", restrictedPodSecurityContext(kMigrationUid)},
                {"containers", Json::array({container})},
                {"volumes", volumes}}}};
  return {{"apiVersion", "batch/v1"},
          {"kind", "Job"},
          {"metadata",
           {{"name", in.jobName},
            {"namespace", sdb.ns},
            {"labels", labels},
            {"annotations", annotations},
            {"ownerReferences", Json::array({ownerReference(sdb)})}}},
          {"spec",
           {{"backoffLimit", o.backoffLimit},
            {"activeDeadlineSeconds", o.activeDeadlineSeconds},
            {"ttlSecondsAfterFinished", o.ttlSecondsAfterFinished},
            {"template", pod}}}};
}

Result<Json> backupJobFromCronJob(const ServiceDatabase& sdb, const Json& cronJob, const std::string& jobName,
                                  const std::string& version) {
  const std::string cronName = jsonString(cronJob, {"metadata", "name"});
  const Json* spec = jsonAt(cronJob, {"spec", "jobTemplate", "spec"});
  if (spec == nullptr || !spec->is_object() || !jsonAt(*spec, {"template"})) {
    return invalidArgument("CronJob \"" + cronName + "\" has no spec.jobTemplate.spec.template");
  }
  Json labels = Json::object(), annotations = Json::object();
  if (const Json* l = jsonAt(cronJob, {"spec", "jobTemplate", "metadata", "labels"}); l && l->is_object()) labels = *l;
  if (const Json* a = jsonAt(cronJob, {"spec", "jobTemplate", "metadata", "annotations"}); a && a->is_object()) {
    annotations = *a;
  }
  for (const auto& [k, v] : selectorLabels(sdb)) {
    if (!labels.contains(k)) labels[k] = v;
  }
  annotations["cronjob.kubernetes.io/instantiate"] = "manual";  // as kubectl create job --from marks it
  annotations[kAnnotationFromCronJob] = cronName;
  if (!version.empty()) annotations[kAnnotationMigrationVersion] = version;
  return Json{{"apiVersion", "batch/v1"},
              {"kind", "Job"},
              {"metadata",
               {{"name", jobName},
                {"namespace", sdb.ns},
                {"labels", labels},
                {"annotations", annotations},
                {"ownerReferences", Json::array({ownerReference(sdb)})}}},
              {"spec", *spec}};
}

}  // namespace sdb::specs
