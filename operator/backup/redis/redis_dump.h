// Redis dumps and restores for the backup runners (docs/backup-format.md "Dump kinds",
// docs/engines/redis.md "Backups").
//
//  - Shared Redis: RedisKeysSource writes one tenant's keys (SCAN MATCH <escaped prefix>*, then
//    DUMP + PEXPIRETIME per batch in one MULTI/EXEC) in the keys format. Every key is checked again
//    to start with the prefix before it is dumped, so a shared backup never holds another
//    tenant's key. RedisKeysTarget restores such a dump: it RESTOREs every record into a staging
//    area of the operator's reserved namespace ("servicedb.io:restore:<target prefix>"), which no
//    tenant can see, indexing the staged names in a set, and only commit() moves the keys under
//    the target prefix, in one atomic script whose cost is the tenant's key count (optionally
//    replacing what is there). abort() deletes the staging keys and sets, so a stream that fails
//    authentication anywhere leaves the server as it was.
//  - Dedicated instances: RdbSyncSource streams the instance's RDB snapshot the way
//    `redis-cli --rdb` fetches it (REPLCONF capa eof, REPLCONF rdb-only 1, SYNC), but over our TLS
//    client (host name verified) and with the diskless EOF mark removed, which `redis-cli --rdb -`
//    7.0 leaves at the end of stdout. RdbFileTarget restores into the data directory of a new
//    instance before it starts: the RDB goes to a temporary file, is checked (magic, then
//    redis-check-rdb when present), and is renamed into place (dump.rdb, or an AOF base with its
//    manifest) only on commit().
//
// Contract: single-threaded; one object per run. Errors name what failed. Connection options are
// TLS with full verification (resp_client.h); passwords never reach messages.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "operator/backup/redis/keys_format.h"
#include "operator/backup/runner.h"
#include "operator/engines/redis/resp_client.h"

namespace sdb::backup::redis {

using engines::redis::ConnectOptions;
using engines::redis::RespClient;

// "7.0.15", from INFO server.
Result<std::string> serverVersion(RespClient& client);

class RedisKeysSource final : public DumpSource {
 public:
  RedisKeysSource(ConnectOptions server, std::string prefix, size_t batch = 500)
      : server_(std::move(server)), prefix_(std::move(prefix)), batch_(batch) {}
  std::string tool() const override { return "redis SCAN+DUMP+PEXPIRETIME"; }
  Status run(const Sink& sink) override;
  uint64_t keys() const { return keys_; }

 private:
  ConnectOptions server_;
  std::string prefix_;
  size_t batch_;
  uint64_t keys_ = 0;
};

class RdbSyncSource final : public DumpSource {
 public:
  explicit RdbSyncSource(ConnectOptions server) : server_(std::move(server)) {}
  std::string tool() const override { return "redis SYNC (rdb-only)"; }
  Status run(const Sink& sink) override;
  uint64_t bytes() const { return bytes_; }
  bool usedEofMark() const { return eofMark_; }

 private:
  ConnectOptions server_;
  uint64_t bytes_ = 0;
  bool eofMark_ = false;
};

struct KeysTargetOptions {
  ConnectOptions server;
  std::string targetPrefix;  // where the keys land; a dump's own prefix is replaced by it
  bool replace = false;      // replace the keys under targetPrefix in the commit (else it must be empty)
  size_t pipeline = 64;      // RESTOREs per round trip
};

class RedisKeysTarget final : public RestoreTarget {
 public:
  // Connects, clears leftovers of an earlier interrupted restore into the same prefix, and (without
  // `replace`) checks the target prefix is empty.
  static Result<std::unique_ptr<RedisKeysTarget>> open(const KeysTargetOptions& options);
  std::string name() const override { return "redis prefix \"" + options_.targetPrefix + "\""; }
  Status write(const uint8_t* data, size_t size) override;
  Status commit() override;
  void abort() override;

  // Staged keys, and two sets: the staged names and (with replace) the names to replace.
  static std::string stagingPrefix(const std::string& targetPrefix) { return "servicedb.io:restore:" + targetPrefix; }
  static std::string indexKey(const std::string& targetPrefix) { return "servicedb.io:restore-index:" + targetPrefix; }
  static std::string oldKey(const std::string& targetPrefix) { return "servicedb.io:restore-replaced:" + targetPrefix; }
  uint64_t restored() const { return restored_; }

 private:
  explicit RedisKeysTarget(KeysTargetOptions o, RespClient c);
  static Status clearStaging(RespClient& c, const std::string& targetPrefix);
  Status flush();
  KeysTargetOptions options_;
  RespClient client_;
  KeysReader reader_;
  std::string sourcePrefix_;
  std::vector<std::vector<std::string>> pending_;
  uint64_t restored_ = 0;
};

enum class RdbLayout { kRdb, kAof };

struct RdbTargetOptions {
  std::string dir;          // the data directory of a new instance (e.g. its PVC, from an init container)
  RdbLayout layout = RdbLayout::kAof;
  bool replace = false;     // replace an existing dump.rdb / appendonlydir
  std::string backupId;     // names the temporary files
  std::string checkTool = "redis-check-rdb";  // run on the file before commit when found; "" skips
};

class RdbFileTarget final : public RestoreTarget {
 public:
  static Result<std::unique_ptr<RdbFileTarget>> open(const RdbTargetOptions& options);
  ~RdbFileTarget() override;
  std::string name() const override { return options_.dir; }
  Status write(const uint8_t* data, size_t size) override;
  Status commit() override;
  void abort() override;

 private:
  explicit RdbFileTarget(RdbTargetOptions o) : options_(std::move(o)) {}
  RdbTargetOptions options_;
  std::string tmpFile_, tmpDir_;
  int fd_ = -1;
  std::string head_;  // the first bytes, to check the magic
  bool checked_ = false;
};

}  // namespace sdb::backup::redis
