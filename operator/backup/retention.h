// Retention of backups (BackupPolicy spec.retention), grandfather-father-son: which backups of one
// target to keep and which to delete. A pure planner; the runner acts on its plan (prune.h).
//
// Rules (a backup is kept if ANY rule keeps it):
// - keepLast N: the newest N backups;
// - keepDaily / keepWeekly / keepMonthly N: the newest backup of each of the last N days / ISO weeks /
//   months *that have a backup* (restic's and borg's reading: a pause in backups does not make old
//   ones expire, only newer backups push them out). Days, weeks and months are UTC;
// - maxAge D: every backup younger than D ("delete backups older than this, unless another rule
//   keeps them"); a backup dated in the future (clock skew) counts as young;
// - the newest backup is always kept, whatever the rules say;
// - with no rule at all (every count 0 and no maxAge) nothing is deleted.
// Backups are dated by their id ("20261125T031500Z-<hex>", runner.h). A backup whose id carries no
// such time (a custom --backup-id) is never deleted: the planner cannot place it, and guessing could
// delete the wrong one. Only complete backups (with a manifest) are planned; the caller passes those.
//
// Pruning runs only after a successful backup (the caller's duty, enforced in runner.h's
// pruneBackups by taking the fresh backup's id).
//
// Contract: pure functions, thread-safe, no I/O.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sdb::backup {

struct RetentionRules {
  int keepLast = 0;
  int keepDaily = 0;
  int keepWeekly = 0;
  int keepMonthly = 0;
  std::optional<std::chrono::seconds> maxAge;

  bool empty() const { return keepLast == 0 && keepDaily == 0 && keepWeekly == 0 && keepMonthly == 0 && !maxAge; }
  // "keepLast=7,keepDaily=14,maxAge=2160h" (only the rules that are set), for logs and status.
  std::string describe() const;
};

struct RetentionDecision {
  std::string id;
  std::optional<std::chrono::system_clock::time_point> time;  // from the id; absent: undated
  bool keep = false;
  // Why it is kept: "newest", "last 1", "daily 2026-11-25", "weekly 2026-W48", "monthly 2026-11",
  // "maxAge", "undated id", "no retention rule". Empty for a deletion.
  std::vector<std::string> reasons;
};

struct RetentionPlan {
  std::vector<RetentionDecision> decisions;  // dated ones newest first, then undated ones
  std::vector<std::string> keep, remove;     // ids: dated ones newest first, then undated ones
};

// The time encoded in a backup id made by newBackupId ("20261125T031500Z-..."), or nullopt.
std::optional<std::chrono::system_clock::time_point> backupIdTime(const std::string& id);

// Plans retention over the complete backups `ids` of one target at time `now`.
RetentionPlan planRetention(const std::vector<std::string>& ids, const RetentionRules& rules,
                            std::chrono::system_clock::time_point now);

}  // namespace sdb::backup
