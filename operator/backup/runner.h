// The backup and restore runners that Jobs execute (`servicedb-operator backup|restore`), kept free
// of Kubernetes: a dump command's stdout (or an in-process DumpSource) is streamed through
// encryption into a Destination, and a restore streams authenticated plaintext into a restore
// command's stdin (or an in-process RestoreTarget, which stages and commits only at the end).
//
// Memory stays flat in the dump's size: one chunk (1 MiB) of plaintext and one read buffer, whatever
// the size of the database.
//
// Restore safety: the restore command only ever receives chunks whose GCM tags verified. If anything
// fails (a bad chunk, truncation, a bad manifest, the command itself), the command is killed and the
// runner reports failure; callers restore into a fresh database and drop it on failure, so no live
// database ever holds partial data. A RestoreTarget gets commit() only after the final chunk and
// the manifest verified, and abort() otherwise.
//
// Contract: single-threaded; child processes are reaped before return.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "operator/backup/access_log.h"
#include "operator/backup/destination.h"
#include "operator/backup/stream_format.h"

namespace sdb::backup {

// A dump produced in-process (e.g. the keys of one tenant of a shared Redis) instead of by a command.
class DumpSource {
 public:
  virtual ~DumpSource() = default;
  virtual std::string tool() const = 0;  // for the manifest's "tools"
  // Writes the whole dump into `sink`, in pieces of any size.
  virtual Status run(const Sink& sink) = 0;
};

// A restore performed in-process. It receives authenticated plaintext only, in order. commit() is
// called once the whole stream and the manifest have verified, abort() on any failure; after
// abort() nothing it wrote may remain visible (staging is the target's business).
class RestoreTarget {
 public:
  virtual ~RestoreTarget() = default;
  virtual std::string name() const = 0;  // for messages
  virtual Status write(const uint8_t* data, size_t size) = 0;
  virtual Status commit() = 0;
  virtual void abort() = 0;
};

struct BackupRequest {
  std::string engine;                     // postgres, redis or mongodb (for the manifest)
  std::string engineVersion;              // as observed on the server
  std::string target;                     // "<namespace>/<name>" of the ServiceDatabase
  std::string backupId;
  std::string keyId;
  Key key{};
  size_t chunkSize = kDefaultChunkSize;
  std::vector<std::string> dumpCommand;   // argv; its stdout is the dump
  DumpSource* source = nullptr;           // instead of dumpCommand, when set (not owned)
  std::string dumpKind;                   // manifest "dumpKind" (docs/backup-format.md), when set
  std::string actor = "unknown";          // the Job's ServiceAccount, for the access log
  std::string requester;                  // on whose behalf, when known (access log)
  std::vector<AccessLogSink*> accessLogSinks;  // besides the destination (Events); not owned
  AccessLogContext accessLog() const { return {target, actor, requester, accessLogSinks}; }
};

// Returns the signed manifest. Access log: "written", succeeded or failed (with the error).
Result<Json> runBackup(const BackupRequest& request, Destination& destination);

struct RestoreRequest {
  std::string target;
  std::string backupId;                   // an id, or "latest"
  std::map<std::string, Key> keys;        // by key id
  std::vector<std::string> restoreCommand;  // argv fed on stdin; empty with verifyOnly
  RestoreTarget* into = nullptr;            // instead of restoreCommand, when set (not owned)
  bool verifyOnly = false;
  std::string actor = "unknown";
  std::string requester;
  std::vector<AccessLogSink*> accessLogSinks;
  AccessLogContext accessLog() const { return {target, actor, requester, accessLogSinks}; }
};

struct RestoreSummary {
  std::string backupId;
  Json manifest;
  uint64_t bytes = 0;
  uint64_t chunks = 0;
};

// Access log: "restored" (or "read" with verifyOnly), succeeded or failed; "listed" when backupId is
// "latest" (the listing that chose it).
Result<RestoreSummary> runRestore(const RestoreRequest& request, Destination& destination);

// The newest complete backup id of a target (by manifest), or NotFound.
Result<std::string> latestBackupId(Destination& destination, const std::string& target);

// The ids of every complete backup of a target (those whose manifest exists), oldest first. Reads
// only the listing.
Result<std::vector<std::string>> completeBackupIds(Destination& destination, const std::string& target);

// A backup's manifest as stored, parsed but NOT authenticated (its MAC needs the data key, which
// needs the stream). Callers that act on it for safety checks only (key_guard.h) may use it as is.
Result<Json> readManifestUnverified(Destination& destination, const std::string& target, const std::string& backupId);

// Backup ids are sortable by time: "20261125T031500Z-<8 hex>".
std::string newBackupId(std::chrono::system_clock::time_point now, Random& random);

}  // namespace sdb::backup
