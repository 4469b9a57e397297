// Pruning: applies retention.h's plan to one target's backups in a Destination, right after a
// successful backup, and logs every step in the access log (access_log.h).
//
//   1. list the target's complete backups ("listed", backupId "*");
//   2. refuse unless the fresh backup is among them: pruning runs only after a successful backup,
//      and the planner then keeps it as the newest;
//   3. plan (retention.h) and delete each backup the plan drops: its manifest first (so a half-deleted
//      backup is no longer "complete" and is never offered for restore), then its stream; one
//      "deleted" entry per backup, with the rules as the reason. A failed deletion is logged as
//      failed and pruning goes on with the next; the result reports it.
//
// Contract: I/O through the Destination (one runner at a time); `now` is injected for tests.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "operator/backup/access_log.h"
#include "operator/backup/destination.h"
#include "operator/backup/retention.h"

namespace sdb::backup {

struct PruneResult {
  std::vector<std::string> kept, deleted, failed;  // ids; failed: "<id>: <error>"
};

Result<PruneResult> pruneBackups(Destination& destination, const AccessLogContext& log, const RetentionRules& rules,
                                 const std::string& freshBackupId, std::chrono::system_clock::time_point now);

}  // namespace sdb::backup
