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

namespace {

// "<target>-<infix>-<policy>" when it fits kMaxCronJobName and is a DNS-1123 label, else cut and
// ending in 10 hex of SHA-256.
std::string childName(const BackupPolicy& policy, const ServiceDatabase& target, const std::string& infix) {
  const std::string plain = target.name + "-" + infix + "-" + policy.name;
  if (plain.size() <= kMaxCronJobName && isDns1123Label(plain)) return plain;
  const std::string hash = sha256Hex(policy.ns + "/" + policy.name + "/" + target.name + (infix == "backup" ? "" : "/" + infix), 10);
  std::string cut;
  for (char c : plain) cut.push_back(c == '.' ? '-' : c);
  cut.resize(std::min(cut.size(), kMaxCronJobName - hash.size() - 1));
  while (!cut.empty() && cut.back() == '-') cut.pop_back();
  return cut + "-" + hash;
}

}  // namespace

std::string backupChildName(const BackupPolicy& policy, const ServiceDatabase& target) {
  return childName(policy, target, "backup");
}

std::string drillCronJobName(const BackupPolicy& policy, const ServiceDatabase& target) {
  return childName(policy, target, "drill");
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

Json backupToolContainer(const BackupPolicy& policy, const std::string& name, const std::vector<std::string>& args,
                         Json env, const std::string& credsSecret, const BackupJobOptions& options, Json& volumes) {
  Json mounts = Json::array({{{"name", "db-ca"}, {"mountPath", "/var/run/servicedb/db"}, {"readOnly", true}},
                             {{"name", "tmp"}, {"mountPath", "/tmp"}}});
  volumes = Json::array({{{"name", "db-ca"},
                          {"secret",
                           {{"secretName", credsSecret},
                            {"items", Json::array({{{"key", "ca.crt"}, {"path", "ca.crt"}}})},
                            {"optional", true}}}},
                         {{"name", "tmp"}, {"emptyDir", Json::object()}}});
  addBackupStorage(policy, env, mounts, volumes);
  return {{"name", name},
          {"image", options.operatorImage},
          {"imagePullPolicy", options.imagePullPolicy},
          {"args", args},
          {"env", env},
          {"volumeMounts", mounts},
          {"securityContext", restrictedContainerSecurityContext()}};
}

namespace {

// A CronJob of the policy for `target`, named `name`, running the operator's image with `args` as
// container `container` on `schedule`. The pod: the Job's ServiceAccount (backupChildName), the
// database's CA from the migration credentials, an emptyDir /tmp, the keys and the destination,
// restricted Pod Security. Exit 2 (usage) and 3 (a key in use is missing, the backup was written)
// are not retried (docs/backup-format.md, "Removing a key").
Json policyCronJob(const BackupPolicy& policy, const ServiceDatabase& target, const std::string& name,
                   const std::string& container, const std::string& schedule, const std::vector<std::string>& args,
                   Json env, const BackupJobOptions& options) {
  const std::string creds = target.name + "-migration-credentials";
  env.push_back(secretEnv("PGSSLMODE", creds, "sslmode", true));
  env.push_back({{"name", "PGSSLROOTCERT"}, {"value", kBackupDbCaFile}});
  Json volumes;
  Json c = backupToolContainer(policy, container, args, env, creds, options, volumes);
  if (!policy.resources.empty()) c["resources"] = policy.resources;
  const Json labels(backupLabels(policy, target));
  Json podSpec = {{"serviceAccountName", backupChildName(policy, target)},
                  {"automountServiceAccountToken", true},
                  {"restartPolicy", "Never"},
                  {"securityContext", restrictedPodSecurityContext(kBackupJobUid)},
                  {"containers", Json::array({c})},
                  {"volumes", volumes}};
  Json jobSpec = {{"backoffLimit", policy.backoffLimit},
                  {"activeDeadlineSeconds", policy.activeDeadlineSeconds},
                  {"podFailurePolicy",
                   {{"rules", Json::array({{{"action", "FailJob"},
                                            {"onExitCodes",
                                             {{"containerName", container}, {"operator", "In"}, {"values", {2, 3}}}}}})}}},
                  {"template", {{"metadata", {{"labels", labels}}}, {"spec", podSpec}}}};
  Json metadata = metadataFor(policy, target);
  metadata["name"] = name;
  return {{"apiVersion", "batch/v1"},
          {"kind", "CronJob"},
          {"metadata", metadata},
          {"spec",
           {{"schedule", schedule},
            {"timeZone", policy.timeZone},
            {"concurrencyPolicy", "Forbid"},
            {"suspend", policy.suspend},
            {"successfulJobsHistoryLimit", 3},
            {"failedJobsHistoryLimit", 3},
            {"jobTemplate", {{"metadata", {{"labels", labels}}}, {"spec", jobSpec}}}}}};
}

}  // namespace

Result<Json> backupCronJob(const BackupPolicy& policy, const ServiceDatabase& target, const BackupJobOptions& options) {
  auto args = backupArgs(policy, target);
  if (!args.ok()) return args.error();
  const std::string creds = target.name + "-migration-credentials";
  Json env = Json::array({secretEnv("PGHOST", creds, "host"), secretEnv("PGPORT", creds, "port"),
                          secretEnv("PGUSER", creds, "username"), secretEnv("PGPASSWORD", creds, "password"),
                          secretEnv("PGDATABASE", creds, "database")});
  return policyCronJob(policy, target, backupChildName(policy, target), "backup", policy.schedule, *args, env, options);
}

Result<Json> drillCronJob(const BackupPolicy& policy, const ServiceDatabase& target, const BackupJobOptions& options) {
  if (!policy.hasVerify) return invalidArgument("spec.verify: not set");
  if (target.engine != "postgres") {
    return invalidArgument("spec.verify: restore drills of " + target.engine + " ServiceDatabases (\"" + target.name +
                           "\") are not implemented yet; PostgreSQL only");
  }
  std::vector<std::string> args = {"restore", "--drill", "--engine", "postgres", "--target", target.ns + "/" + target.name,
                                   "--keys-dir", kBackupKeysDir};
  const auto d = backupDestinationArgs(policy);
  args.insert(args.end(), d.begin(), d.end());
  args.insert(args.end(), {"--backup-id", "latest", "--actor", backupActor(policy, target), "--requester",
                           "BackupPolicy " + policy.ns + "/" + policy.name + " restore drill", "--report-configmap",
                           backupChildName(policy, target), "--policy", policy.name});
  args.push_back(std::string("--events=") + (policy.accessLogEvents ? "true" : "false"));
  if (!policy.verifyQuery.empty()) args.insert(args.end(), {"--query", policy.verifyQuery});
  const std::string creds = target.name + "-migration-credentials";
  const std::string admin = target.mode == "shared" ? target.adminSecretName : instanceNames(target).superuserSecret;
  Json env = Json::array({secretEnv("PGHOST", creds, "host"), secretEnv("PGPORT", creds, "port"),
                          secretEnv("PGUSER", admin, "username"), secretEnv("PGPASSWORD", admin, "password"),
                          {{"name", "PGDATABASE"}, {"value", "postgres"}},
                          secretEnv("SERVICEDB_QUERY_PGUSER", creds, "username"),
                          secretEnv("SERVICEDB_QUERY_PGPASSWORD", creds, "password")});
  return policyCronJob(policy, target, drillCronJobName(policy, target), "drill", policy.verifySchedule, args, env, options);
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
