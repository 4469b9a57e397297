#include "operator/specs/restore_job.h"

#include "operator/core/hash.h"
#include "operator/specs/instance.h"

namespace sdb::specs {
namespace {

Json secretEnv(const std::string& name, const std::string& secret, const std::string& key, bool optional = false) {
  Json ref = {{"name", secret}, {"key", key}};
  if (optional) ref["optional"] = true;
  return {{"name", name}, {"valueFrom", {{"secretKeyRef", ref}}}};
}

}  // namespace

Result<RestoreSource> parseRestoreSource(const ServiceDatabase& sdb) {
  RestoreSource s;
  const Json* from = jsonAt(sdb.restore, {"fromBackup"});
  if (!from || !from->is_object()) return invalidArgument("spec.restore.fromBackup: required");
  s.policy = from->value("policy", "");
  if (s.policy.empty()) return invalidArgument("spec.restore.fromBackup.policy: required");
  s.backupId = from->value("backupId", "latest");
  if (s.backupId.empty()) s.backupId = "latest";
  s.target = from->value("target", sdb.ns + "/" + sdb.name);
  const auto slash = s.target.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == s.target.size() ||
      s.target.find('/', slash + 1) != std::string::npos) {
    return invalidArgument("spec.restore.fromBackup.target: \"" + s.target + "\" is not NAMESPACE/NAME");
  }
  return s;
}

std::string restoreJobName(const ServiceDatabase& sdb) {
  const std::string plain = sdb.name + "-restore";
  if (plain.size() <= 63) return plain;
  return plain.substr(0, 52) + "-" + sha256Hex(sdb.ns + "/" + sdb.name, 10);
}

Result<Json> restoreJob(const ServiceDatabase& sdb, const BackupPolicy& policy, const RestoreJobInput& in,
                        const BackupJobOptions& options) {
  if (sdb.engine != "postgres") {
    return invalidArgument("spec.engine: restoring " + sdb.engine + " ServiceDatabases from a backup is not "
                           "implemented yet; PostgreSQL only");
  }
  std::vector<std::string> args = {"restore", "--engine", "postgres", "--target", in.source.target, "--keys-dir",
                                   kBackupKeysDir};
  const auto d = backupDestinationArgs(policy);
  args.insert(args.end(), d.begin(), d.end());
  args.insert(args.end(), {"--backup-id", in.source.backupId, "--into", in.database, "--owner", in.ownerRole,
                           "--app-role", in.appRole, "--requester", "ServiceDatabase " + sdb.ns + "/" + sdb.name});
  const std::string creds = sdb.name + "-migration-credentials";
  Json env = Json::array({secretEnv("PGHOST", creds, "host"), secretEnv("PGPORT", creds, "port"),
                          secretEnv("PGUSER", in.adminSecretName, "username"),
                          secretEnv("PGPASSWORD", in.adminSecretName, "password"),
                          {{"name", "PGDATABASE"}, {"value", "postgres"}},
                          secretEnv("PGSSLMODE", creds, "sslmode", true),
                          {{"name", "PGSSLROOTCERT"}, {"value", kBackupDbCaFile}},
                          {{"name", "SERVICEDB_ACTOR"}, {"value", "ServiceDatabase " + sdb.ns + "/" + sdb.name + " restore Job"}}});
  Json volumes;
  Json container = backupToolContainer(policy, "restore", args, env, creds, options, volumes);
  const Json labels(standardLabels(sdb, Component::kRestore));
  Json pod = {{"automountServiceAccountToken", false},
              {"restartPolicy", "Never"},
              {"securityContext", restrictedPodSecurityContext(kBackupJobUid)},
              {"containers", Json::array({container})},
              {"volumes", volumes}};
  return Json{{"apiVersion", "batch/v1"},
              {"kind", "Job"},
              {"metadata",
               {{"name", restoreJobName(sdb)},
                {"namespace", sdb.ns},
                {"labels", labels},
                {"ownerReferences", Json::array({ownerReference(sdb)})}}},
              {"spec",
               // Retries are safe: a failed restore drops the database it created. They cover a pod that
               // starts before the instance's NetworkPolicy admits it (policy propagation lags, as
               // with CNIs). A usage error (exit 2) fails at once.
               {{"backoffLimit", 2},
                {"podFailurePolicy",
                 {{"rules", Json::array({{{"action", "FailJob"},
                                          {"onExitCodes",
                                           {{"containerName", "restore"}, {"operator", "In"}, {"values", {2}}}}}})}}},
                {"activeDeadlineSeconds", policy.activeDeadlineSeconds},
                {"template", {{"metadata", {{"labels", labels}}}, {"spec", pod}}}}}};
}

}  // namespace sdb::specs
