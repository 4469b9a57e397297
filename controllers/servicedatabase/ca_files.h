// Private files for the CA certificates of shared servers. The drivers take a CA only by path:
// libpq's sslrootcert (PostgreSQL 15 has no in-memory CA), OpenSSL's verify file in resp_client
// (Redis) and mongo-c-driver's tlsCAFile (MongoDB).
//
// Contract: thread-safe. Files are content-addressed (a rotated CA gets a new file, and concurrent
// reconciles never see a torn one) and written through a temporary name and rename. The directory
// is created 0700 on first use (a fresh one under $TMPDIR unless `dir` names one) and removed by
// the destructor when it was created here. Files hold public certificates only.
#pragma once

#include <mutex>
#include <string>

#include "operator/core/result.h"

namespace sdb::controllers::servicedatabase {

class CaFiles {
 public:
  explicit CaFiles(std::string dir = "") : dir_(std::move(dir)) {}
  ~CaFiles();
  CaFiles(const CaFiles&) = delete;
  CaFiles& operator=(const CaFiles&) = delete;

  // The path of a file holding exactly `pem`.
  Result<std::string> pathFor(const std::string& pem);

 private:
  std::mutex mu_;
  std::string dir_;
  bool ownsDir_ = false;
};

}  // namespace sdb::controllers::servicedatabase
