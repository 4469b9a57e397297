// Peak RSS of `servicedb-operator backup --engine redis` for a small and a large dataset, in both
// modes, against a real redis-server 7 (TLS) started by the integration fixture. Target: flat, i.e.
// the large backup's peak RSS within 10 % (+2 MiB) of the small one's. Also prints the wall time.
// Usage: redis_rss_bench SERVICEDB_OPERATOR [SMALL_MIB LARGE_MIB]   (defaults 100 and 1024)
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "operator/core/random.h"
#include "tests/integration/fixtures/redis_server.h"

namespace {

using sdb::engines::redis::RespClient;

struct Measured {
  long maxRssKiB = 0;
  double seconds = 0;
  int code = -1;
};

Measured runBackup(const std::string& op, const sdb::testing::RedisServer& s, const std::string& dir,
                   const std::string& mode, const std::string& id) {
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    dup2(null, 1);
    setenv("REDIS_HOST", "127.0.0.1", 1);
    setenv("REDIS_PORT", std::to_string(s.tlsPort()).c_str(), 1);
    setenv("REDIS_USER", s.adminUser().c_str(), 1);
    setenv("REDIS_PASSWORD", s.adminPassword().c_str(), 1);
    setenv("REDIS_CA_FILE", s.caFile().c_str(), 1);
    execl(op.c_str(), op.c_str(), "backup", "--engine", "redis", "--redis-mode", mode.c_str(), "--target", "bench/big",
          "--destination", ("dir:" + dir + "/dest").c_str(), "--keys-dir", (dir + "/keys").c_str(), "--backup-id",
          id.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  Measured m;
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  m.maxRssKiB = ru.ru_maxrss;
  m.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return m;
}

bool fill(const sdb::testing::RedisServer& s, size_t mib) {
  auto c = RespClient::connect(s.admin());
  if (!c.ok()) return false;
  if (!c->call({"FLUSHALL"}, "flush").ok()) return false;
  sdb::SeededRandom random(1);
  const size_t valueBytes = 64 << 10, keys = (mib << 20) / valueBytes;
  for (size_t i = 0; i < keys; i += 64) {
    std::vector<std::vector<std::string>> batch;
    for (size_t j = i; j < std::min(keys, i + 64); ++j) {
      auto v = random.bytes(valueBytes);  // incompressible, so DUMP keeps the size
      batch.push_back({"SET", "bench:big:" + std::to_string(j), std::string(v->begin(), v->end())});
    }
    if (!c->pipeline(batch).ok()) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s SERVICEDB_OPERATOR [SMALL_MIB LARGE_MIB]\n", argv[0]);
    return 2;
  }
  const std::string op = argv[1];
  const size_t small = argc > 3 ? std::stoul(argv[2]) : 100, large = argc > 3 ? std::stoul(argv[3]) : 1024;
  sdb::testing::RedisServerOptions o;
  o.plainPort = false;
  auto server = sdb::testing::RedisServer::start(o);
  if (!server.ok()) {
    std::fprintf(stderr, "no redis-server: %s\n", server.error().toString().c_str());
    return 1;
  }
  char tmpl[] = "/tmp/sdb-redisrss.XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  std::filesystem::create_directories(dir + "/keys");
  std::ofstream(dir + "/keys/k1") << "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
  bool ok = true;
  for (const std::string mode : {"shared", "dedicated"}) {
    std::vector<Measured> m;
    for (size_t mib : {small, large}) {
      if (!fill(**server, mib)) {
        std::fprintf(stderr, "filling %zu MiB failed\n", mib);
        return 1;
      }
      m.push_back(runBackup(op, **server, dir, mode, mode + std::to_string(mib)));
      if (m.back().code != 0) {
        std::fprintf(stderr, "backup (%s, %zu MiB) exited with %d\n", mode.c_str(), mib, m.back().code);
        return 1;
      }
    }
    const bool flat = m[1].maxRssKiB <= m[0].maxRssKiB * 11 / 10 + 2048;
    ok = ok && flat;
    std::printf("BENCH redis_backup_peak_rss_%s target=flat (%zu MiB within 10%% + 2 MiB of %zu MiB) measured=%zu MiB: "
                "%ld KiB in %.2f s, %zu MiB: %ld KiB in %.2f s %s\n",
                mode.c_str(), large, small, small, m[0].maxRssKiB, m[0].seconds, large, m[1].maxRssKiB, m[1].seconds,
                flat ? "PASS" : "MISS");
  }
  std::filesystem::remove_all(dir);
  return ok ? 0 : 1;
}
