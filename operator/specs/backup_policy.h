// A typed, validated view of a BackupPolicy (crds/servicedb.io_backuppolicies.yaml), and which
// ServiceDatabases it backs up (docs/api.md, "BackupPolicy": names and selector, the union; a
// ServiceDatabase's own spec.backupPolicyRef always wins).
//
// Contract: pure. parseBackupPolicy applies the CRD's defaults where a field is absent and refuses
// what the operator cannot act on with an InvalidArgument error whose message starts with the field
// path ("spec.retention.maxAge: ..."). Never throws. Thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "operator/core/json.h"
#include "operator/core/result.h"
#include "operator/specs/servicedatabase.h"

namespace sdb::specs {

struct BackupRetentionSpec {
  int keepLast = 0, keepDaily = 0, keepWeekly = 0, keepMonthly = 0;
  std::string maxAge;  // as written (Go duration), "" = none
};

struct BackupPolicy {
  std::string ns, name, uid;
  int64_t generation = 0;
  std::vector<std::string> targetNames;
  Json targetSelector;  // metav1.LabelSelector, null when absent
  std::string schedule = "0 2 * * *";
  std::string timeZone = "Etc/UTC";
  bool suspend = false;
  std::string keySecretName, activeKeyId;
  // Destination: exactly one of pvc and s3.
  std::string pvcClaimName, pvcPath = "/";
  std::string s3Bucket, s3Prefix, s3Endpoint, s3Region, s3CredentialsSecretName;
  bool s3ForcePathStyle = false;
  BackupRetentionSpec retention{7, 0, 0, 0, ""};
  bool accessLogEvents = true;
  std::string auditStoreName;
  bool hasVerify = false;
  std::string verifySchedule = "0 4 * * 0", verifyQuery;
  int backoffLimit = 2;
  int64_t activeDeadlineSeconds = 21600;
  Json resources = Json::object();

  bool usesS3() const { return !s3Bucket.empty(); }
  // "pvc/<claim><path>" or "s3://bucket/prefix", for status.destination.
  std::string destinationDescription() const;
};

Result<BackupPolicy> parseBackupPolicy(const Json& object);

// Whether `policy` backs up `sdb`, and why not when it does not:
// - a ServiceDatabase that references another policy (spec.backupPolicyRef) is never taken; when
//   this policy lists it by name, that is a TargetConflict (conflict = true);
// - otherwise it is taken when listed by name, matched by the selector, or when it references this
//   policy.
struct TargetMatch {
  bool backedUp = false;
  bool conflict = false;
  std::string message;  // for a conflict: names the ServiceDatabase and the policy it references
};
TargetMatch matchTarget(const BackupPolicy& policy, const ServiceDatabase& sdb, const Json& sdbLabels);

// The longest time between two consecutive runs of a cron schedule (five fields, or @yearly,
// @annually, @monthly, @weekly, @daily, @midnight, @hourly), over one leap-year cycle of days
// checked minute by minute. Time zones shift runs but not the gaps (DST aside, up to an hour).
// Errors name `field`.
Result<std::chrono::minutes> scheduleInterval(const std::string& schedule, const std::string& field = "spec.schedule");

}  // namespace sdb::specs
