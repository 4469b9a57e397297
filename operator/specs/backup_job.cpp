#include "operator/specs/backup_job.h"

#include <algorithm>
#include <cctype>

#include "operator/core/hash.h"
#include "operator/specs/instance.h"

namespace sdb::specs {
namespace {

bool isDns1123Label(const std::string& s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-';
  });
}

Json metadataFor(const BackupPolicy& policy, const ServiceDatabase& target) {
  return {{"name", backupChildName(policy, target)},
          {"namespace", policy.ns},
          {"labels", Json(backupLabels(policy, target))},
          {"ownerReferences", Json::array({backupPolicyOwnerReference(policy)})}};
}

Json secretEnv(const std::string& name, const std::string& secret, const std::string& key, bool optional = false) {
  Json ref = {{"name", secret}, {"key", key}};
  if (optional) ref["optional"] = true;
  return {{"name", name}, {"valueFrom", {{"secretKeyRef", ref}}}};
}

}  // namespace

std::string backupChildName(const BackupPolicy& policy, const ServiceDatabase& target) {
  const std::string plain = target.name + "-backup-" + policy.name;
  if (plain.size() <= kMaxCronJobName && isDns1123Label(plain)) return plain;
  const std::string hash = sha256Hex(policy.ns + "/" + policy.name + "/" + target.name, 10);
  std::string cut;
  for (char c : target.name + "-backup-" + policy.name) cut.push_back(c == '.' ? '-' : c);
  cut.resize(std::min(cut.size(), kMaxCronJobName - hash.size() - 1));
  while (!cut.empty() && cut.back() == '-') cut.pop_back();
  return cut + "-" + hash;
}

std::string backupActor(const BackupPolicy& policy, const ServiceDatabase& target) {
  return "system:serviceaccount:" + policy.ns + ":" + backupChildName(policy, target);
}

Labels backupLabels(const BackupPolicy& policy, const ServiceDatabase& target) {
  Labels l = standardLabels(target, Component::kBackup);
  l[kLabelBackupPolicy] = policy.name;
  return l;
}

Json backupPolicyOwnerReference(const BackupPolicy& policy) {
  return {{"apiVersion", "servicedb.io/v1alpha1"}, {"kind", "BackupPolicy"}, {"name", policy.name},
          {"uid", policy.uid},                      {"controller", true},      {"blockOwnerDeletion", true}};
}

std::vector<std::string> backupDestinationArgs(const BackupPolicy& policy) {
  std::vector<std::string> a;
  if (policy.usesS3()) {
    a.insert(a.end(), {"--destination", "s3://" + policy.s3Bucket + "/" + policy.s3Prefix});
    if (!policy.s3Endpoint.empty()) a.insert(a.end(), {"--s3-endpoint", policy.s3Endpoint});
    if (!policy.s3Region.empty()) a.insert(a.end(), {"--s3-region", policy.s3Region});
    a.push_back(std::string("--s3-force-path-style=") + (policy.s3ForcePathStyle ? "true" : "false"));
  } else {
    std::string dir = std::string(kBackupPvcMount) + (policy.pvcPath == "/" ? "" : policy.pvcPath);
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    a.insert(a.end(), {"--destination", "dir:" + dir});
  }
  return a;
}

void addBackupStorage(const BackupPolicy& policy, Json& env, Json& mounts, Json& volumes) {
  mounts.insert(mounts.begin(), Json{{"name", "keys"}, {"mountPath", kBackupKeysDir}, {"readOnly", true}});
  volumes.insert(volumes.begin(),
                 Json{{"name", "keys"}, {"secret", {{"secretName", policy.keySecretName}, {"defaultMode", 0400}}}});
  if (policy.usesS3()) {
    env.push_back(secretEnv("AWS_ACCESS_KEY_ID", policy.s3CredentialsSecretName, "accessKeyId"));
    env.push_back(secretEnv("AWS_SECRET_ACCESS_KEY", policy.s3CredentialsSecretName, "secretAccessKey"));
  } else {
    mounts.push_back({{"name", "backups"}, {"mountPath", kBackupPvcMount}});
    volumes.push_back({{"name", "backups"}, {"persistentVolumeClaim", {{"claimName", policy.pvcClaimName}}}});
  }
}

Result<std::vector<std::string>> backupArgs(const BackupPolicy& policy, const ServiceDatabase& target) {
  if (target.engine != "postgres") {
    return invalidArgument("spec.engine: backups of " + target.engine + " ServiceDatabases (\"" + target.name +
                           "\") are not scheduled by BackupPolicy yet; PostgreSQL only");
  }
  std::vector<std::string> a = {"backup", "--engine", target.engine, "--target", target.ns + "/" + target.name,
                                "--keys-dir", kBackupKeysDir};
  const auto d = backupDestinationArgs(policy);
  a.insert(a.end(), d.begin(), d.end());
  if (!policy.activeKeyId.empty()) a.insert(a.end(), {"--key-id", policy.activeKeyId});
  a.insert(a.end(), {"--actor", backupActor(policy, target)});
  const auto& r = policy.retention;
  a.insert(a.end(), {"--keep-last", std::to_string(r.keepLast), "--keep-daily", std::to_string(r.keepDaily),
                     "--keep-weekly", std::to_string(r.keepWeekly), "--keep-monthly", std::to_string(r.keepMonthly)});
  if (!r.maxAge.empty()) a.insert(a.end(), {"--max-age", r.maxAge});
  a.insert(a.end(), {"--report-configmap", backupChildName(policy, target), "--policy", policy.name});
  a.push_back(std::string("--events=") + (policy.accessLogEvents ? "true" : "false"));
  return a;
}

