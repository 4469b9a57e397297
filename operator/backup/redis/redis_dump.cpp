#include "operator/backup/redis/redis_dump.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "operator/core/clock.h"
#include "operator/engines/redis/execute.h"
#include "operator/engines/redis/names.h"

extern char** environ;

namespace sdb::backup::redis {
namespace {

namespace fs = std::filesystem;
using engines::redis::Reply;

bool startsWith(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// Moves the staged keys under the target prefix in one atomic script run. It works from the index
// of staged names (a set written with every RESTORE), never a SCAN of the keyspace, so its cost is
// the tenant's key count, whatever else the server holds. Without "replace" no target name may be
// taken; with it, the names collected before the commit (a set too) are deleted in the same step.
// ARGV: staging prefix, target prefix, index set, old-names set, "1" to replace.
constexpr const char* kCommitScript = R"lua(
local staging, target, index, old, replace = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5] == "1"
if replace then
  for _, k in ipairs(redis.call("SMEMBERS", old)) do
    if string.sub(k, 1, #target) == target then redis.call("UNLINK", k) end
  end
end
local moved, n = {}, 0
for _, s in ipairs(redis.call("SMEMBERS", index)) do
  local from, to = staging .. s, target .. s
  local r = redis.pcall(replace and "RENAME" or "RENAMENX", from, to)
  if type(r) == "table" and r.err then
    -- the staged key expired meanwhile: nothing to move
  elseif r == 0 then
    -- someone wrote this name since the restore began: undo and refuse
    for _, m in ipairs(moved) do redis.call("RENAME", target .. m, staging .. m) end
    return redis.error_reply("the target prefix is no longer empty")
  else
    n = n + 1
    if not replace then moved[n] = s end
  end
end
redis.call("UNLINK", index, old)
return n
)lua";

Result<bool> anyKeyUnder(RespClient& c, const std::string& prefix) {
  const std::string match = engines::redis::globEscape(prefix) + "*";
  std::string cursor = "0";
  do {
    auto r = c.call({"SCAN", cursor, "MATCH", match, "COUNT", "1000"}, "SCAN " + prefix);
    if (!r.ok()) return r.error();
    if (r->elements.size() != 2) return internalError("SCAN: unexpected reply");
    cursor = r->elements[0].str;
    for (const auto& k : r->elements[1].elements)
      if (startsWith(k.str, prefix)) return true;
  } while (cursor != "0");
  return false;
}

Status fsyncPath(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ioError("opening " + path + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ioError("fsync " + path + ": " + std::strerror(errno));
  return okStatus();
}

Status writeAll(int fd, const uint8_t* d, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, d, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return ioError("writing " + path + ": " + std::strerror(errno));
    d += w;
    n -= static_cast<size_t>(w);
  }
  return okStatus();
}

// Runs `tool file` with stdout discarded; true when it exits 0. NotFound when the tool is absent.
Result<bool> runCheck(const std::string& tool, const std::string& file) {
  bool found = tool.find('/') != std::string::npos ? ::access(tool.c_str(), X_OK) == 0 : false;
  if (!found && tool.find('/') == std::string::npos) {
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "/usr/bin:/bin";
    for (size_t at = 0; at <= p.size() && !found;) {
      size_t colon = p.find(':', at);
      std::string dir = p.substr(at, colon == std::string::npos ? std::string::npos : colon - at);
      found = !dir.empty() && ::access((dir + "/" + tool).c_str(), X_OK) == 0;
      if (colon == std::string::npos) break;
      at = colon + 1;
    }
  }
  if (!found) return notFound(tool + " not found");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  std::vector<char*> argv = {const_cast<char*>(tool.c_str()), const_cast<char*>(file.c_str()), nullptr};
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, tool.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return ioError("cannot run " + tool + ": " + std::strerror(rc));
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return ioError("waiting for " + tool);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

Result<std::string> serverVersion(RespClient& c) {
  auto r = c.call({"INFO", "server"}, "INFO server");
  if (!r.ok()) return r.error();
  const std::string key = "redis_version:";
  auto at = r->str.find(key);
  if (at == std::string::npos) return internalError("INFO server shows no redis_version");
  auto end = r->str.find_first_of("\r\n", at);
  return r->str.substr(at + key.size(), end - at - key.size());
}

// ---- shared: the tenant's keys ----------------------------------------------------------------

Status RedisKeysSource::run(const Sink& sink) {
  auto c = RespClient::connect(server_);
  if (!c.ok()) return c.error();
  auto version = serverVersion(*c);
  if (!version.ok()) return version.error();
  KeysWriter writer(sink);
  SDB_TRY(writer.start({prefix_, *version, formatRfc3339(std::chrono::system_clock::now())}));
  const std::string match = engines::redis::globEscape(prefix_) + "*";
  std::string cursor = "0";
  do {
    auto scan = c->call({"SCAN", cursor, "MATCH", match, "COUNT", std::to_string(batch_)}, "SCAN " + prefix_);
    if (!scan.ok()) return scan.error();
    if (scan->elements.size() != 2) return internalError("SCAN: unexpected reply");
    cursor = scan->elements[0].str;
    std::vector<std::string> keys;
    for (const auto& k : scan->elements[1].elements)
      if (startsWith(k.str, prefix_)) keys.push_back(k.str);  // never another tenant's key
    if (keys.empty()) continue;
    // One transaction per batch: each key's value and absolute expiry at one instant. PEXPIRETIME
    // (Redis 7) is exact; PTTL plus the server's TIME would lose up to a millisecond.
    std::vector<std::vector<std::string>> cmds = {{"MULTI"}};
    for (const auto& k : keys) {
      cmds.push_back({"DUMP", k});
      cmds.push_back({"PEXPIRETIME", k});
    }
    cmds.push_back({"EXEC"});
    auto replies = c->pipeline(cmds);
    if (!replies.ok()) return replies.error();
    const Reply& exec = replies->back();
    if (exec.type != Reply::Type::kArray || exec.elements.size() != 2 * keys.size())
      return Error(ErrorCode::kFailedPrecondition, "MULTI/EXEC of DUMP and PEXPIRETIME failed: " + exec.str);
    for (size_t i = 0; i < keys.size(); ++i) {
      const Reply& dump = exec.elements[2 * i];
      const Reply& expireAt = exec.elements[2 * i + 1];
      if (dump.isError()) return Error(ErrorCode::kFailedPrecondition, "DUMP " + keys[i] + ": " + dump.str);
      if (dump.isNil() || expireAt.integer == -2) continue;  // gone since SCAN
      SDB_TRY(writer.add({keys[i], expireAt.integer >= 0 ? expireAt.integer : -1, dump.str}));
      ++keys_;
    }
  } while (cursor != "0");
  return writer.finish();
}

// ---- dedicated: the instance's RDB snapshot -----------------------------------------------------

Status RdbSyncSource::run(const Sink& sink) {
  auto c = RespClient::connect(server_);
  if (!c.ok()) return c.error();
  // As a replica would: accept a diskless transfer ("$EOF:<mark>"), and ask for the RDB only (7.0),
  // so the server keeps no replication backlog for us. An older server refuses rdb-only; fine.
  auto capa = c->call({"REPLCONF", "capa", "eof"}, "REPLCONF capa eof");
  if (!capa.ok()) return capa.error();
  auto only = c->command({"REPLCONF", "rdb-only", "1"});
  if (!only.ok()) return only.error();
  SDB_TRY(c->send({"SYNC"}));
  // The reply: newlines (keep-alives while the snapshot starts), then "$<length>\r\n" or
  // "$EOF:<40 bytes>\r\n", then the payload.
  std::vector<uint8_t> buf(kReadBufferSize);
  std::string line, rest;
  while (true) {
    auto n = c->readRaw(buf.data(), buf.size());
    if (!n.ok()) return n.error().wrap("waiting for the RDB snapshot");
    std::string got(reinterpret_cast<char*>(buf.data()), *n);
    size_t i = 0;
    while (i < got.size() && line.empty() && got[i] == '\n') ++i;
    line += got.substr(i);
    auto crlf = line.find("\r\n");
    if (crlf != std::string::npos) {
      rest = line.substr(crlf + 2);
      line.resize(crlf);
      break;
    }
    if (line.size() > 1024) return internalError("SYNC: no reply line");
  }
  if (line.empty() || line[0] != '$') return Error(ErrorCode::kFailedPrecondition, "SYNC refused: " + line);
  auto emit = [&](const std::string& data) -> Status {
    bytes_ += data.size();
    return sink(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  };
  if (line.rfind("$EOF:", 0) == 0) {
    eofMark_ = true;
    const std::string mark = line.substr(5);
    if (mark.size() != 40) return internalError("SYNC: bad EOF mark");
    // The payload ends at the mark (whatever the server sends after it is not ours). Hold back 39
    // bytes at a time so a mark split across two reads is still found.
    std::string tail = rest;
    while (true) {
      if (auto at = tail.find(mark); at != std::string::npos) return emit(tail.substr(0, at));
      if (tail.size() > 39) {
        SDB_TRY(emit(tail.substr(0, tail.size() - 39)));
        tail.erase(0, tail.size() - 39);
      }
      auto n = c->readRaw(buf.data(), buf.size());
      if (!n.ok()) return n.error().wrap("reading the RDB snapshot");
      tail.append(reinterpret_cast<char*>(buf.data()), *n);
    }
  }
  uint64_t left = 0;
  try {
    left = std::stoull(line.substr(1));
  } catch (...) {
    return internalError("SYNC: bad length line");
  }
  if (rest.size() > left) rest.resize(left);
  SDB_TRY(emit(rest));
  left -= rest.size();
  while (left > 0) {
    auto n = c->readRaw(buf.data(), std::min<uint64_t>(buf.size(), left));
    if (!n.ok()) return n.error().wrap("reading the RDB snapshot");
    SDB_TRY(emit(std::string(reinterpret_cast<char*>(buf.data()), *n)));
    left -= *n;
  }
  return okStatus();
}

// ---- shared: restore through a staging area -----------------------------------------------------

RedisKeysTarget::RedisKeysTarget(KeysTargetOptions o, RespClient c)
    : options_(std::move(o)),
      client_(std::move(c)),
      reader_(
          [this](const KeysHeader& h) -> Status {
            sourcePrefix_ = h.prefix;
            return okStatus();
          },
          [this](KeyRecord&& r) -> Status {
            const std::string suffix = r.key.substr(sourcePrefix_.size());
            // ABSTTL keeps the expiry the key had; a key already past it is not created at all.
            pending_.push_back({"RESTORE", stagingPrefix(options_.targetPrefix) + suffix,
                                r.expireAtMs > 0 ? std::to_string(r.expireAtMs) : "0", std::move(r.payload), "ABSTTL",
                                "REPLACE"});
            pending_.push_back({"SADD", indexKey(options_.targetPrefix), suffix});
            if (pending_.size() >= 2 * options_.pipeline) return flush();
            return okStatus();
          }) {}

Status RedisKeysTarget::clearStaging(RespClient& c, const std::string& targetPrefix) {
  auto cleared = engines::redis::deleteKeysWithPrefix(c, stagingPrefix(targetPrefix), 1000);
  if (!cleared.ok()) return cleared.error().wrap("clearing the staging area");
  auto r = c.call({"UNLINK", indexKey(targetPrefix), oldKey(targetPrefix)}, "clearing the staging area");
  if (!r.ok()) return r.error();
  return okStatus();
}

Result<std::unique_ptr<RedisKeysTarget>> RedisKeysTarget::open(const KeysTargetOptions& o) {
  SDB_TRY(engines::redis::validatePrefix(o.targetPrefix, "--into-prefix"));
  auto c = RespClient::connect(o.server);
  if (!c.ok()) return c.error();
  // Leftovers of an interrupted restore into this prefix are ours: clear them first.
  SDB_TRY(clearStaging(*c, o.targetPrefix));
  if (!o.replace) {
    auto any = anyKeyUnder(*c, o.targetPrefix);
    if (!any.ok()) return any.error();
    if (*any)
      return Error(ErrorCode::kFailedPrecondition, "the target prefix \"" + o.targetPrefix +
                                                       "\" holds keys; restore into an empty prefix, or pass --replace");
  }
  return std::unique_ptr<RedisKeysTarget>(new RedisKeysTarget(o, std::move(c).value()));
}

Status RedisKeysTarget::flush() {
  if (pending_.empty()) return okStatus();
  auto replies = client_.pipeline(pending_);
  if (!replies.ok()) return replies.error().wrap("RESTORE into the staging area");
  for (size_t i = 0; i < replies->size(); ++i)
    if ((*replies)[i].isError())
      return Error(ErrorCode::kFailedPrecondition, pending_[i][0] + " into the staging area failed: " + (*replies)[i].str);
  pending_.clear();
  return okStatus();
}

Status RedisKeysTarget::write(const uint8_t* data, size_t size) { return reader_.feed(data, size); }

Status RedisKeysTarget::commit() {
  SDB_TRY(reader_.finish());
  SDB_TRY(flush());
  const std::string& target = options_.targetPrefix;
  if (options_.replace) {
    // The names to replace, collected without blocking the server (SCAN), into a set the commit
    // script deletes from. A writer that adds keys meanwhile may leave newer ones beside ours.
    const std::string match = engines::redis::globEscape(target) + "*";
    std::string cursor = "0";
    do {
      auto r = client_.call({"SCAN", cursor, "MATCH", match, "COUNT", "1000"}, "SCAN " + target);
      if (!r.ok()) return r.error();
      cursor = r->elements.at(0).str;
      std::vector<std::string> add = {"SADD", oldKey(target)};
      for (const auto& k : r->elements.at(1).elements)
        if (startsWith(k.str, target)) add.push_back(k.str);
      if (add.size() > 2) {
        auto a = client_.call(add, "collecting the keys to replace");
        if (!a.ok()) return a.error();
      }
    } while (cursor != "0");
  }
  const std::string staging = stagingPrefix(target);
  auto r = client_.call({"EVAL", kCommitScript, "0", staging, target, indexKey(target), oldKey(target),
                         options_.replace ? "1" : "0"},
                        "moving the restored keys under " + target);
  if (!r.ok()) return r.error();
  restored_ = static_cast<uint64_t>(r->integer);
  return okStatus();
}

void RedisKeysTarget::abort() {
  pending_.clear();
  if (client_.broken()) {
    auto c = RespClient::connect(options_.server);
    if (!c.ok()) return;  // the staging keys stay until the next restore into this prefix clears them
    client_ = std::move(c).value();
  }
  (void)clearStaging(client_, options_.targetPrefix);
}

// ---- dedicated: an RDB file for a new instance --------------------------------------------------

Result<std::unique_ptr<RdbFileTarget>> RdbFileTarget::open(const RdbTargetOptions& o) {
  struct stat st {};
  if (::stat(o.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return invalidArgument("--into-dir: " + o.dir + " is not a directory");
  const std::string final = o.dir + (o.layout == RdbLayout::kRdb ? "/dump.rdb" : "/appendonlydir");
  if (!o.replace && ::access(final.c_str(), F_OK) == 0)
    return Error(ErrorCode::kFailedPrecondition, final + " exists; restore into a new instance's directory, or pass --replace");
  if (o.backupId.empty() || o.backupId.find('/') != std::string::npos) return invalidArgument("bad backup id");
  std::unique_ptr<RdbFileTarget> t(new RdbFileTarget(o));
  t->tmpFile_ = o.dir + "/.servicedb-restore-" + o.backupId + ".rdb";
  t->fd_ = ::open(t->tmpFile_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (t->fd_ < 0) return ioError("creating " + t->tmpFile_ + ": " + std::strerror(errno));
  return t;
}

RdbFileTarget::~RdbFileTarget() {
  if (fd_ >= 0 || !tmpFile_.empty()) abort();
}

Status RdbFileTarget::write(const uint8_t* data, size_t size) {
  if (fd_ < 0) return internalError("restore target is closed");
  if (!checked_) {
    head_.append(reinterpret_cast<const char*>(data), std::min<size_t>(size, 9 - std::min<size_t>(head_.size(), 9)));
    if (head_.size() >= 8 && head_.compare(0, 8, std::string(kKeysMagic, 8)) == 0)
      return invalidArgument("this backup holds one tenant's keys from a shared Redis; restore it with --into-prefix");
    if (head_.size() >= 9) {
      if (head_.compare(0, 5, "REDIS") != 0) return invalidArgument("this backup is not an RDB file (no REDIS magic)");
      checked_ = true;
    }
  }
  return writeAll(fd_, data, size, tmpFile_);
}

Status RdbFileTarget::commit() {
  if (!checked_) return invalidArgument("the backup is too short to be an RDB file");
  if (::fsync(fd_) != 0) return ioError("fsync " + tmpFile_ + ": " + std::strerror(errno));
  ::close(fd_);
  fd_ = -1;
  if (!options_.checkTool.empty()) {
    auto ok = runCheck(options_.checkTool, tmpFile_);
    if (!ok.ok() && ok.error().code != ErrorCode::kNotFound) return ok.error();
    if (ok.ok() && !*ok) return Error(ErrorCode::kFailedPrecondition, options_.checkTool + " reports the RDB file damaged");
  }
  std::error_code ec;
  if (options_.layout == RdbLayout::kRdb) {
    const std::string final = options_.dir + "/dump.rdb";
    if (::rename(tmpFile_.c_str(), final.c_str()) != 0) return ioError("renaming into " + final + ": " + std::strerror(errno));
    tmpFile_.clear();
    return fsyncPath(options_.dir);
  }
  // AOF layout (Redis 7 multi-part AOF): the RDB is the base file, named by a manifest. With
  // appendonly on, Redis ignores dump.rdb entirely, so this is the layout such instances load.
  tmpDir_ = options_.dir + "/.servicedb-restore-" + options_.backupId + ".aofdir";
  fs::remove_all(tmpDir_, ec);
  if (::mkdir(tmpDir_.c_str(), 0700) != 0) return ioError("mkdir " + tmpDir_ + ": " + std::strerror(errno));
  const std::string base = tmpDir_ + "/appendonly.aof.1.base.rdb";
  if (::rename(tmpFile_.c_str(), base.c_str()) != 0) return ioError("renaming into " + base + ": " + std::strerror(errno));
  tmpFile_.clear();
  const std::string manifest = tmpDir_ + "/appendonly.aof.manifest";
  const std::string line = "file appendonly.aof.1.base.rdb seq 1 type b\n";
  int mfd = ::open(manifest.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (mfd < 0) return ioError("creating " + manifest + ": " + std::strerror(errno));
  Status w = writeAll(mfd, reinterpret_cast<const uint8_t*>(line.data()), line.size(), manifest);
  if (w.ok() && ::fsync(mfd) != 0) w = ioError("fsync " + manifest);
  ::close(mfd);
  SDB_TRY(w);
  SDB_TRY(fsyncPath(tmpDir_));
  const std::string final = options_.dir + "/appendonlydir";
  const std::string replaced = options_.dir + "/appendonlydir.replaced-" + options_.backupId;
  const bool hadOne = ::access(final.c_str(), F_OK) == 0;
  if (hadOne && ::rename(final.c_str(), replaced.c_str()) != 0) return ioError("moving aside " + final);
  if (::rename(tmpDir_.c_str(), final.c_str()) != 0) return ioError("renaming into " + final + ": " + std::strerror(errno));
  tmpDir_.clear();
  SDB_TRY(fsyncPath(options_.dir));
  if (hadOne) fs::remove_all(replaced, ec);
  return okStatus();
}

void RdbFileTarget::abort() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  if (!tmpFile_.empty()) ::unlink(tmpFile_.c_str());
  if (!tmpDir_.empty()) fs::remove_all(tmpDir_, ec);
  tmpFile_.clear();
  tmpDir_.clear();
}

}  // namespace sdb::backup::redis
