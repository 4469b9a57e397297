// `servicedb-operator backup` and `restore`: what backup and restore Jobs execute.
//
// Connection settings come from the environment, as the Job's pod gets them from Secrets:
// PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, PGSSLROOTCERT (libpq and pg_dump read
// them natively); Redis: REDIS_* (backup_redis.h). Keys come from a mounted Secret directory: one file per key id. S3 credentials come
// from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. No secret is ever a flag or a log line.
#include <libpq-fe.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>

#include "operator/backup/key_guard.h"
#include "operator/backup/runner.h"
#include "operator/core/clock.h"
#include "operator/main/backup_job_flags.h"
#include "operator/main/backup_redis.h"
#include "operator/main/cmd_backup_mongo.h"
#include "operator/main/commands.h"
#include "operator/main/flags.h"
#include "operator/main/pg_admin.h"
#include "operator/main/restore_drill.h"

namespace sdb::cli {
namespace {

namespace fs = std::filesystem;

struct Common {
  std::string engine = "postgres", target, destination, keysDir, keyId, backupId, actor, requester;
  backup::S3Options s3;
  std::vector<backup::AccessLogSink*> sinks;  // besides the destination's access log
  void add(FlagSet& f) {
    f.addString("engine", &engine, "postgres, redis or mongodb (see docs/backup-format.md, \"Dump kinds\")");
    f.addString("target", &target, "the ServiceDatabase as NAMESPACE/NAME (required)");
    f.addString("destination", &destination, "dir:/path, /path or s3://bucket/prefix (required)");
    f.addString("s3-endpoint", &s3.endpoint, "S3 endpoint URL (empty: AWS)");
    f.addString("s3-region", &s3.region, "S3 region");
    f.addString("s3-ca-cert", &s3.caCert, "PEM file of the CA that signs the S3 endpoint's certificate (default: $AWS_CA_BUNDLE, else the system roots)");
    f.addString("keys-dir", &keysDir, "directory with one file per key id, e.g. a mounted Secret (required)");
    f.addBool("s3-force-path-style", &s3.forcePathStyle, "S3: path-style URLs (most S3-compatible servers need them)");
    f.addString("actor", &actor, "who asks, for the access log (default: $SERVICEDB_ACTOR or the user)");
    f.addString("requester", &requester, "on whose behalf, for the access log (e.g. ServiceDatabase ns/name)");
  }
  backup::AccessLogContext accessLog() const { return {target, actorName(), requester, sinks}; }
  std::string validate() const {
    if (target.empty() || target.find('/') == std::string::npos) return "--target: want NAMESPACE/NAME";
    if (destination.empty()) return "--destination is required";
    if (keysDir.empty()) return "--keys-dir is required";
    if (engine != "postgres" && engine != "redis" && engine != "mongodb")
      return "--engine: unsupported value \"" + engine + "\": supported values: postgres, redis, mongodb";
    return "";
  }
  std::string actorName() const {
    if (!actor.empty()) return actor;
    if (const char* a = std::getenv("SERVICEDB_ACTOR")) return a;
    if (const char* u = std::getenv("USER")) return u;
    return "unknown";
  }
};

Result<std::map<std::string, backup::Key>> loadKeys(const std::string& dir) {
  std::map<std::string, backup::Key> keys;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || !e.is_regular_file()) continue;  // skips the kubelet's ..data links
    std::ifstream in(e.path());
    std::stringstream ss;
    ss << in.rdbuf();
    auto k = backup::parseKey(ss.str());
    if (!k.ok()) return invalidArgument("--keys-dir: key \"" + name + "\": " + k.error().message);
    keys[name] = *k;
  }
  if (ec) return invalidArgument("--keys-dir: cannot read " + dir + ": " + ec.message());
  if (keys.empty()) return invalidArgument("--keys-dir: no key in " + dir);
  return keys;
}

// The server's major version through libpq, with the connection from the environment.
Result<int> serverMajor(const std::string& dbname) {
  std::string conninfo = dbname.empty() ? "" : "dbname=" + dbname;
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    PQfinish(c);
    return Error(ErrorCode::kUnavailable, "connecting to PostgreSQL: " + msg);
  }
  int v = PQserverVersion(c);
  PQfinish(c);
  return v / 10000;
}

