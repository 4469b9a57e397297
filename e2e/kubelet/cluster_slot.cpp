#include "e2e/kubelet/cluster_slot.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace sdb::kubelet {

namespace fs = std::filesystem;

namespace {

std::string readTrimmed(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Status writeFile(const fs::path& p, const std::string& content) {
  const fs::path tmp = p.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << content;
    if (!out) return ioError("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, p, ec);
  if (ec) return ioError("cannot rename " + tmp.string() + ": " + ec.message());
  return okStatus();
}

// Takes slot n's lock without blocking; -1 when another process holds it.
int tryLock(const fs::path& lockDir, int n) {
  const std::string path = (lockDir / ("slot-" + std::to_string(n) + ".lock")).string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A slot is reserved for a stopped cluster while its data dir exists and still records that slot.
bool reservedForAnother(const fs::path& lockDir, int n, const fs::path& ourDataDir) {
  const fs::path owner = lockDir / ("slot-" + std::to_string(n) + ".owner");
  if (!fs::exists(owner)) return false;
  const fs::path dir = readTrimmed(owner);
  if (dir.empty() || dir == ourDataDir) return false;
  return readTrimmed(dir / "node" / "slot") == std::to_string(n);
}

}  // namespace

Result<std::unique_ptr<ClusterSlot>> ClusterSlot::claim(const ClusterSlotOptions& options) {
  const fs::path lockDir = options.lockDir;
  const fs::path dataDir = fs::absolute(options.dataDir);
  std::error_code ec;
  fs::create_directories(lockDir, ec);
  if (ec) return ioError("cannot create " + lockDir.string() + ": " + ec.message());
  fs::create_directories(dataDir / "node", ec);
  if (ec) return ioError("cannot create " + (dataDir / "node").string() + ": " + ec.message());
  const fs::path slotFile = dataDir / "node" / "slot";
  int chosen = -1, fd = -1;
  if (fs::exists(slotFile)) {
    const std::string text = readTrimmed(slotFile);
    char* end = nullptr;
    const long n = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || n < 0 || n >= options.slots) return ioError(slotFile.string() + ": not a slot number: " + text);
    for (int attempt = 0; attempt < 50 && fd < 0; ++attempt) {
      fd = tryLock(lockDir, static_cast<int>(n));
      if (fd < 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (fd < 0) {
      return Error(ErrorCode::kFailedPrecondition,
                   "slot " + text + " of this data dir (" + slotFile.string() + ") is held by another running local cluster (" +
                       readTrimmed(lockDir / ("slot-" + text + ".owner")) + "); stop it first");
    }
    chosen = static_cast<int>(n);
  } else {
    for (int pass = 0; pass < 2 && chosen < 0; ++pass) {
      for (int n = 0; n < options.slots; ++n) {
        if (pass == 0 && reservedForAnother(lockDir, n, dataDir)) continue;
        fd = tryLock(lockDir, n);
        if (fd >= 0) {
          chosen = n;
          break;
        }
      }
    }
    if (chosen < 0) return Error(ErrorCode::kUnavailable, "all " + std::to_string(options.slots) + " local cluster slots are in use");
    SDB_TRY(writeFile(slotFile, std::to_string(chosen) + "\n"));
  }
  auto wrote = writeFile(lockDir / ("slot-" + std::to_string(chosen) + ".owner"), dataDir.string() + "\n");
  if (!wrote.ok()) {
    ::close(fd);
    return wrote.error();
  }
  return std::unique_ptr<ClusterSlot>(new ClusterSlot(chosen, fd));
}

Result<std::unique_ptr<ClusterSlot>> ClusterSlot::lock(const std::string& lockDir, int number, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const int fd = tryLock(lockDir, number);
    if (fd >= 0) return std::unique_ptr<ClusterSlot>(new ClusterSlot(number, fd));
    if (std::chrono::steady_clock::now() > deadline) {
      return Error(ErrorCode::kTimeout, "slot " + std::to_string(number) + " is still held by a running local cluster");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

ClusterSlot::~ClusterSlot() {
  if (lockFd_ >= 0) ::close(lockFd_);
}

}  // namespace sdb::kubelet
