#include "operator/migrate/history.h"

#include "operator/core/hash.h"

namespace sdb::migrate {

using engines::postgres::PgConnection;

namespace {

constexpr const char* kCreateTable =
    "CREATE TABLE public.servicedb_schema_history ("
    " version text PRIMARY KEY,"
    " description text NOT NULL,"
    " file_name text NOT NULL,"
    " checksum text NOT NULL,"
    " transactional boolean NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
    " duration_ms bigint NOT NULL,"
    " applied_by text NOT NULL DEFAULT session_user)";

// Grantees other than the owner holding more than SELECT ('' for PUBLIC).
constexpr const char* kWritersSql =
    "SELECT DISTINCT CASE WHEN a.grantee = 0 THEN '' ELSE pg_get_userbyid(a.grantee) END "
    "FROM pg_class c, aclexplode(c.relacl) a "
    "WHERE c.oid = 'public.servicedb_schema_history'::regclass AND a.grantee <> c.relowner "
    "AND a.privilege_type <> 'SELECT'";

constexpr const char* kHolderSql =
    "SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid";

Status rollbackOnError(PgConnection& c, Status st) {
  if (!st.ok() && c.transactionStatus() != PQTRANS_IDLE) (void)c.run("ROLLBACK");
  return st;
}

}  // namespace

int64_t migrationLockKey() {
  return static_cast<int64_t>(std::stoull(sha256Hex(std::string("servicedb.io/migrate:") + kHistoryTable, 15), nullptr, 16));
}

Status acquireMigrationLock(PgConnection& c, Clock& clock, const LockOptions& options,
                            const std::function<void(const std::string&)>& onWait) {
  const std::string key = std::to_string(migrationLockKey());
  const auto start = clock.monotonic();
  bool announced = false;
  std::string holder = "unknown";
  while (true) {
    auto got = c.query("SELECT pg_try_advisory_lock($1::bigint)", {key}, "taking the migration lock");
    if (!got.ok()) return got.error();
    if (!got->empty() && got->front()[0] == std::optional<std::string>("t")) return okStatus();
    if (!announced) {
      auto pid = c.query(kHolderSql, {key}, "reading who holds the migration lock");
      if (pid.ok() && !pid->empty() && pid->front()[0]) holder = *pid->front()[0];
      if (onWait) onWait(holder);
      announced = true;
    }
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(clock.monotonic() - start);
    if (options.waitTimeout.count() > 0 && waited >= options.waitTimeout)
      return Error(ErrorCode::kTimeout, "timed out after " + std::to_string(waited.count()) +
                                            " ms waiting for the migration lock, held by the session with pid " + holder);
    clock.sleepFor(options.pollInterval);
  }
}

Result<bool> ensureHistoryTable(PgConnection& c) {
  auto exists = c.query("SELECT to_regclass('public.servicedb_schema_history') IS NOT NULL", {}, "looking for the history table");
  if (!exists.ok()) return exists.error();
  if (exists->front()[0] == std::optional<std::string>("t")) return false;
  Status st = c.exec("BEGIN", "creating the history table");
  if (!st.ok()) return st.error();
  st = rollbackOnError(c, c.exec(kCreateTable, "creating " + std::string(kHistoryTable)));
  if (!st.ok()) return st.error();
  auto writers = c.query(kWritersSql, {}, "reading the grants on the history table");
  if (!writers.ok()) return rollbackOnError(c, writers.error()).error();
  std::string sql;
  for (const auto& row : *writers) {
    std::string grantee = "PUBLIC";
    if (row[0] && !row[0]->empty()) {
      auto q = c.ident(*row[0]);
      if (!q.ok()) return rollbackOnError(c, q.error()).error();
      grantee = *q;
    }
    sql += "REVOKE ALL ON public.servicedb_schema_history FROM " + grantee + "; ";
    sql += "GRANT SELECT ON public.servicedb_schema_history TO " + grantee + "; ";
  }
  sql += "COMMENT ON TABLE public.servicedb_schema_history IS "
         "'Built-in migrations applied by servicedb-operator migrate (docs/migrations.md)'; COMMIT";
  st = rollbackOnError(c, c.exec(sql, "restricting the history table to SELECT for its readers"));
  if (!st.ok()) return st.error();
  return true;
}

Result<std::vector<AppliedRow>> readHistory(PgConnection& c) {
  auto exists = c.query("SELECT to_regclass('public.servicedb_schema_history') IS NOT NULL", {}, "looking for the history table");
  if (!exists.ok()) return exists.error();
  std::vector<AppliedRow> out;
  if (exists->front()[0] != std::optional<std::string>("t")) return out;
  auto rows = c.query("SELECT version, description, file_name, checksum FROM public.servicedb_schema_history ORDER BY applied_at",
                      {}, "reading the history table");
  if (!rows.ok()) return rows.error();
  for (const auto& r : *rows) out.push_back({r[0].value_or(""), r[1].value_or(""), r[2].value_or(""), r[3].value_or("")});
  return out;
}

Status recordApplied(PgConnection& c, const MigrationFile& file, int64_t durationMs) {
  auto r = c.query(
      "INSERT INTO public.servicedb_schema_history (version, description, file_name, checksum, transactional, duration_ms) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {file.version.text(), file.description, file.fileName, file.checksum, file.transactional ? "true" : "false",
       std::to_string(durationMs)},
      "recording " + file.fileName + " in the history");
  if (!r.ok()) return r.error();
  return okStatus();
}

}  // namespace sdb::migrate
