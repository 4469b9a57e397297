// Where backups go: a directory (a PVC in a Job) or S3-compatible object storage through rclone
// (streaming multipart upload; rclone signs requests, we never hand-roll SigV4).
//
// Layout under the destination root, per target "<namespace>/<name>":
//   <target>/<backupId>.sdbk            the encrypted stream
//   <target>/<backupId>.manifest.json   the signed manifest, written last (its presence marks a complete backup)
//   <target>/access-log/<time>-<random>-<action>-<backupId>.json  one object per access-log entry (access_log.h); names sort in time order
// Directories get the same per-entry files (nothing is ever rewritten or appended in place), so both
// kinds list the same way.
//
// Contract: a Destination is used by one runner at a time; writers stream, never buffering a whole
// backup. Errors name the path.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "operator/backup/stream_format.h"
#include "operator/core/json.h"

namespace sdb::backup {

// Streams bytes into one object. commit() makes it visible; abort() (or destruction) discards it.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual Status write(const uint8_t* data, size_t size) = 0;
  virtual Status commit() = 0;
  virtual void abort() = 0;
};

// Streams one object out; read() returns 0 at the end.
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  virtual Result<size_t> read(uint8_t* buf, size_t size) = 0;
};

struct S3Options {
  std::string bucket, prefix, endpoint, region;
  bool forcePathStyle = true;
  // PEM file of the CA(s) that sign the endpoint's certificate (rclone --ca-cert). Empty: for an https
  // endpoint, $AWS_CA_BUNDLE when set (rclone cannot read that variable itself), else the system roots.
  std::string caCert;
  // Credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), never flags.
};

class Destination {
 public:
  virtual ~Destination() = default;
  virtual Result<std::unique_ptr<ObjectWriter>> create(const std::string& path) = 0;
  virtual Result<std::unique_ptr<ObjectReader>> open(const std::string& path) = 0;
  virtual Result<std::vector<std::string>> list(const std::string& prefix) = 0;  // relative paths, sorted
  virtual Status remove(const std::string& path) = 0;
  virtual std::string describe() const = 0;  // "dir:/backups" or "s3://bucket/prefix"

  // Parses "dir:/path", a plain absolute path, or "s3://bucket/prefix" (with s3 options for the rest).
  static Result<std::unique_ptr<Destination>> parse(const std::string& spec, const S3Options& s3 = {});
};

}  // namespace sdb::backup