Result<int> clientMajor(const std::string& tool) {
  FILE* p = popen((tool + " --version").c_str(), "r");
  if (!p) return ioError("cannot run " + tool);
  char buf[256] = {0};
  if (!fgets(buf, sizeof buf, p)) buf[0] = 0;
  pclose(p);
  int major = 0;
  if (std::sscanf(buf, "%*s (PostgreSQL) %d", &major) != 1) return ioError("cannot read the version of " + tool + ": " + buf);
  return major;
}

int usage(const Error& e) {
  std::cerr << "servicedb-operator: " << e.message << "\n";
  return 2;
}

// Exit code of `backup` and `backup check-keys` when a key id that retained backups use is not in
// --keys-dir (docs/backup-format.md, "Removing a key"). Distinct from 1 (failed) and 2 (usage).
constexpr int kExitKeyInUseMissing = 3;

std::set<std::string> keyIdsOf(const std::map<std::string, backup::Key>& keys) {
  std::set<std::string> ids;
  for (const auto& [id, key] : keys) ids.insert(id);
  return ids;
}

// The key guard's findings for one target, printed as they are found.
struct KeyGuard {
  std::optional<backup::KeyUsage> usage;  // empty when the destination could not be listed
  std::vector<backup::MissingKey> missing;
};

KeyGuard checkKeyGuard(backup::Destination& dest, const Common& c, const std::set<std::string>& available,
                       const std::string& command) {
  KeyGuard g;
  const std::string& target = c.target;
  auto found = backup::keyIdsInUse(dest, target);
  if (!found.ok()) {
    std::cerr << "servicedb-operator " << command << ": warning: cannot check which keys retained backups use: "
              << found.error().message << "\n";
    return g;
  }
  (void)backup::recordAccess(dest, c.accessLog(), backup::access::kListed, backup::access::kAllBackups,
                             backup::access::kSucceeded, {{"purpose", "key guard"}, {"count", found->backupsByKeyId.size()}});
  g.usage = std::move(*found);
  for (const auto& u : g.usage->unreadable) {
    std::cerr << "servicedb-operator " << command << ": warning: cannot tell which key backup " << u << "\n";
  }
  g.missing = backup::missingKeys(*g.usage, available);
  return g;
}

// `servicedb-operator backup check-keys`: may a key leave the key Secret? See the usage text.
int runCheckKeysCommand(const std::vector<std::string>& args) {
  signal(SIGPIPE, SIG_IGN);
  Common c;
  std::string removing;
  FlagSet flags("backup check-keys");
  c.add(flags);
  flags.addString("remove-key-id", &removing, "check as if this key id were removed from --keys-dir");
  if (auto p = flags.parse(args); !p.ok()) return usage(p.error());
  if (flags.helpRequested()) {
    std::cout << "Usage: servicedb-operator backup check-keys [flags]\n\n"
                 "Reports which key ids the retained backups of --target use, and whether --keys-dir holds them all.\n"
                 "Run it before removing a key from the key Secret (with --remove-key-id).\n"
                 "Exit codes: 0 every key id in use is present; 3 a key id in use is missing (named on stderr);\n"
                 "1 the check could not be completed (destination or a manifest unreadable); 2 usage error.\n\n"
              << flags.usage();
    return 0;
  }
  if (auto v = c.validate(); !v.empty()) return usage(invalidArgument(v));
  auto keys = loadKeys(c.keysDir);
  if (!keys.ok()) return usage(keys.error());
  std::set<std::string> available = keyIdsOf(*keys);
  if (!removing.empty() && !available.erase(removing))
    return usage(invalidArgument("--remove-key-id: no key \"" + removing + "\" in " + c.keysDir));
  auto dest = backup::Destination::parse(c.destination, c.s3);
  if (!dest.ok()) return usage(dest.error());
  auto usageOf = backup::keyIdsInUse(**dest, c.target);
  if (!usageOf.ok()) {
    std::cerr << "servicedb-operator backup check-keys: " << usageOf.error().message << "\n";
    return 1;
  }
  auto missing = backup::missingKeys(*usageOf, available);
  Json report = {{"target", c.target}, {"keyIds", usageOf->backupsByKeyId}, {"missing", Json::array()},
                 {"unreadable", usageOf->unreadable}};
  for (const auto& m : missing) {
    report["missing"].push_back(m.keyId);
    std::cerr << "servicedb-operator backup check-keys: " << backup::describeMissingKey(m, c.target) << "\n";
  }
  for (const auto& u : usageOf->unreadable) {
    std::cerr << "servicedb-operator backup check-keys: cannot tell which key backup " << u << "\n";
  }
  std::cout << report.dump() << "\n";
  if (!missing.empty()) return kExitKeyInUseMissing;
  return usageOf->unreadable.empty() ? 0 : 1;
}

