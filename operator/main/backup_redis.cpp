#include "operator/main/backup_redis.h"

#include <cstdlib>
#include <iostream>

#include "operator/backup/redis/redis_dump.h"
#include "operator/engines/redis/names.h"

namespace sdb::cli {
namespace {

using engines::redis::ConnectOptions;

std::string env(const char* name, const std::string& fallback = "") {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

Result<ConnectOptions> fromEnvironment() {
  ConnectOptions o;
  o.host = env("REDIS_HOST");
  if (o.host.empty()) return invalidArgument("REDIS_HOST is not set");
  const std::string port = env("REDIS_PORT", "6379");
  try {
    o.port = std::stoi(port);
  } catch (...) {
    return invalidArgument("REDIS_PORT: not a number: \"" + port + "\"");
  }
  o.tls.caFile = env("REDIS_CA_FILE");
  if (o.tls.caFile.empty()) return invalidArgument("REDIS_CA_FILE is not set (the operator speaks to Redis over TLS only)");
  o.tls.serverName = env("REDIS_SERVER_NAME");
  o.tls.certFile = env("REDIS_CLIENT_CERT");
  o.tls.keyFile = env("REDIS_CLIENT_KEY");
  o.user = env("REDIS_USER");
  o.password = env("REDIS_PASSWORD");
  return o;
}

// The tenant's prefix: explicit, or derived from the ServiceDatabase "<namespace>/<name>".
Result<std::string> prefixFor(const std::string& explicitPrefix, const std::string& target, const std::string& field) {
  if (!explicitPrefix.empty()) {
    SDB_TRY(engines::redis::validatePrefix(explicitPrefix, field));
    return explicitPrefix;
  }
  const auto slash = target.find('/');
  auto names = engines::redis::deriveNames(target.substr(0, slash), target.substr(slash + 1), "--target");
  if (!names.ok()) return names.error();
  return names->prefix;
}

int failed(const std::string& what, const Error& e) {
  std::cerr << "servicedb-operator " << what << ": " << e.message << "\n";
  return e.code == ErrorCode::kInvalidArgument ? 2 : 1;
}

}  // namespace

void RedisBackupFlags::addBackupFlags(FlagSet& f) {
  f.addString("redis-mode", &mode, "redis: shared (this tenant's keys, SCAN+DUMP) or dedicated (the instance's RDB)");
  f.addString("key-prefix", &keyPrefix, "redis shared: the tenant's key prefix (default: <namespace>:<name>: of --target)");
}

void RedisBackupFlags::addRestoreFlags(FlagSet& f) {
  f.addString("into-prefix", &intoPrefix, "redis shared: restore the keys under this prefix (default: --target's own)");
  f.addString("into-dir", &intoDir, "redis dedicated: the data directory of a new instance, before it starts");
  f.addString("layout", &layout, "redis dedicated: aof (appendonlydir with the RDB as its base) or rdb (dump.rdb)");
  f.addBool("replace", &replace, "redis: replace the keys under the prefix, or the existing RDB/AOF, on commit");
}

int runRedisBackup(backup::BackupRequest req, const RedisBackupFlags& flags, backup::Destination& dest) {
  if (flags.mode != "shared" && flags.mode != "dedicated")
    return failed("backup", invalidArgument("--redis-mode: want shared or dedicated, got \"" + flags.mode + "\""));
  auto server = fromEnvironment();
  if (!server.ok()) return failed("backup", server.error());
  // Our own client checks the server first, with full TLS verification, and reads its version.
  auto client = engines::redis::RespClient::connect(*server);
  if (!client.ok()) return failed("backup", client.error());
  auto version = backup::redis::serverVersion(*client);
  if (!version.ok()) return failed("backup", version.error());
  req.engine = "redis";
  req.engineVersion = *version;
  std::unique_ptr<backup::redis::RedisKeysSource> source;
  std::unique_ptr<backup::redis::RdbSyncSource> rdb;
  if (flags.mode == "shared") {
    auto prefix = prefixFor(flags.keyPrefix, req.target, "--key-prefix");
    if (!prefix.ok()) return failed("backup", prefix.error());
    source = std::make_unique<backup::redis::RedisKeysSource>(*server, *prefix);
    req.source = source.get();
    req.dumpKind = "redis-keys";
  } else {
    rdb = std::make_unique<backup::redis::RdbSyncSource>(*server);
    req.source = rdb.get();
    req.dumpKind = "redis-rdb";
  }
  auto manifest = backup::runBackup(req, dest);
  if (!manifest.ok()) return failed("backup", manifest.error());
  std::cout << manifest->dump() << "\n";
  return 0;
}

int runRedisRestore(backup::RestoreRequest req, const RedisBackupFlags& flags, backup::Destination& dest) {
  std::unique_ptr<backup::RestoreTarget> target;
  std::string into;
  if (!req.verifyOnly) {
    if (!flags.intoDir.empty()) {
      if (!flags.intoPrefix.empty()) return failed("restore", invalidArgument("--into-dir and --into-prefix exclude each other"));
      if (flags.layout != "aof" && flags.layout != "rdb")
        return failed("restore", invalidArgument("--layout: want aof or rdb, got \"" + flags.layout + "\""));
      std::string id = req.backupId;
      if (id.empty() || id == "latest") {
        auto latest = backup::latestBackupId(dest, req.target);
        if (!latest.ok()) return failed("restore", latest.error());
        id = *latest;
        req.backupId = id;
      }
      backup::redis::RdbTargetOptions o;
      o.dir = flags.intoDir;
      o.layout = flags.layout == "rdb" ? backup::redis::RdbLayout::kRdb : backup::redis::RdbLayout::kAof;
      o.replace = flags.replace;
      o.backupId = id;
      auto t = backup::redis::RdbFileTarget::open(o);
      if (!t.ok()) return failed("restore", t.error());
      target = std::move(t).value();
      into = flags.intoDir;
    } else {
      auto server = fromEnvironment();
      if (!server.ok()) return failed("restore", server.error());
      auto prefix = prefixFor(flags.intoPrefix, req.target, "--into-prefix");
      if (!prefix.ok()) return failed("restore", prefix.error());
      backup::redis::KeysTargetOptions o;
      o.server = *server;
      o.targetPrefix = *prefix;
      o.replace = flags.replace;
      auto t = backup::redis::RedisKeysTarget::open(o);
      if (!t.ok()) return failed("restore", t.error());
      target = std::move(t).value();
      into = *prefix;
    }
    req.into = target.get();
  }
  auto result = backup::runRestore(req, dest);
  if (!result.ok()) return failed("restore", result.error());
  Json out = {{"backupId", result->backupId}, {"bytes", result->bytes}, {"chunks", result->chunks},
              {"verifiedOnly", req.verifyOnly}, {"into", into}};
  if (auto* keys = dynamic_cast<backup::redis::RedisKeysTarget*>(target.get())) out["keys"] = keys->restored();
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace sdb::cli
