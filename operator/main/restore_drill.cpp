#include "operator/main/restore_drill.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "operator/backup/child_process.h"
#include "operator/backup/toc.h"
#include "operator/core/hash.h"

namespace sdb::cli {
namespace {

constexpr const char* kDrillPrefix = "servicedb_drill_";

Result<std::string> slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ioError("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "; ") + l;
  return out;
}

// `pg_dump -Fc <db> | pg_restore --list --file <out>`: pg_restore stops after the table of contents
// (an archive on a pipe has it first), and pg_dump then ends on SIGPIPE.
Status listDatabase(const std::string& database, const std::string& out) {
  auto dump = backup::spawnPiped({"pg_dump", "-Fc", "--no-owner", "--no-privileges", database}, /*toChild=*/false);
  if (!dump.ok()) return dump.error();
  auto list = backup::spawnReading({"pg_restore", "--list", "--file", out}, dump->fd);
  close(dump->fd);
  if (!list.ok()) {
    kill(dump->pid, SIGKILL);
    backup::reapChild(dump->pid);
    return list.error();
  }
  const int listed = backup::reapChild(*list);
  if (listed != 0) kill(dump->pid, SIGKILL);
  const int dumped = backup::reapChild(dump->pid);
  if (listed != 0) return ioError("pg_restore --list of the restored database exited with " + std::to_string(listed));
  if (dumped != 0 && dumped != 128 + SIGPIPE) return ioError("pg_dump of the restored database exited with " + std::to_string(dumped));
  return okStatus();
}

}  // namespace

std::string drillMarker(const std::string& target) { return "servicedb-operator restore drill of " + target; }

Json DrillReport::toJson() const {
  Json j = {{"drill", "passed"}, {"backupId", backupId}, {"database", database}, {"bytes", bytes}, {"tocEntries", tocEntries}};
  if (queried) j["queryRows"] = queryRows;
  return j;
}

Result<DrillReport> runPostgresDrill(const DrillRequest& r, backup::Destination& dest, Random& random) {
  const std::string& target = r.restore.target;
  const std::string marker = drillMarker(target);
  // 1. Leftovers of an earlier drill of this target.
  auto stale = querySql(r.maintenanceDb,
                        "SELECT datname FROM pg_database WHERE starts_with(datname, $1) "
                        "AND shobj_description(oid, 'pg_database') = $2",
                        {kDrillPrefix, marker});
  if (!stale.ok()) return stale.error().wrap("looking for earlier drills' databases");
  for (const auto& row : *stale) {
    std::cerr << "servicedb-operator restore --drill: dropping " << row[0] << ", left by an earlier drill\n";
    if (auto d = execSql(r.maintenanceDb, "DROP DATABASE IF EXISTS %I WITH (FORCE)", {row[0]}); !d.ok()) {
      return d.error().wrap("dropping the earlier drill's database " + row[0]);
    }
  }
  // The role the query login acts as: its own, or the one its role setting switches to at login
  // (the engine's migration login acts as the owner role). The restored objects belong to it, so the
  // query sees them the way the service's migrations do.
  std::string actingRole = r.queryLogin.user;
  if (!actingRole.empty()) {
    auto setting = querySql(r.maintenanceDb,
                            "SELECT substr(s, 6) FROM pg_db_role_setting d JOIN pg_roles r ON r.oid = d.setrole, "
                            "unnest(d.setconfig) s WHERE r.rolname = $1 AND d.setdatabase = 0 AND s LIKE 'role=%'",
                            {actingRole});
    if (!setting.ok()) return setting.error().wrap("reading the role setting of " + actingRole);
    if (!setting->empty() && !(*setting)[0][0].empty()) actingRole = (*setting)[0][0];
  }
  // 2. The throwaway database.
  DrillReport report;
  auto suffix = random.hex(4);
  if (!suffix.ok()) return suffix.error();
  report.database = kDrillPrefix + *suffix;
  const std::string& db = report.database;
  Status created = actingRole.empty() ? execSql(r.maintenanceDb, "CREATE DATABASE %I", {db})
                                      : execSql(r.maintenanceDb, "CREATE DATABASE %I OWNER %I", {db, actingRole});
  if (!created.ok()) return created.error().wrap("creating the throwaway database " + db);
  auto dropAnd = [&](const Error& e) -> Result<DrillReport> {
    if (auto d = execSql(r.maintenanceDb, "DROP DATABASE IF EXISTS %I WITH (FORCE)", {db}); !d.ok()) {
      std::cerr << "servicedb-operator restore --drill: warning: dropping " << db << ": " << d.error().message << "\n";
    }
    return e;
  };
  if (auto c = execSql(r.maintenanceDb, "COMMENT ON DATABASE %I IS %L", {db, marker}); !c.ok()) {
    return dropAnd(c.error().wrap("marking the throwaway database"));
  }
  // 3. Restore, and the backup's table of contents from the same stream.
  const std::string backupToc = r.workDir + "/drill-backup-" + std::to_string(::getpid()) + ".toc";
  const std::string restoredToc = r.workDir + "/drill-restored-" + std::to_string(::getpid()) + ".toc";
  struct Cleanup {
    std::string a, b;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove(a, ec);
      std::filesystem::remove(b, ec);
    }
  } cleanup{backupToc, restoredToc};
  std::vector<std::string> restoreArgv = {"pg_restore", "--single-transaction", "--exit-on-error", "--no-owner",
                                          "--no-privileges", "--dbname", db};
  if (!actingRole.empty()) restoreArgv.push_back("--role=" + actingRole);
  backup::CommandsTarget into({{restoreArgv, false}, {{"pg_restore", "--list", "--file", backupToc}, true}});
  if (auto s = into.start(); !s.ok()) return dropAnd(s.error().wrap("starting pg_restore"));
  backup::RestoreRequest req = r.restore;
  req.into = &into;
  req.restoreCommand.clear();
  req.verifyOnly = false;
  auto restored = backup::runRestore(req, dest);
  if (!restored.ok()) return dropAnd(restored.error().wrap("restoring"));
  report.backupId = restored->backupId;
  report.bytes = restored->bytes;
  // 4. Tables of contents.
  if (auto s = listDatabase(db, restoredToc); !s.ok()) return dropAnd(s.error().wrap("listing the restored database"));
  auto backupListing = slurp(backupToc);
  auto restoredListing = slurp(restoredToc);
  if (!backupListing.ok()) return dropAnd(backupListing.error());
  if (!restoredListing.ok()) return dropAnd(restoredListing.error());
  const auto wanted = backup::tocEntries(*backupListing);
  const auto got = backup::tocEntries(*restoredListing);
  if (wanted.empty()) return dropAnd(ioError("the backup's table of contents is empty"));
  if (auto diff = backup::tocDifferences(wanted, got); !diff.empty()) {
    return dropAnd(Error(ErrorCode::kFailedPrecondition, "the restored table of contents differs from backup " +
                                                             report.backupId + "'s: " + joined(diff)));
  }
  report.tocEntries = wanted.size();
  // 5. The query: one statement, read-only, as the query login.
  if (!r.query.empty()) {
    report.queried = true;
    PgLogin login = r.queryLogin;
    login.readOnly = true;
    auto rows = querySql(db, r.query, {}, login);
    if (!rows.ok()) return dropAnd(rows.error().wrap("spec.verify.query failed on the restored database"));
    if (rows->empty()) return dropAnd(Error(ErrorCode::kFailedPrecondition, "spec.verify.query returned no row on the restored database"));
    report.queryRows = rows->size();
  }
  // 6. Gone again.
  if (auto d = execSql(r.maintenanceDb, "DROP DATABASE IF EXISTS %I WITH (FORCE)", {db}); !d.ok()) {
    return d.error().wrap("the drill passed, but dropping " + db + " failed");
  }
  return report;
}

}  // namespace sdb::cli
