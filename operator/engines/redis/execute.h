// I/O side of the Redis engine: read the ACL user into `Observed`, and perform a `Plan`.
//
// Contract: `observe` only reads (ACL GETUSER). `execute` runs the actions in order over one
// admin connection and stops at the first failure with an error naming the action; a re-run of
// observe+plan+execute after a failure or crash converges. After ACL changes it runs ACL SAVE so
// users survive a restart of a server with an aclfile (the dedicated instances'); a server without
// one answers that it has no ACL file, which is accepted (docs/engines/redis.md). Key deletion
// scans with the prefix glob-escaped and also checks every returned name starts with the prefix
// before UNLINK, so nothing outside the prefix is ever deleted. Not thread-safe per call.
#pragma once

#include <optional>

#include "operator/engines/redis/model.h"
#include "operator/engines/redis/resp_client.h"

namespace sdb::engines::redis {

Result<Observed> observe(RespClient& admin, const Desired& desired);

struct ExecuteOptions {
  bool aclSave = true;
  size_t scanCount = 1000;                // SCAN COUNT hint and UNLINK batch size
  std::optional<size_t> stopAfter;        // tests only: run at most this many actions, as if killed
};

ExecuteReport execute(RespClient& admin, const Plan& plan, const ExecuteOptions& options = {});

// Deletes every key whose name starts with `prefix` (SCAN MATCH + UNLINK); returns how many.
Result<uint64_t> deleteKeysWithPrefix(RespClient& admin, const std::string& prefix, size_t batch);

// Index of the first candidate `user` can AUTH with (on a fresh connection of `server`), or NotFound.
Result<size_t> whichPasswordWorks(const ConnectOptions& server, const std::string& user,
                                  const std::vector<std::string>& candidates);

}  // namespace sdb::engines::redis
