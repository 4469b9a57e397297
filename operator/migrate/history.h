// The history table and the migration lock, over one libpq session (docs/migrations.md).
//
// Contract: functions over a caller-owned PgConnection (not thread-safe, like the connection).
//  - The lock is a session-level advisory lock on a fixed key derived from the table's name, taken
//    by polling pg_try_advisory_lock: a runner that waits holds no snapshot between tries, so it
//    cannot block a CREATE INDEX CONCURRENTLY of the runner that holds the lock (which waits for
//    every older snapshot in the database). It is released when the session ends.
//  - public.servicedb_schema_history is created on first use by the session's current role (the
//    owner role, after SET ROLE), in one transaction that also takes every privilege but SELECT
//    from the other grantees the default privileges gave (the app may read the schema version,
//    never write it).
//  - Every value reaches SQL as a $n parameter or through PQescapeIdentifier.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "operator/core/clock.h"
#include "operator/engines/postgres/connection.h"
#include "operator/migrate/plan.h"

namespace sdb::migrate {

inline constexpr const char* kHistoryTable = "public.servicedb_schema_history";

// The advisory lock key: the first 60 bits of SHA-256("servicedb.io/migrate:" + kHistoryTable).
int64_t migrationLockKey();

struct LockOptions {
  std::chrono::milliseconds pollInterval{500};
  std::chrono::milliseconds waitTimeout{0};  // 0: wait for ever
};

// Takes the lock, waiting as `options` say; `onWait` is called once, with the holder's pid, when
// another session holds it. A timeout is kTimeout naming the holder.
Status acquireMigrationLock(engines::postgres::PgConnection& c, Clock& clock, const LockOptions& options,
                            const std::function<void(const std::string& holderPid)>& onWait);

// Creates the table when it is missing. Returns whether it created it.
Result<bool> ensureHistoryTable(engines::postgres::PgConnection& c);

// The rows of the table; none when the table does not exist.
Result<std::vector<AppliedRow>> readHistory(engines::postgres::PgConnection& c);

// Inserts the row for `file` (inside the file's transaction, for a transactional file).
Status recordApplied(engines::postgres::PgConnection& c, const MigrationFile& file, int64_t durationMs);

}  // namespace sdb::migrate
