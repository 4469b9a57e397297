// Store persistence (write-ahead log plus snapshot), history and watch fan-out.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "e2e/apimachinery/store_impl.h"

namespace sdb::apimachinery {

namespace fs = std::filesystem;

Status Store::Impl::load() {
  if (options.dataDir.empty()) return okStatus();
  std::error_code ec;
  fs::create_directories(options.dataDir, ec);
  const fs::path snapshot = fs::path(options.dataDir) / "store.snapshot";
  const fs::path walPath = fs::path(options.dataDir) / "store.wal";
  auto readLines = [&](const fs::path& p, bool tolerateTornTail, auto&& onRecord) -> Status {
    std::ifstream in(p);
    if (!in) return okStatus();
    std::string line;
    size_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      auto rec = parseJson(line);
      if (!rec.ok()) {
        if (tolerateTornTail && in.peek() == EOF) break;  // a write cut by kill -9
        return ioError(p.string() + ":" + std::to_string(n) + ": corrupt record");
      }
      onRecord(*rec);
    }
    return okStatus();
  };
  SDB_TRY(readLines(snapshot, false, [&](const Json& r) {
    if (r.contains("rv")) rv = std::max(rv, r["rv"].get<int64_t>());
    if (r.contains("k")) objects[r["k"].get<std::string>()] = r["o"];
  }));
  SDB_TRY(readLines(walPath, true, [&](const Json& r) {
    rv = std::max(rv, r.value("rv", int64_t{0}));
    const std::string k = r.value("k", "");
    if (r.value("t", "") == "put") {
      objects[k] = r["o"];
    } else {
      objects.erase(k);
    }
  }));
  for (const auto& [k, o] : objects) {
    if (k.rfind("/services/", 0) == 0) {
      std::string ip = jsonString(o, {"spec", "clusterIP"});
      if (!ip.empty()) usedClusterIps.insert(ip);
    }
  }
  // Compact: one snapshot, an empty log. History restarts here.
  const fs::path tmp = fs::path(options.dataDir) / "store.snapshot.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << Json{{"rv", rv}}.dump() << "\n";
    for (const auto& [k, o] : objects) out << Json{{"k", k}, {"o", o}}.dump() << "\n";
    out.flush();
    if (!out) return ioError("cannot write " + tmp.string());
  }
  int fd = ::open(tmp.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  fs::rename(tmp, snapshot, ec);
  if (ec) return ioError("cannot rename the snapshot: " + ec.message());
  wal = std::fopen(walPath.c_str(), "w");
  if (!wal) return ioError("cannot open " + walPath.string());
  compactedRv = rv;
  return okStatus();
}

Result<int64_t> Store::restart() {
  std::vector<std::shared_ptr<Watcher>> open;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (!impl_->options.dataDir.empty()) {
      // Read the state back as a new process would; every acknowledged write is in the log.
      if (impl_->wal) std::fclose(impl_->wal);
      impl_->wal = nullptr;
      auto objects = std::move(impl_->objects);
      auto clusterIps = std::move(impl_->usedClusterIps);
      const int64_t rv = impl_->rv;
      impl_->objects.clear();
      impl_->usedClusterIps.clear();
      if (Status loaded = impl_->load(); !loaded.ok()) {
        impl_->objects = std::move(objects);
        impl_->usedClusterIps = std::move(clusterIps);
        impl_->rv = rv;
        impl_->wal = std::fopen((fs::path(impl_->options.dataDir) / "store.wal").c_str(), "a");
        return loaded.error();
      }
    }
    impl_->history.clear();
    impl_->compactedRv = impl_->rv;
    for (auto& w : impl_->watchers) {
      if (auto p = w.lock()) open.push_back(std::move(p));
    }
    impl_->watchers.clear();
  }
  for (auto& w : open) w->close();
  return resourceVersion();
}