// pg_dump with a client major version equal to the server's, streamed through encryption.
int runPostgresBackup(const Common& c, std::string database, size_t chunkSize, const backup::Key& key,
                      backup::Destination& dest) {
  if (database.empty() && std::getenv("PGDATABASE")) database = std::getenv("PGDATABASE");
  auto server = serverMajor(database);
  if (!server.ok()) {
    std::cerr << "servicedb-operator backup: " << server.error().message << "\n";
    return 1;
  }
  auto client = clientMajor("pg_dump");
  if (!client.ok()) {
    std::cerr << "servicedb-operator backup: " << client.error().message << "\n";
    return 1;
  }
  if (*client != *server) {
    std::cerr << "servicedb-operator backup: pg_dump " << *client << " does not match the server's PostgreSQL "
              << *server << "; use a matching client image\n";
    return 1;
  }
  backup::BackupRequest req;
  req.engine = "postgres";
  req.engineVersion = std::to_string(*server);
  req.target = c.target;
  req.backupId = c.backupId;
  req.keyId = c.keyId;
  req.key = key;
  req.chunkSize = chunkSize;
  req.dumpCommand = {"pg_dump", "-Fc", "--no-owner", "--no-privileges"};
  if (!database.empty()) req.dumpCommand.push_back(database);
  req.actor = c.actorName();
  req.requester = c.requester;
  req.accessLogSinks = c.sinks;
  auto manifest = backup::runBackup(req, dest);
  if (!manifest.ok()) {
    std::cerr << "servicedb-operator backup: " << manifest.error().message << "\n";
    return 1;
  }
  std::cout << manifest->dump() << "\n";
  return 0;
}

// The Job's API client and its Event sink (added to `sinks`), when the flags ask for them. A Job
// that cannot reach the API still does its work: only Events and the report are lost.
struct JobApi {
  std::unique_ptr<kube::KubeClient> kube;
  std::unique_ptr<KubeEventSink> events;
};
JobApi connectJobApi(const BackupJobFlags& job, const std::string& target, const std::string& command,
                     std::vector<backup::AccessLogSink*>& sinks) {
  JobApi api;
  if (!job.needsKube()) return api;
  auto k = backupJobKubeClient(job);
  if (!k.ok()) {
    std::cerr << "servicedb-operator " << command << ": warning: no Kubernetes API (" << k.error().message
              << "); no Events and no report\n";
    return api;
  }
  api.kube = std::move(*k);
  if (job.events) {
    api.events = std::make_unique<KubeEventSink>(*api.kube, target.substr(0, target.find('/')), job.policy);
    sinks.push_back(api.events.get());
  }
  return api;
}

