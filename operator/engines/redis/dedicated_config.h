// Dedicated mode, pure: the redis.conf and the initial ACL file of one operator-managed instance
// (docs/engines/redis.md "Dedicated mode"). The StatefulSet that mounts them comes with the Redis
// controller; the integration fixture (tests/integration/fixtures/redis_server.cpp) runs every
// Redis test on exactly this configuration, so a real redis-server 7 accepts it.
//
// What it configures: TLS only (`port 0`, a TLS port, certificate, key and CA files, clients
// authenticate by ACL password rather than certificate), the ACL file on the data volume (so
// ACL SAVE persists users across restarts), `user default off` plus the operator's admin, AOF
// (configurable), no DEBUG or MODULE commands, `repl-diskless-sync-delay 0` (backups start the
// snapshot at once; the instance has no replicas) and an optional memory limit and policy.
//
// Contract: pure, deterministic, thread-safe. Values are validated (enumerations, no whitespace or
// control characters), errors name the field.
#pragma once

#include <string>

#include "operator/core/result.h"

namespace sdb::engines::redis {

struct DedicatedConfig {
  std::string bind = "* -::*";  // every interface; the NetworkPolicy decides who may connect
  int tlsPort = 6379;
  std::string dataDir = "/data";
  std::string tlsCertFile = "/tls/tls.crt";
  std::string tlsKeyFile = "/tls/tls.key";
  std::string tlsCaFile = "/tls/ca.crt";
  bool appendOnly = true;
  std::string appendFsync = "everysec";      // always, everysec or no
  std::string maxmemory;                     // empty: no limit; else e.g. "512mb"
  std::string maxmemoryPolicy = "noeviction";
};

Result<std::string> redisConf(const DedicatedConfig& config);

// "user default off ..." and the admin with `+@all` on every key and channel, its password as
// the SHA-256 Redis stores (never the cleartext).
Result<std::string> initialAclFile(const std::string& adminUser, const std::string& adminPasswordHash);

}  // namespace sdb::engines::redis
