#include "operator/backup/prune.h"

#include <algorithm>

#include "operator/backup/runner.h"

namespace sdb::backup {

Result<PruneResult> pruneBackups(Destination& dest, const AccessLogContext& log, const RetentionRules& rules,
                                 const std::string& freshBackupId, std::chrono::system_clock::time_point now) {
  auto ids = completeBackupIds(dest, log.target);
  if (!ids.ok()) {
    (void)recordAccess(dest, log, access::kListed, access::kAllBackups, access::kFailed,
                       {{"purpose", "retention"}, {"error", ids.error().message}});
    return ids.error().wrap("listing the backups of " + log.target + " for retention");
  }
  SDB_TRY(recordAccess(dest, log, access::kListed, access::kAllBackups, access::kSucceeded,
                       {{"purpose", "retention"}, {"count", ids->size()}}));
  if (std::find(ids->begin(), ids->end(), freshBackupId) == ids->end()) {
    return Error(ErrorCode::kFailedPrecondition, "not pruning " + log.target + ": the fresh backup " + freshBackupId +
                                                     " is not complete in " + dest.describe() +
                                                     " (pruning runs only after a successful backup)");
  }
  RetentionPlan plan = planRetention(*ids, rules, now);
  PruneResult out;
  out.kept = plan.keep;
  const std::string reason = "retention: " + rules.describe();
  for (const auto& id : plan.remove) {
    Status removed = dest.remove(log.target + "/" + id + ".manifest.json");
    if (removed.ok()) removed = dest.remove(log.target + "/" + id + ".sdbk");
    if (!removed.ok()) {
      out.failed.push_back(id + ": " + removed.error().message);
      (void)recordAccess(dest, log, access::kDeleted, id, access::kFailed, {{"reason", reason}, {"error", removed.error().message}});
      continue;
    }
    out.deleted.push_back(id);
    SDB_TRY(recordAccess(dest, log, access::kDeleted, id, access::kSucceeded, {{"reason", reason}}));
  }
  return out;
}

}  // namespace sdb::backup