// `restore --drill` (restore_drill.h): the drill, then the report ConfigMap and the exit code.
int runDrill(const Common& c, backup::RestoreRequest req, const std::string& query, const std::string& maintenanceDb,
             const BackupJobFlags& job, kube::KubeClient* kube, backup::Destination& dest) {
  const auto started = std::chrono::system_clock::now();
  DrillRequest d;
  d.restore = std::move(req);
  d.query = query;
  d.maintenanceDb = maintenanceDb;
  if (const char* u = std::getenv("SERVICEDB_QUERY_PGUSER"); u && *u) d.queryLogin.user = u;
  if (const char* p = std::getenv("SERVICEDB_QUERY_PGPASSWORD"); p && *p) d.queryLogin.password = p;
  if (const char* t = std::getenv("TMPDIR"); t && *t) d.workDir = t;
  auto result = runPostgresDrill(d, dest, CryptoRandom::instance());
  const auto now = std::chrono::system_clock::now();
  BackupRunReport report;
  report.time = formatRfc3339(now);
  report.durationSeconds = std::chrono::duration<double>(now - started).count();
  if (result.ok()) {
    report.result = "Succeeded";
    report.id = result->backupId;
    report.sizeBytes = static_cast<int64_t>(result->bytes);
    report.message = std::to_string(result->tocEntries) + " table-of-contents entries match" +
                     (result->queried ? "; the query returned " + std::to_string(result->queryRows) + " row(s)" : "");
  } else {
    report.result = "Failed";
    report.id = d.restore.backupId;
    report.message = result.error().message;
  }
  if (kube && !job.reportConfigMap.empty()) {
    const std::string ns = c.target.substr(0, c.target.find('/'));
    if (auto s = patchDrillReport(*kube, ns, job.reportConfigMap, report); !s.ok()) {
      std::cerr << "servicedb-operator restore --drill: warning: " << s.error().message << "\n";
    }
  }
  if (!result.ok()) {
    std::cerr << "servicedb-operator restore --drill: " << result.error().message << "\n";
    return 1;
  }
  std::cout << result->toJson().dump() << "\n";
  return 0;
}

}  // namespace

int runBackupCommand(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "check-keys") return runCheckKeysCommand({args.begin() + 1, args.end()});
  signal(SIGPIPE, SIG_IGN);
  Common c;
  std::string database;
  int chunkKiB = 1024;
  FlagSet flags("backup");
  c.add(flags);
  flags.addString("key-id", &c.keyId, "key id to encrypt with (default: the only key in --keys-dir)");
  flags.addString("backup-id", &c.backupId, "id of this backup (default: time-sortable, generated)");
  flags.addString("database", &database, "database to dump (default: $PGDATABASE, or the database of $MONGODB_URI)");
  flags.addInt("chunk-kib", &chunkKiB, "encryption chunk size in KiB");
  RedisBackupFlags redis;
  redis.addBackupFlags(flags);
  BackupJobFlags job;
  job.add(flags);
  if (auto p = flags.parse(args); !p.ok()) return usage(p.error());
  if (flags.helpRequested()) {
    std::cout << "Usage: servicedb-operator backup [flags]\n"
                 "       servicedb-operator backup check-keys [flags]\n\n"
                 "Streams a dump through AES-256-GCM to a destination.\n"
                 "Exit codes: 0 written; 1 failed; 2 usage error; 3 written, but a key id that retained backups\n"
                 "use is missing from --keys-dir (named on stderr; put the key back into the key Secret).\n\n"
              << flags.usage();
    return 0;
  }
  if (auto v = c.validate(); !v.empty()) return usage(invalidArgument(v));
  if (auto v = job.validate(); !v.empty()) return usage(invalidArgument(v));
  auto keys = loadKeys(c.keysDir);
  if (!keys.ok()) return usage(keys.error());
  // The API, only for Events and the report; a Job that cannot reach it still takes its backup.
  JobApi api = connectJobApi(job, c.target, "backup", c.sinks);
  kube::KubeClient* kube = api.kube.get();
  const auto started = std::chrono::system_clock::now();
  if (c.keyId.empty()) {
    if (keys->size() != 1) return usage(invalidArgument("--key-id is required when --keys-dir holds several keys"));
    c.keyId = keys->begin()->first;
  }
  if (!keys->count(c.keyId)) return usage(invalidArgument("--key-id: no key \"" + c.keyId + "\" in " + c.keysDir));
  auto dest = backup::Destination::parse(c.destination, c.s3);
  if (!dest.ok()) return usage(dest.error());
  if (c.backupId.empty()) c.backupId = backup::newBackupId(std::chrono::system_clock::now(), CryptoRandom::instance());

  // The key guard runs before anything is written, but does not stop the backup: refusing to back up
  // today's data would not make yesterday's backups readable again (docs/backup-format.md).
  KeyGuard guard = checkKeyGuard(**dest, c, keyIdsOf(*keys), "backup");
  for (const auto& m : guard.missing) {
    std::cerr << "servicedb-operator backup: warning: " << backup::describeMissingKey(m, c.target)
              << "; this backup is still written with key \"" << c.keyId << "\", then the command exits "
              << kExitKeyInUseMissing << "\n";
  }
  int code = 0;
  if (c.engine == "redis" || c.engine == "mongodb") {
    backup::BackupRequest req;
    req.target = c.target;
    req.backupId = c.backupId;
    req.keyId = c.keyId;
    req.key = keys->at(c.keyId);
    req.chunkSize = static_cast<size_t>(chunkKiB) * 1024;
    req.actor = c.actorName();
    req.requester = c.requester;
    req.accessLogSinks = c.sinks;
    code = c.engine == "redis" ? runRedisBackup(req, redis, **dest) : runMongoBackup(std::move(req), database, **dest);
  } else {
    code = runPostgresBackup(c, database, static_cast<size_t>(chunkKiB) * 1024, keys->at(c.keyId), **dest);
  }
  if (code == 0 && !guard.missing.empty()) code = kExitKeyInUseMissing;
  finishBackupJob(job, kube, **dest, c.accessLog(), c.backupId, code, started);
  if (code != kExitKeyInUseMissing) return code;
  for (const auto& m : guard.missing) {
    std::cerr << "servicedb-operator backup: " << backup::describeMissingKey(m, c.target) << "\n";
  }
  return kExitKeyInUseMissing;
}

