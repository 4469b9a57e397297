// The backup access log (BackupPolicy spec.accessLog; docs/backup-format.md, "Access log"): every
// backup written, listed, read, restored or deleted gets one entry, a single JSON line:
//
//   {"time":"2026-11-25T03:15:02.123456Z","action":"written","backupId":"20261125T031500Z-0a1b2c3d",
//    "target":"shop/orders","actor":"system:serviceaccount:shop:orders-backup",
//    "requester":"ServiceDatabase shop/orders-copy","result":"succeeded","size":1234}
//
// - action: written | listed | read | restored | deleted (read: authenticated end to end without
//   restoring, `restore --verify-only` and the key guard's manifest reads count as listed);
// - backupId: the backup, or "*" for a listing of all of a target's backups;
// - actor: who did it (the Job's ServiceAccount as "system:serviceaccount:NS:NAME"); requester: on
//   whose behalf, where known (absent otherwise);
// - result: succeeded | failed; a failure adds "error"; other fields (size, count, reason) may follow.
// Entries never carry key material, credentials or the backup's data.
//
// Storage: one object per entry under "<target>/access-log/", named
//   <UTC time, YYYYMMDDTHHMMSS.ffffffZ>-<8 random hex>-<action>-<backupId>.json
// so names sort in time order (a listing is the log, oldest first; a day is one prefix,
// "<target>/access-log/20261125"), two writers never collide, and nothing is ever appended to or
// rewritten: object storage cannot append, and a directory gets the same objects.
//
// Contract: the format functions are pure and thread-safe. writeAccessLogEntry does I/O through the
// Destination (one object, created once, never replaced).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "operator/backup/destination.h"
#include "operator/core/json.h"
#include "operator/core/random.h"

namespace sdb::backup {

namespace access {
inline constexpr const char* kWritten = "written";
inline constexpr const char* kListed = "listed";
inline constexpr const char* kRead = "read";
inline constexpr const char* kRestored = "restored";
inline constexpr const char* kDeleted = "deleted";
inline constexpr const char* kSucceeded = "succeeded";
inline constexpr const char* kFailed = "failed";
inline constexpr const char* kAllBackups = "*";
}  // namespace access

struct AccessLogEntry {
  std::chrono::system_clock::time_point time;
  std::string action, backupId, target, actor, requester, result;
  Json details = Json::object();  // extra fields: size, count, error, reason
};

// The entry as one JSON object (fixed fields win over same-named details).
Json accessLogJson(const AccessLogEntry& entry);
// accessLogJson(...).dump() + "\n".
std::string accessLogLine(const AccessLogEntry& entry);
// Parses one line back; errors name the missing or mistyped field.
Result<AccessLogEntry> parseAccessLogLine(const std::string& line);
// "<target>/access-log/<YYYYMMDDTHHMMSS.ffffffZ>-<unique>-<action>-<backupId>.json"; `unique` is 8 hex.
std::string accessLogObjectName(const AccessLogEntry& entry, const std::string& unique);
// "<target>/access-log/", the prefix a listing of the log uses.
std::string accessLogPrefix(const std::string& target);
// Checks the fields an entry must have and the action's and result's vocabulary.
Status validateAccessLogEntry(const AccessLogEntry& entry);

// Writes one entry as its own object. `random` names it uniquely (default: OpenSSL's CSPRNG).
Status writeAccessLogEntry(Destination& destination, const AccessLogEntry& entry, Random* random = nullptr);

// Another place entries go besides the destination: Kubernetes Events (operator/main's
// KubeEventSink), and an AuditStore once that kind exists. The AuditStore hook: an implementation of
// this interface that appends the entry to the store named by spec.accessLog.auditStoreRef; until the
// AuditStore controller exists none is wired, and the destination's log stays the record.
class AccessLogSink {
 public:
  virtual ~AccessLogSink() = default;
  virtual Status record(const AccessLogEntry& entry) = 0;
};

// Who logs, for a series of entries of one target.
struct AccessLogContext {
  std::string target, actor, requester;
  std::vector<AccessLogSink*> sinks;  // not owned
};

// Writes one entry (time = now) to the destination first (the record: its failure is returned), then
// to every sink (a sink's failure is reported on stderr, never fatal: the entry is already stored).
Status recordAccess(Destination& destination, const AccessLogContext& context, const std::string& action,
                    const std::string& backupId, const std::string& result, const Json& details = Json::object());

// Every entry of a target, oldest first (reads one object per entry).
Result<std::vector<AccessLogEntry>> readAccessLog(Destination& destination, const std::string& target);

}  // namespace sdb::backup
