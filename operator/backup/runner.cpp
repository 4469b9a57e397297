#include "operator/backup/runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "operator/backup/child_process.h"
#include "operator/core/clock.h"

namespace sdb::backup {
namespace {

constexpr size_t kReadBuffer = kReadBufferSize;

std::string streamPath(const std::string& target, const std::string& id) { return target + "/" + id + ".sdbk"; }
std::string manifestPath(const std::string& target, const std::string& id) { return target + "/" + id + ".manifest.json"; }

Result<std::string> readAll(Destination& dest, const std::string& path) {
  auto r = dest.open(path);
  if (!r.ok()) return r.error();
  std::string out;
  uint8_t buf[65536];
  while (true) {
    auto n = (*r)->read(buf, sizeof buf);
    if (!n.ok()) return n.error();
    if (*n == 0) break;
    out.append(reinterpret_cast<char*>(buf), *n);
  }
  return out;
}

}  // namespace

std::string newBackupId(std::chrono::system_clock::time_point now, Random& random) {
  std::string stamp = formatRfc3339(now);  // 2026-11-25T03:15:00Z
  std::string compact;
  for (char c : stamp) {
    if (c != '-' && c != ':') compact.push_back(c);
  }
  return compact + "-" + random.hex(4).valueOr("00000000");
}

Result<Json> runBackup(const BackupRequest& req, Destination& dest) {
  const auto started = std::chrono::system_clock::now();
  auto out = dest.create(streamPath(req.target, req.backupId));
  if (!out.ok()) return out.error();
  ObjectWriter& writer = **out;
  auto enc = Encryptor::start(req.key, {req.keyId, req.backupId, req.chunkSize}, CryptoRandom::instance(),
                              [&](const uint8_t* d, size_t n) { return writer.write(d, n); });
  if (!enc.ok()) return enc.error();
  auto fail = [&](const Error& e) -> Result<Json> {
    writer.abort();
    (void)recordAccess(dest, req.accessLog(), access::kWritten, req.backupId, access::kFailed, {{"error", e.message}});
    return e;
  };
  std::string tool;
  if (req.source != nullptr) {
    tool = req.source->tool();
    Status produced = req.source->run([&](const uint8_t* d, size_t n) { return enc->write(d, n); });
    if (!produced.ok()) return fail(produced.error());
  } else {
    if (req.dumpCommand.empty()) return fail(invalidArgument("no dump command or source"));
    tool = req.dumpCommand[0];
    auto child = spawnPiped(req.dumpCommand, /*toChild=*/false);
    if (!child.ok()) return fail(child.error());
    std::vector<uint8_t> buf(kReadBuffer);
    Status streamed = okStatus();
    while (true) {
      ssize_t n = ::read(child->fd, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        streamed = ioError(std::string("reading the dump: ") + std::strerror(errno));
        break;
      }
      if (n == 0) break;
      streamed = enc->write(buf.data(), static_cast<size_t>(n));
      if (!streamed.ok()) break;
    }
    close(child->fd);
    if (!streamed.ok()) kill(child->pid, SIGKILL);
    const int code = reapChild(child->pid);
    if (!streamed.ok()) return fail(streamed.error());
    if (code != 0) return fail(ioError(req.dumpCommand[0] + " exited with " + std::to_string(code)));
  }
  auto summary = enc->finish();
  if (!summary.ok()) return fail(summary.error());
  if (auto c = writer.commit(); !c.ok()) return fail(c.error());
  const auto finished = std::chrono::system_clock::now();
  Json manifest = {{"id", req.backupId},
                   {"target", req.target},
                   {"engine", req.engine},
                   {"engineVersion", req.engineVersion},
                   {"startedAt", formatRfc3339(started)},
                   {"finishedAt", formatRfc3339(finished)},
                   {"size", summary->plaintextBytes},
                   {"streamSize", summary->streamBytes},
                   {"chunks", summary->chunks},
                   {"digest", summary->digest},
                   {"keyId", req.keyId},
                   {"tools", "servicedb-operator " SERVICEDB_VERSION "; " + tool}};
  if (!req.dumpKind.empty()) manifest["dumpKind"] = req.dumpKind;
  manifest = signManifest(manifest, enc->manifestKey());
  auto mw = dest.create(manifestPath(req.target, req.backupId));
  if (!mw.ok()) return mw.error();
  const std::string text = manifest.dump() + "\n";
  SDB_TRY((*mw)->write(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  SDB_TRY((*mw)->commit());
  SDB_TRY(recordAccess(dest, req.accessLog(), access::kWritten, req.backupId, access::kSucceeded,
                       {{"size", summary->plaintextBytes}, {"streamSize", summary->streamBytes}}));
  return manifest;
}

Result<std::vector<std::string>> completeBackupIds(Destination& dest, const std::string& target) {
  auto files = dest.list(target);
  if (!files.ok()) return files.error();
  std::vector<std::string> ids;
  const std::string suffix = ".manifest.json", dir = target + "/";
  for (const auto& f : *files) {
    if (f.size() <= dir.size() + suffix.size() || f.compare(0, dir.size(), dir) != 0) continue;
    if (f.compare(f.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    std::string id = f.substr(dir.size(), f.size() - dir.size() - suffix.size());
    if (id.find('/') != std::string::npos) continue;  // access-log/ and anything else below the target
    ids.push_back(std::move(id));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<std::string> latestBackupId(Destination& dest, const std::string& target) {
  auto ids = completeBackupIds(dest, target);
  if (!ids.ok()) return ids.error();
  if (ids->empty()) return notFound("no complete backup of " + target + " in " + dest.describe());
  return ids->back();
}

Result<Json> readManifestUnverified(Destination& dest, const std::string& target, const std::string& backupId) {
  auto text = readAll(dest, manifestPath(target, backupId));
  if (!text.ok()) return text.error().wrap("manifest of " + backupId);
  auto manifest = parseJson(*text, "manifest of " + backupId);
  if (!manifest.ok()) return manifest.error();
  if (!manifest->is_object()) return invalidArgument("manifest of " + backupId + ": not a JSON object");
  return manifest;
}

Result<RestoreSummary> runRestore(const RestoreRequest& req, Destination& dest) {
  std::string id = req.backupId;
  if (id.empty() || id == "latest") {
    auto latest = latestBackupId(dest, req.target);
    if (!latest.ok()) {
      (void)recordAccess(dest, req.accessLog(), access::kListed, access::kAllBackups, access::kFailed,
                         {{"error", latest.error().message}, {"purpose", "latest"}});
      return latest.error();
    }
    id = *latest;
    SDB_TRY(recordAccess(dest, req.accessLog(), access::kListed, access::kAllBackups, access::kSucceeded,
                         {{"purpose", "latest"}, {"chosen", id}}));
  }
  const std::string action = req.verifyOnly ? access::kRead : access::kRestored;
  auto fail = [&](const Error& e) -> Result<RestoreSummary> {
    (void)recordAccess(dest, req.accessLog(), action, id, access::kFailed, {{"error", e.message}});
    return e;
  };
  auto manifest = readManifestUnverified(dest, req.target, id);
  if (!manifest.ok()) return fail(manifest.error());
  auto in = dest.open(streamPath(req.target, id));
  if (!in.ok()) return fail(in.error());

  Child child;
  RestoreTarget* target = req.verifyOnly ? nullptr : req.into;
  if (!req.verifyOnly && target == nullptr) {
    auto c = spawnPiped(req.restoreCommand, /*toChild=*/true);
    if (!c.ok()) return fail(c.error());
    child = *c;
  }
  Decryptor dec(
      [&](const std::string& keyId) -> Result<Key> {
        auto it = req.keys.find(keyId);
        if (it == req.keys.end()) return notFound("no key with id \"" + keyId + "\" was given");
        return it->second;
      },
      [&](const uint8_t* d, size_t n) -> Status {
        if (target != nullptr) return target->write(d, n);
        if (child.pid < 0) return okStatus();
        while (n > 0) {
          ssize_t w = ::write(child.fd, d, n);
          if (w < 0 && errno == EINTR) continue;
          if (w < 0) return ioError(req.restoreCommand[0] + " stopped reading: " + std::strerror(errno));
          d += w;
          n -= static_cast<size_t>(w);
        }
        return okStatus();
      });
  auto abortChild = [&] {
    if (target != nullptr) {
      target->abort();
      target = nullptr;
    }
    if (child.pid > 0) {
      kill(child.pid, SIGKILL);  // before EOF: a single-transaction restore rolls back
      close(child.fd);
      reapChild(child.pid);
      child.pid = -1;
    }
  };
  std::vector<uint8_t> buf(kReadBuffer);
  while (true) {
    auto n = (*in)->read(buf.data(), buf.size());
    if (!n.ok()) {
      abortChild();
      return fail(n.error());
    }
    if (*n == 0) break;
    if (auto s = dec.feed(buf.data(), *n); !s.ok()) {
      abortChild();
      return fail(s.error());
    }
  }
  auto summary = dec.finish();
  if (!summary.ok()) {
    abortChild();
    return fail(summary.error());
  }
  if (auto v = verifyManifest(*manifest, dec.manifestKey()); !v.ok()) {
    abortChild();
    return fail(v.error());
  }
  if (manifest->value("digest", "") != summary->digest) {
    abortChild();
    return fail(Error(ErrorCode::kFailedPrecondition, "manifest digest does not match the stream"));
  }
  if (target != nullptr) {
    if (auto c = target->commit(); !c.ok()) {
      target->abort();
      return fail(c.error().wrap("committing the restore into " + target->name()));
    }
  }
  if (child.pid > 0) {
    close(child.fd);
    int code = reapChild(child.pid);
    child.pid = -1;
    if (code != 0) return fail(ioError(req.restoreCommand[0] + " exited with " + std::to_string(code)));
  }
  SDB_TRY(recordAccess(dest, req.accessLog(), action, id, access::kSucceeded, {{"size", summary->plaintextBytes}}));
  return RestoreSummary{id, *manifest, summary->plaintextBytes, summary->chunks};
}

}  // namespace sdb::backup