Status Store::Impl::appendWal(const char* op, const std::string& key, const Json* obj) {
  if (!wal) return okStatus();
  Json rec = {{"t", op}, {"k", key}, {"rv", rv}};
  if (obj) rec["o"] = *obj;
  std::string line = rec.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), wal) != line.size() || std::fflush(wal) != 0) {
    return ioError("write-ahead log: write failed");
  }
  if (options.fsyncEveryWrite) ::fdatasync(::fileno(wal));
  return okStatus();
}

bool Store::Impl::watcherWants(const Watcher& w, const std::string& group, const std::string& resource,
                               const std::string& ns) {
  const auto& f = w.filter();
  return f.group == group && f.resource == resource && (f.ns.empty() || f.ns == ns);
}

void Store::Impl::notify(const HistoryEvent& e) {
  for (auto it = watchers.begin(); it != watchers.end();) {
    auto w = it->lock();
    if (!w || w->closed()) {
      it = watchers.erase(it);
      continue;
    }
    ++it;
    if (!watcherWants(*w, e.group, e.resource, e.ns)) continue;
    const auto& f = w->filter();
    auto matches = [&](const Json& o) { return !o.is_null() && f.labels.matches(o) && f.fields.matches(o); };
    using T = kube::WatchEvent::Type;
    if (e.type == T::kModified) {
      bool now = matches(e.object), before = matches(e.old);
      if (now && before) w->push({T::kModified, e.object});
      else if (now) w->push({T::kAdded, e.object});
      else if (before) w->push({T::kDeleted, e.object});
    } else if (matches(e.object)) {
      w->push({e.type, e.object});
    }
  }
}

kube::KResult<Json> Store::Impl::commitPut(const ResourceInfo& info, const std::string& key, Json obj,
                                           kube::WatchEvent::Type type, const Json* old) {
  ++rv;
  obj["metadata"]["resourceVersion"] = std::to_string(rv);
  if (auto s = appendWal("put", key, &obj); !s.ok()) {
    --rv;
    kube::ApiError e = kube::fromHttpResponse(500, "");
    e.message = "storage: " + s.error().message;
    return e;
  }
  objects[key] = obj;
  // Deletions in progress and changed owner references may give the garbage collector work.
  const Json* refs = jsonAt(obj, {"metadata", "ownerReferences"});
  const Json* oldRefs = old ? jsonAt(*old, {"metadata", "ownerReferences"}) : nullptr;
  if (jsonAt(obj, {"metadata", "deletionTimestamp"}) || (refs ? !oldRefs || *refs != *oldRefs : oldRefs != nullptr)) {
    gcDirty = true;
    gcWake.notify_all();
  }
  HistoryEvent ev{rv, type, info.ref.group, info.ref.resource, jsonString(obj, {"metadata", "namespace"}), obj,
                  old ? *old : Json(nullptr)};
  notify(ev);
  history.push_back(std::move(ev));
  while (history.size() > options.historyLimit) {
    compactedRv = history.front().rv;
    history.pop_front();
  }
  return obj;
}

kube::KResult<Json> Store::Impl::commitDelete(const ResourceInfo& info, const std::string& key, Json obj) {
  ++rv;
  obj["metadata"]["resourceVersion"] = std::to_string(rv);
  if (auto s = appendWal("del", key, nullptr); !s.ok()) {
    --rv;
    kube::ApiError e = kube::fromHttpResponse(500, "");
    e.message = "storage: " + s.error().message;
    return e;
  }
  objects.erase(key);
  gcDirty = true;
  gcWake.notify_all();
  HistoryEvent ev{rv, kube::WatchEvent::Type::kDeleted, info.ref.group, info.ref.resource,
                  jsonString(obj, {"metadata", "namespace"}), obj, Json(nullptr)};
  notify(ev);
  history.push_back(std::move(ev));
  while (history.size() > options.historyLimit) {
    compactedRv = history.front().rv;
    history.pop_front();
  }
  if (info.ref.resource == "services") usedClusterIps.erase(jsonString(obj, {"spec", "clusterIP"}));
  return obj;
}

}  // namespace sdb::apimachinery