int runRestoreCommand(const std::vector<std::string>& args) {
  signal(SIGPIPE, SIG_IGN);
  Common c;
  std::string into, owner, appRole, maintenanceDb = "postgres";
  bool verifyOnly = false;
  FlagSet flags("restore");
  c.add(flags);
  flags.addString("backup-id", &c.backupId, "backup to restore, or latest");
  flags.addBool("verify-only", &verifyOnly, "authenticate the backup end to end and restore nothing");
  flags.addString("into", &into, "a NEW database to restore into; it is dropped again if anything fails");
  flags.addString("owner", &owner, "role that owns the new database and the restored objects");
  flags.addString("app-role", &appRole,
                  "login that gets DML on the restored objects (default privileges of --owner, as the engine grants)");
  flags.addString("maintenance-database", &maintenanceDb, "database to connect to for CREATE/DROP DATABASE");
  RedisBackupFlags redis;
  redis.addRestoreFlags(flags);
  std::string sourceDatabase;
  flags.addString("source-database", &sourceDatabase,
                  "mongodb: the database the backup was taken of (default: the name derived from --target)");
  bool drill = false;
  std::string query;
  flags.addBool("drill", &drill,
                "restore drill (PostgreSQL): restore into a throwaway database, compare the table of contents, run "
                "--query, drop it (docs/api.md, \"Restore drills\")");
  flags.addString("query", &query, "--drill: one SQL statement that must return a row on the restored database");
  BackupJobFlags job;
  job.addReporting(flags);
  if (auto p = flags.parse(args); !p.ok()) return usage(p.error());
  if (flags.helpRequested()) {
    std::cout << "Usage: servicedb-operator restore [flags]\n\nAuthenticates a backup and restores it into a fresh database.\n\n"
              << flags.usage();
    return 0;
  }
  if (auto v = c.validate(); !v.empty()) return usage(invalidArgument(v));
  if (auto v = job.validate(); !v.empty()) return usage(invalidArgument(v));
  if (drill && c.engine != "postgres") return usage(invalidArgument("--drill: restore drills are for --engine postgres only"));
  if (drill && (verifyOnly || !into.empty() || !owner.empty() || !appRole.empty()))
    return usage(invalidArgument("--drill restores into its own throwaway database: drop --into, --owner, --app-role and --verify-only"));
  if (!drill && !query.empty()) return usage(invalidArgument("--query needs --drill"));
  if (!drill && job.needsKube()) return usage(invalidArgument("--report-configmap and --events need --drill"));
  if (c.engine == "postgres" && !drill && !verifyOnly && into.empty())
    return usage(invalidArgument("--into is required unless --verify-only"));
  if (!appRole.empty() && owner.empty())
    return usage(invalidArgument("--app-role needs --owner: the app's privileges are default privileges of the owner role"));
  auto keys = loadKeys(c.keysDir);
  if (!keys.ok()) return usage(keys.error());
  auto dest = backup::Destination::parse(c.destination, c.s3);
  if (!dest.ok()) return usage(dest.error());
  backup::RestoreRequest req;
  req.target = c.target;
  req.backupId = c.backupId.empty() ? "latest" : c.backupId;
  req.keys = *keys;
  req.verifyOnly = verifyOnly;
  req.actor = c.actorName();
  req.requester = c.requester;

  // The key guard, before any database is created: the chosen backup's key must be there. Other
  // retained backups whose key is missing only warn, so a key mistake never blocks a recovery.
  KeyGuard guard = checkKeyGuard(**dest, c, keyIdsOf(*keys), "restore");
  if (!guard.missing.empty() && req.backupId == "latest") {
    if (auto latest = backup::latestBackupId(**dest, c.target); latest.ok()) req.backupId = *latest;
  }
  for (const auto& m : guard.missing) {
    const bool chosen = std::find(m.backupIds.begin(), m.backupIds.end(), req.backupId) != m.backupIds.end();
    if (chosen) {
      std::cerr << "servicedb-operator restore: backup " << req.backupId << " needs key \"" << m.keyId
                << "\", which --keys-dir does not hold: " << backup::describeMissingKey(m, c.target) << "\n";
      return 1;
    }
    std::cerr << "servicedb-operator restore: warning: " << backup::describeMissingKey(m, c.target) << "\n";
  }
  if (drill) {
    JobApi api = connectJobApi(job, c.target, "restore --drill", req.accessLogSinks);
    return runDrill(c, std::move(req), query, maintenanceDb, job, api.kube.get(), **dest);
  }
  if (c.engine == "redis") return runRedisRestore(req, redis, **dest);
  if (!verifyOnly && c.engine == "mongodb") return runMongoRestore(std::move(req), sourceDatabase, into, **dest);
  if (!verifyOnly) {
    Status created = owner.empty() ? execSql(maintenanceDb, "CREATE DATABASE %I", {into})
                                   : execSql(maintenanceDb, "CREATE DATABASE %I OWNER %I", {into, owner});
    if (!created.ok()) {
      std::cerr << "servicedb-operator restore: creating " << into << ": " << created.error().message << "\n";
      return 1;
    }
    if (!appRole.empty()) {
      // Before pg_restore: it creates every object as --owner (--role), so these default privileges
      // give the app its DML on each of them, in the same shape as the engine's grants
      // (docs/engines/postgres.md, "Roles and privileges"). They are database-wide, so they also
      // cover the schemas the dump creates besides public (migrations make such schemas).
      Status granted = execSql(
          into,
          "REVOKE ALL ON DATABASE %I FROM PUBLIC; GRANT CONNECT ON DATABASE %I TO %I; "
          "REVOKE CREATE ON SCHEMA public FROM PUBLIC; GRANT USAGE ON SCHEMA public TO %I; "
          "ALTER DEFAULT PRIVILEGES FOR ROLE %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I; "
          "ALTER DEFAULT PRIVILEGES FOR ROLE %I GRANT USAGE, SELECT ON SEQUENCES TO %I; "
          "ALTER DEFAULT PRIVILEGES FOR ROLE %I GRANT USAGE ON SCHEMAS TO %I",
          {into, into, appRole, appRole, owner, appRole, owner, appRole, owner, appRole});
      if (!granted.ok()) {
        (void)execSql(maintenanceDb, "DROP DATABASE IF EXISTS %I", {into});
        std::cerr << "servicedb-operator restore: --app-role: granting " << appRole << " on " << into << ": "
                  << granted.error().message << "\n";
        return 1;
      }
    }
    req.restoreCommand = {"pg_restore", "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges",
                          "--dbname", into};
    if (!owner.empty()) req.restoreCommand.push_back("--role=" + owner);
  }
  auto result = backup::runRestore(req, **dest);
  if (!result.ok()) {
    if (!verifyOnly) (void)execSql(maintenanceDb, "DROP DATABASE IF EXISTS %I", {into});
    std::cerr << "servicedb-operator restore: " << result.error().message << "\n";
    return 1;
  }
  std::cout << Json{{"backupId", result->backupId}, {"bytes", result->bytes}, {"chunks", result->chunks},
                    {"verifiedOnly", verifyOnly}, {"into", into}}.dump() << "\n";
  return 0;
}

}  // namespace sdb::cli
