// `servicedb-operator backup` and `restore`: what backup and restore Jobs execute.
//
// Connection settings come from the environment, as the Job's pod gets them from Secrets:
// PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, PGSSLROOTCERT (libpq and pg_dump read
// them natively). Keys come from a mounted Secret directory: one file per key id. S3 credentials come
// from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. No secret is ever a flag or a log line.
#include <libpq-fe.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "operator/backup/runner.h"
#include "operator/core/clock.h"
#include "operator/main/cmd_backup_mongo.h"
#include "operator/main/commands.h"
#include "operator/main/flags.h"

namespace sdb::cli {
namespace {

namespace fs = std::filesystem;

struct Common {
  std::string engine = "postgres", target, destination, keysDir, keyId, backupId, actor;
  backup::S3Options s3;
  void add(FlagSet& f) {
    f.addString("engine", &engine, "postgres or mongodb (redis: see docs/backup-format.md)");
    f.addString("target", &target, "the ServiceDatabase as NAMESPACE/NAME (required)");
    f.addString("destination", &destination, "dir:/path, /path or s3://bucket/prefix (required)");
    f.addString("s3-endpoint", &s3.endpoint, "S3 endpoint URL (empty: AWS)");
    f.addString("s3-region", &s3.region, "S3 region");
    f.addString("keys-dir", &keysDir, "directory with one file per key id, e.g. a mounted Secret (required)");
    f.addString("actor", &actor, "who asks, for the access log (default: $SERVICEDB_ACTOR or the user)");
  }
  std::string validate() const {
    if (target.empty() || target.find('/') == std::string::npos) return "--target: want NAMESPACE/NAME";
    if (destination.empty()) return "--destination is required";
    if (keysDir.empty()) return "--keys-dir is required";
    if (engine != "postgres" && engine != "mongodb")
      return "--engine: unsupported value \"" + engine + "\": supported values: postgres, mongodb";
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

// Runs one statement whose %I placeholders are filled, in order, with escaped identifiers.
Status execSql(const std::string& maintenanceDb, std::string sql, const std::vector<std::string>& identifiers) {
  PGconn* c = PQconnectdb(("dbname=" + maintenanceDb).c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    PQfinish(c);
    return Error(ErrorCode::kUnavailable, "connecting to PostgreSQL: " + msg);
  }
  size_t at = 0;
  for (const auto& ident : identifiers) {
    char* quoted = PQescapeIdentifier(c, ident.c_str(), ident.size());
    at = sql.find("%I", at);
    sql.replace(at, 2, quoted);
    at += std::strlen(quoted);
    PQfreemem(quoted);
  }
  PGresult* r = PQexec(c, sql.c_str());
  Status s = PQresultStatus(r) == PGRES_COMMAND_OK ? okStatus() : Status(ioError(std::string(PQerrorMessage(c))));
  PQclear(r);
  PQfinish(c);
  return s;
}

int usage(const Error& e) {
  std::cerr << "servicedb-operator: " << e.message << "\n";
  return 2;
}

}  // namespace

int runBackupCommand(const std::vector<std::string>& args) {
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
  if (auto p = flags.parse(args); !p.ok()) return usage(p.error());
  if (flags.helpRequested()) {
    std::cout << "Usage: servicedb-operator backup [flags]\n\nStreams a dump through AES-256-GCM to a destination.\n\n" << flags.usage();
    return 0;
  }
  if (auto v = c.validate(); !v.empty()) return usage(invalidArgument(v));
  auto keys = loadKeys(c.keysDir);
  if (!keys.ok()) return usage(keys.error());
  if (c.keyId.empty()) {
    if (keys->size() != 1) return usage(invalidArgument("--key-id is required when --keys-dir holds several keys"));
    c.keyId = keys->begin()->first;
  }
  if (!keys->count(c.keyId)) return usage(invalidArgument("--key-id: no key \"" + c.keyId + "\" in " + c.keysDir));
  auto dest = backup::Destination::parse(c.destination, c.s3);
  if (!dest.ok()) return usage(dest.error());
  if (c.engine == "mongodb") {
    backup::BackupRequest req;
    req.target = c.target;
    req.backupId = c.backupId.empty() ? backup::newBackupId(std::chrono::system_clock::now(), CryptoRandom::instance()) : c.backupId;
    req.keyId = c.keyId;
    req.key = keys->at(c.keyId);
    req.chunkSize = static_cast<size_t>(chunkKiB) * 1024;
    req.actor = c.actorName();
    return runMongoBackup(std::move(req), database, **dest);
  }
  if (database.empty() && std::getenv("PGDATABASE")) database = std::getenv("PGDATABASE");
  auto server = serverMajor(database);
  if (!server.ok()) {
    std::cerr << "servicedb-operator backup: " << server.error().message << "\n";
    return 1;
  }
  auto client = clientMajor("pg_dump");
  if (!client.ok() || *client != *server) {
    std::cerr << "servicedb-operator backup: pg_dump " << (client.ok() ? std::to_string(*client) : "?")
              << " does not match the server's PostgreSQL " << *server << "; use a matching client image\n";
    return 1;
  }
  backup::BackupRequest req;
  req.engine = "postgres";
  req.engineVersion = std::to_string(*server);
  req.target = c.target;
  req.backupId = c.backupId.empty() ? backup::newBackupId(std::chrono::system_clock::now(), CryptoRandom::instance()) : c.backupId;
  req.keyId = c.keyId;
  req.key = keys->at(c.keyId);
  req.chunkSize = static_cast<size_t>(chunkKiB) * 1024;
  req.dumpCommand = {"pg_dump", "-Fc", "--no-owner", "--no-privileges"};
  if (!database.empty()) req.dumpCommand.push_back(database);
  req.actor = c.actorName();
  auto manifest = backup::runBackup(req, **dest);
  if (!manifest.ok()) {
    std::cerr << "servicedb-operator backup: " << manifest.error().message << "\n";
    return 1;
  }
  std::cout << manifest->dump() << "\n";
  return 0;
}

int runRestoreCommand(const std::vector<std::string>& args) {
  signal(SIGPIPE, SIG_IGN);
  Common c;
  std::string into, owner, maintenanceDb = "postgres";
  bool verifyOnly = false;
  FlagSet flags("restore");
  c.add(flags);
  flags.addString("backup-id", &c.backupId, "backup to restore, or latest");
  flags.addBool("verify-only", &verifyOnly, "authenticate the backup end to end and restore nothing");
  flags.addString("into", &into, "a NEW database to restore into; it is dropped again if anything fails");
  flags.addString("owner", &owner, "role that owns the new database and the restored objects");
  flags.addString("maintenance-database", &maintenanceDb, "database to connect to for CREATE/DROP DATABASE");
  std::string sourceDatabase;
  flags.addString("source-database", &sourceDatabase,
                  "mongodb: the database the backup was taken of (default: the name derived from --target)");
  if (auto p = flags.parse(args); !p.ok()) return usage(p.error());
  if (flags.helpRequested()) {
    std::cout << "Usage: servicedb-operator restore [flags]\n\nAuthenticates a backup and restores it into a fresh database.\n\n"
              << flags.usage();
    return 0;
  }
  if (auto v = c.validate(); !v.empty()) return usage(invalidArgument(v));
  if (!verifyOnly && into.empty()) return usage(invalidArgument("--into is required unless --verify-only"));
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
  if (!verifyOnly && c.engine == "mongodb") return runMongoRestore(std::move(req), sourceDatabase, into, **dest);
  if (!verifyOnly) {
    Status created = owner.empty() ? execSql(maintenanceDb, "CREATE DATABASE %I", {into})
                                   : execSql(maintenanceDb, "CREATE DATABASE %I OWNER %I", {into, owner});
    if (!created.ok()) {
      std::cerr << "servicedb-operator restore: creating " << into << ": " << created.error().message << "\n";
      return 1;
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
