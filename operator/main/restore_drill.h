// `servicedb-operator restore --drill`: a restore drill for PostgreSQL (docs/api.md, "Restore
// drills"; a BackupPolicy's spec.verify runs it on a schedule).
//
//   1. drop the throwaway databases an earlier drill of the same target left behind (killed Job):
//      databases named servicedb_drill_* whose comment is this target's drill marker;
//   2. create servicedb_drill_<8 hex> with the marker comment, owned by the role the query login acts
//      as (its own, or the one its `role` setting switches to at login: the engine's migration login
//      acts as the owner role), when a query login is given;
//   3. restore the backup into it (pg_restore --single-transaction, as that role) while a
//      second pg_restore --list reads the backup's table of contents from the same authenticated
//      stream (one read of the backup; the access log gets its "restored" entry);
//   4. take the table of contents of a fresh pg_dump of the restored database and compare it with the
//      backup's (entries without ids, oids and owners; toc.h);
//   5. run the optional query as the query login (not the admin: the query comes from the policy's
//      author), one statement, in a read-only transaction; it must return at least one row;
//   6. drop the throwaway database, whatever happened.
//
// The admin connection (CREATE/DROP DATABASE) comes from the environment. The query login is
// SERVICEDB_QUERY_PGUSER and SERVICEDB_QUERY_PGPASSWORD (the CronJob sets the target's migration
// login); without them the admin login runs the query.
//
// Contract: single-threaded; children reaped before return; no password in any message.
#pragma once

#include <string>

#include "operator/backup/destination.h"
#include "operator/backup/runner.h"
#include "operator/core/json.h"
#include "operator/core/random.h"
#include "operator/core/result.h"
#include "operator/main/pg_admin.h"

namespace sdb::cli {

struct DrillRequest {
  backup::RestoreRequest restore;  // target, backupId, keys, actor, requester, sinks; into/command are set here
  std::string query;               // optional
  PgLogin queryLogin;              // empty user: the admin from the environment
  std::string maintenanceDb = "postgres";
  std::string workDir = "/tmp";    // the two listings
};

struct DrillReport {
  std::string backupId, database;
  uint64_t bytes = 0;
  size_t tocEntries = 0;
  size_t queryRows = 0;
  bool queried = false;
  Json toJson() const;
};

// The drill marker comment on a throwaway database of `target`.
std::string drillMarker(const std::string& target);

// Fails with a message that says which step failed (restore, table of contents, query).
Result<DrillReport> runPostgresDrill(const DrillRequest& request, backup::Destination& destination, Random& random);

}  // namespace sdb::cli
