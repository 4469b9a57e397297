// Backup benchmarks (on demand, never a timed test). Modes:
//   backup_bench encrypt-stdin          encrypt stdin to stdout with our stream format (like `age -r` in a pipe)
//   backup_bench runner-rss SIZE_MIB    run the real backup runner on a SIZE_MIB dump into a temp directory,
//                                       printing the runner's peak RSS in KiB
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <vector>

#include "operator/backup/runner.h"

using namespace sdb;

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "encrypt-stdin") == 0) {
    backup::Key key;
    key.fill(7);
    std::vector<uint8_t> out;
    auto enc = backup::Encryptor::start(key, {"bench", "bench-1", backup::kDefaultChunkSize}, CryptoRandom::instance(),
                                        [](const uint8_t* d, size_t n) -> Status {
                                          while (n > 0) {
                                            ssize_t w = ::write(1, d, n);
                                            if (w <= 0) return Status(ioError("write"));
                                            d += w;
                                            n -= static_cast<size_t>(w);
                                          }
                                          return okStatus();
                                        });
    std::vector<uint8_t> buf(backup::kReadBufferSize);
    ssize_t n;
    while ((n = ::read(0, buf.data(), buf.size())) > 0) {
      if (!enc->write(buf.data(), static_cast<size_t>(n)).ok()) return 1;
    }
    return enc->finish().ok() ? 0 : 1;
  }
  if (argc >= 3 && std::strcmp(argv[1], "runner-rss") == 0) {
    const long mib = std::atol(argv[2]);
    auto dir = std::filesystem::temp_directory_path() / ("sdb-bench-rss-" + std::to_string(getpid()));
    auto dest = backup::Destination::parse(dir.string());
    backup::BackupRequest req;
    req.engine = "bench";
    req.target = "bench/rss";
    req.backupId = "rss";
    req.keyId = "k";
    req.key.fill(3);
    req.dumpCommand = {"head", "-c", std::to_string(mib) + "M", "/dev/urandom"};
    auto m = backup::runBackup(req, **dest);
    std::filesystem::remove_all(dir);
    if (!m.ok()) {
      std::cerr << m.error().message << "\n";
      return 1;
    }
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    std::printf("%ld\n", ru.ru_maxrss);
    return 0;
  }
  std::cerr << "usage: backup_bench encrypt-stdin | runner-rss SIZE_MIB\n";
  return 2;
}
