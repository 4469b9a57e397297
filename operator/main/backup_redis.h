// The Redis side of `servicedb-operator backup` and `restore` (docs/backup-format.md "Dump kinds").
//
// Connection settings come from the environment, as a Job's pod gets them from Secrets:
// REDIS_HOST, REDIS_PORT (6379), REDIS_USER, REDIS_PASSWORD, REDIS_CA_FILE (required: always TLS
// with full verification), REDIS_SERVER_NAME (name in the server certificate, default the host),
// REDIS_CLIENT_CERT and REDIS_CLIENT_KEY (for servers that demand client certificates).
// Contract: functions return the process exit code (0 ok, 1 failure, 2 usage error).
#pragma once

#include "operator/backup/runner.h"
#include "operator/main/flags.h"

namespace sdb::cli {

struct RedisBackupFlags {
  std::string mode;        // backup: "shared" (the tenant's keys) or "dedicated" (the instance's RDB)
  std::string keyPrefix;   // backup, shared: default "<namespace>:<name>:" of --target
  std::string intoPrefix;  // restore: the prefix to restore keys under (default: --target's own)
  std::string intoDir;     // restore: the data directory of a new dedicated instance
  std::string layout = "aof";
  bool replace = false;
  void addBackupFlags(FlagSet& flags);
  void addRestoreFlags(FlagSet& flags);
};

// `req` holds everything but the dump; fills it in and runs the backup.
int runRedisBackup(backup::BackupRequest req, const RedisBackupFlags& flags, backup::Destination& dest);
// `req` holds everything but the target; opens it (unless verify-only) and runs the restore.
int runRedisRestore(backup::RestoreRequest req, const RedisBackupFlags& flags, backup::Destination& dest);

}  // namespace sdb::cli