Result<Json> backupCronJob(const BackupPolicy& policy, const ServiceDatabase& target, const BackupJobOptions& options) {
  auto args = backupArgs(policy, target);
  if (!args.ok()) return args.error();
  const std::string name = backupChildName(policy, target);
  const std::string creds = target.name + "-migration-credentials";
  Json env = Json::array({secretEnv("PGHOST", creds, "host"), secretEnv("PGPORT", creds, "port"),
                          secretEnv("PGUSER", creds, "username"), secretEnv("PGPASSWORD", creds, "password"),
                          secretEnv("PGDATABASE", creds, "database"), secretEnv("PGSSLMODE", creds, "sslmode", true),
                          {{"name", "PGSSLROOTCERT"}, {"value", kBackupDbCaFile}}});
  Json mounts = Json::array({{{"name", "db-ca"}, {"mountPath", "/var/run/servicedb/db"}, {"readOnly", true}},
                             {{"name", "tmp"}, {"mountPath", "/tmp"}}});
  Json volumes = Json::array(
      {{{"name", "db-ca"},
        {"secret",
         {{"secretName", creds}, {"items", Json::array({{{"key", "ca.crt"}, {"path", "ca.crt"}}})}, {"optional", true}}}},
       {{"name", "tmp"}, {"emptyDir", Json::object()}}});
  addBackupStorage(policy, env, mounts, volumes);
  Json container = {{"name", "backup"},
                    {"image", options.operatorImage},
                    {"imagePullPolicy", options.imagePullPolicy},
                    {"args", *args},
                    {"env", env},
                    {"volumeMounts", mounts},
                    {"securityContext", restrictedContainerSecurityContext()}};
  if (!policy.resources.empty()) container["resources"] = policy.resources;
  const Json labels(backupLabels(policy, target));
  Json podSpec = {{"serviceAccountName", name},
                  {"automountServiceAccountToken", true},
                  {"restartPolicy", "Never"},
                  {"securityContext", restrictedPodSecurityContext(kBackupJobUid)},
                  {"containers", Json::array({container})},
                  {"volumes", volumes}};
  Json jobSpec = {{"backoffLimit", policy.backoffLimit},
                  {"activeDeadlineSeconds", policy.activeDeadlineSeconds},
                  // Exit 2 (usage) and 3 (a key in use is missing, the backup was written) must not be
                  // retried into a series of extra backups (docs/backup-format.md, "Removing a key").
                  {"podFailurePolicy",
                   {{"rules", Json::array({{{"action", "FailJob"},
                                            {"onExitCodes",
                                             {{"containerName", "backup"}, {"operator", "In"}, {"values", {2, 3}}}}}})}}},
                  {"template", {{"metadata", {{"labels", labels}}}, {"spec", podSpec}}}};
  Json cronJob = {{"apiVersion", "batch/v1"},
                  {"kind", "CronJob"},
                  {"metadata", metadataFor(policy, target)},
                  {"spec",
                   {{"schedule", policy.schedule},
                    {"timeZone", policy.timeZone},
                    {"concurrencyPolicy", "Forbid"},
                    {"suspend", policy.suspend},
                    {"successfulJobsHistoryLimit", 3},
                    {"failedJobsHistoryLimit", 3},
                    {"jobTemplate", {{"metadata", {{"labels", labels}}}, {"spec", jobSpec}}}}}};
  return cronJob;
}

Json backupServiceAccount(const BackupPolicy& policy, const ServiceDatabase& target) {
  return {{"apiVersion", "v1"},
          {"kind", "ServiceAccount"},
          {"metadata", metadataFor(policy, target)},
          {"automountServiceAccountToken", false}};
}

Json backupRole(const BackupPolicy& policy, const ServiceDatabase& target) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "Role"},
          {"metadata", metadataFor(policy, target)},
          {"rules", Json::array({{{"apiGroups", {""}},
                                  {"resources", {"configmaps"}},
                                  {"resourceNames", {backupChildName(policy, target)}},
                                  {"verbs", {"get", "patch"}}},
                                 {{"apiGroups", {""}}, {"resources", {"events"}}, {"verbs", {"create"}}}})}};
}

Json backupRoleBinding(const BackupPolicy& policy, const ServiceDatabase& target) {
  const std::string name = backupChildName(policy, target);
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "RoleBinding"},
          {"metadata", metadataFor(policy, target)},
          {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", name}}},
          {"subjects", Json::array({{{"kind", "ServiceAccount"}, {"name", name}, {"namespace", policy.ns}}})}};
}

Json backupReportConfigMap(const BackupPolicy& policy, const ServiceDatabase& target) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", metadataFor(policy, target)}};
}

}  // namespace sdb::specs
