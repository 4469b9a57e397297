#include "controllers/servicedatabase/ca_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "operator/core/hash.h"

namespace sdb::controllers::servicedatabase {

CaFiles::~CaFiles() {
  if (ownsDir_) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

Result<std::string> CaFiles::pathFor(const std::string& pem) {
  std::lock_guard<std::mutex> lock(mu_);
  if (dir_.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/servicedb-ca-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) return ioError("creating a directory for CA files: " + pattern);
    dir_ = pattern;
    ownsDir_ = true;
  }
  std::string path = dir_ + "/ca-" + sha256Hex(pem, 16) + ".crt";
  if (::access(path.c_str(), R_OK) == 0) return path;
  std::string tmpPath = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmpPath, std::ios::binary | std::ios::trunc);
    out << pem;
    if (!out.flush()) return ioError("writing " + tmpPath);
  }
  if (std::rename(tmpPath.c_str(), path.c_str()) != 0) return ioError("renaming " + tmpPath);
  return path;
}

}  // namespace sdb::controllers::servicedatabase
