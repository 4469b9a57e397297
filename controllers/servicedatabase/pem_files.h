// PEM files for libraries that need a path (libpq's sslrootcert, mongo-c's CA file): one private
// directory (0700, created on first use, removed with the object), files named by content hash, so
// a rotated CA gets a new file and concurrent readers never see a torn one.
//
// Contract: thread-safe.
#pragma once

#include <mutex>
#include <string>

#include "operator/core/result.h"

namespace sdb::controllers::servicedatabase {

class PemFiles {
 public:
  explicit PemFiles(std::string dir = "") : dir_(std::move(dir)) {}
  ~PemFiles();
  PemFiles(const PemFiles&) = delete;
  PemFiles& operator=(const PemFiles&) = delete;

  Result<std::string> path(const std::string& pem);

 private:
  std::mutex mu_;
  std::string dir_;
  bool ownsDir_ = false;
};

}  // namespace sdb::controllers::servicedatabase
