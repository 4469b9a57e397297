// Status of a BackupPolicy: the report ConfigMaps the backup Jobs patch (specs/backup_job.h:
// lastAttempt, lastSuccess, kept) folded into status.targets[], the BackupHealthy evaluation, and the
// kstatus conditions; written once per reconcile, skipping writes that would change nothing.
//
// status: observedGeneration, destination, targetCount, targets[] {name, lastAttempt, lastSuccess,
// kept} (lastVerifiedRestore is kept as found: restore drills are not scheduled yet), conditions
// Ready, Reconciling, Stalled (kstatus), BackupHealthy and TargetConflict.
//
// BackupHealthy, per target: the newest of its last success and the moment its schedule began (its
// CronJob's creationTimestamp: a new target is not overdue before its first two intervals have passed)
// must be within twice the schedule's longest interval of now. False (BackupOverdue) names the targets
// that are late; Unknown when the policy is suspended or has no targets. `nextHealthChange` is when a
// healthy target would turn overdue, so the reconciler requeues for that moment.
//
// Contract: everything but writeStatus is pure. A report value that is not the JSON the Job writes is
// ignored field by field (the Job, not the controller, is its author). Secrets never reach status:
// reports carry times, ids, sizes, durations and messages only. Thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "operator/core/json.h"
#include "operator/kube/client.h"

namespace sdb::controllers::backuppolicy {

inline constexpr const char* kConditionBackupHealthy = "BackupHealthy";
inline constexpr const char* kConditionTargetConflict = "TargetConflict";
// With spec.verify: True when every target's last restore drill passed, False naming the targets
// whose last drill failed, Unknown before every target has had one. Absent without spec.verify.
inline constexpr const char* kConditionRestoreVerified = "RestoreVerified";

// One target's entry of status.targets[], from its report ConfigMap (null when it does not exist yet).
Json foldReport(const std::string& target, const Json* reportConfigMap);

struct TargetHealth {
  std::string name;
  std::optional<std::chrono::system_clock::time_point> lastSuccess;  // from the report
  std::optional<std::chrono::system_clock::time_point> scheduledSince;  // the CronJob's creationTimestamp
};

struct HealthVerdict {
  std::string status;  // "True", "False" or "Unknown"
  std::string reason, message;
  std::optional<std::chrono::nanoseconds> nextHealthChange;  // from now; only when status is "True"
};

HealthVerdict evaluateHealth(const std::vector<TargetHealth>& targets, std::chrono::minutes interval, bool suspended,
                             std::chrono::system_clock::time_point now);

struct Outcome {
  enum class State { kReady, kProgressing, kStalled };
  State state = State::kProgressing;
  std::string reason, message;
  std::string destination;
  std::optional<Json> targets;  // status.targets[] when known in this reconcile; otherwise kept
  std::optional<HealthVerdict> health;
  std::optional<HealthVerdict> verify;  // RestoreVerified, with spec.verify (evaluateDrills)
  std::string conflictMessage;  // "" = no TargetConflict
};

// RestoreVerified from status.targets[].lastVerifiedRestore.
HealthVerdict evaluateDrills(const Json& targets);

Json desiredStatus(const Json& object, const Outcome& outcome, std::chrono::system_clock::time_point now);

struct StatusWrite {
  bool written = false;
  Json object;
};

kube::KResult<StatusWrite> writeStatus(kube::KubeClient& client, const Json& cached, const Outcome& outcome,
                                       std::chrono::system_clock::time_point now, const std::string& fieldManager);

}  // namespace sdb::controllers::backuppolicy
