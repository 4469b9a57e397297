// The children a BackupPolicy has per target ServiceDatabase (docs/api.md, "BackupPolicy"):
//   CronJob      <base>   runs `servicedb-operator backup` in the operator's image on spec.schedule
//   ServiceAccount, Role, RoleBinding <base>   the Job's identity, allowed only to report
//   ConfigMap    <base>   the report the Job patches (last attempt, last success, kept) and the
//                         controller folds into the policy's status
// <base> is "<target>-backup-<policy>" when that fits 52 characters (a CronJob's limit, so its Jobs'
// names fit 63) and is a DNS-1123 label; otherwise it is cut and ends in 10 hex of SHA-256.
//
// Every child carries the backup label contract (labels.h, Component::kBackup: servicedb.io/database
// = <target>, servicedb.io/component = backup, app.kubernetes.io/managed-by = servicedb-operator, so
// the target's NetworkPolicy admits the Job's pods), plus servicedb.io/backup-policy = <policy>, and
// a controller owner reference to the policy.
//
// Least privilege: the Role grants get and patch on the one report ConfigMap (by resourceNames) and
// create on Events (for the access log's Events; create cannot be narrowed by name), nothing else.
// The pod runs under the restricted Pod Security profile as uid 65532 (the image's user), with a
// read-only root filesystem and an emptyDir /tmp.
//
// Database credentials: PostgreSQL backups connect as the migration login
// ("<target>-migration-credentials"), a member of the owner role, so pg_dump reads every object
// whoever created it; the app login could miss objects a migration made. Other engines are refused
// for now (the error names spec.engine).
//
// Contract: pure functions, no I/O, thread-safe. Errors name the field.
#pragma once

#include <string>

#include "operator/core/json.h"
#include "operator/core/result.h"
#include "operator/specs/backup_policy.h"
#include "operator/specs/labels.h"
#include "operator/specs/servicedatabase.h"

namespace sdb::specs {

inline constexpr const char* kLabelBackupPolicy = "servicedb.io/backup-policy";
inline constexpr const char* kDefaultOperatorImage = "ghcr.io/servicedb/servicedb-operator:" SERVICEDB_VERSION;
inline constexpr int kBackupJobUid = 65532;
inline constexpr size_t kMaxCronJobName = 52;
// Where the Job's pod mounts things.
inline constexpr const char* kBackupKeysDir = "/var/run/servicedb/keys";
inline constexpr const char* kBackupDbCaFile = "/var/run/servicedb/db/ca.crt";
inline constexpr const char* kBackupPvcMount = "/backups";
// Report ConfigMap keys (JSON values), written by the Job, read by the controller.
inline constexpr const char* kReportLastAttempt = "lastAttempt";
inline constexpr const char* kReportLastSuccess = "lastSuccess";
inline constexpr const char* kReportKept = "kept";
inline constexpr const char* kReportLastVerifiedRestore = "lastVerifiedRestore";

struct BackupJobOptions {
  std::string operatorImage = kDefaultOperatorImage;  // run --operator-image
  std::string imagePullPolicy = "IfNotPresent";
};

std::string backupChildName(const BackupPolicy& policy, const ServiceDatabase& target);
// The restore-drill CronJob: "<target>-drill-<policy>", cut like backupChildName.
std::string drillCronJobName(const BackupPolicy& policy, const ServiceDatabase& target);
// system:serviceaccount:<ns>:<name>, the actor of the access log.
std::string backupActor(const BackupPolicy& policy, const ServiceDatabase& target);
// The label contract for a backup child, plus servicedb.io/backup-policy.
Labels backupLabels(const BackupPolicy& policy, const ServiceDatabase& target);
// {apiVersion: servicedb.io/v1alpha1, kind: BackupPolicy, name, uid, controller, blockOwnerDeletion}
Json backupPolicyOwnerReference(const BackupPolicy& policy);

// --destination (and the S3 flags) of the policy's destination, as the Job's pod sees it.
std::vector<std::string> backupDestinationArgs(const BackupPolicy& policy);
// The key Secret at kBackupKeysDir (first), and the PVC at kBackupPvcMount or the S3 credentials as env.
void addBackupStorage(const BackupPolicy& policy, Json& env, Json& mounts, Json& volumes);
// The container of a backup, drill or restore Job: the operator's image running `args` with `env`,
// the database's CA from Secret `credsSecret` (key ca.crt, optional) at kBackupDbCaFile, an emptyDir
// /tmp, and the policy's keys and destination (addBackupStorage). `volumes` receives the pod's volumes.
Json backupToolContainer(const BackupPolicy& policy, const std::string& name, const std::vector<std::string>& args,
                         Json env, const std::string& credsSecret, const BackupJobOptions& options, Json& volumes);
// The `servicedb-operator backup ...` arguments (after the binary) and the destination flags.
Result<std::vector<std::string>> backupArgs(const BackupPolicy& policy, const ServiceDatabase& target);

Result<Json> backupCronJob(const BackupPolicy& policy, const ServiceDatabase& target, const BackupJobOptions& options);
// spec.verify's CronJob (docs/api.md, "Restore drills"): `servicedb-operator restore --drill` on
// spec.verify.schedule with the policy's destination and keys, the same ServiceAccount, labels and
// report ConfigMap as the backups (it writes lastVerifiedRestore). It connects as the admin login
// (shared: spec.sharedServer.adminSecretRef; dedicated: the instance's superuser Secret) to create
// and drop the throwaway database, and runs spec.verify.query as the migration login, never as the
// admin. Errors: spec.verify absent, or a target other than PostgreSQL (naming spec.verify).
Result<Json> drillCronJob(const BackupPolicy& policy, const ServiceDatabase& target, const BackupJobOptions& options);
Json backupServiceAccount(const BackupPolicy& policy, const ServiceDatabase& target);
Json backupRole(const BackupPolicy& policy, const ServiceDatabase& target);
Json backupRoleBinding(const BackupPolicy& policy, const ServiceDatabase& target);
// The report ConfigMap as the controller creates it: empty data (the Job fills it in).
Json backupReportConfigMap(const BackupPolicy& policy, const ServiceDatabase& target);

}  // namespace sdb::specs
