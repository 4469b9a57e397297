#include "operator/runtime/informer.h"

#include <random>

#include "operator/core/log.h"
#include "operator/runtime/object_helpers.h"

namespace sdb::runtime {

Informer::Informer(kube::KubeClient& client, InformerOptions options, Clock& clock)
    : client_(client), options_(std::move(options)), clock_(clock) {}

Informer::~Informer() { stop(); }

void Informer::addHandlers(InformerHandlers handlers) {
  std::vector<ObjectPtr> existing;
  {
    std::lock_guard<std::mutex> lock(handlersMu_);
    handlers_.push_back(handlers);
  }
  if (running_.load() && handlers.onAdd) {
    for (const auto& obj : list()) handlers.onAdd(obj);
  }
}

std::vector<InformerHandlers> Informer::handlersSnapshot() const {
  std::lock_guard<std::mutex> lock(handlersMu_);
  return handlers_;
}

void Informer::start() {
  if (running_.exchange(true)) return;
  lastActivity_ = clock_.monotonic();
  lastResync_ = clock_.monotonic();
  thread_ = std::thread([this] { run(); });
  monitorThread_ = std::thread([this] { monitor(); });
}

void Informer::stop() {
  if (!running_.exchange(false)) return;
  {
    std::lock_guard<std::mutex> lock(streamMu_);
    if (stream_) stream_->stop();
  }
  waitCv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (monitorThread_.joinable()) monitorThread_.join();
}

bool Informer::waitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(waitMu_);
  return waitCv_.wait_for(lock, timeout, [&] { return synced_.load(); });
}

namespace {

void stripManagedFields(Json& obj) {
  if (auto it = obj.find("metadata"); it != obj.end() && it->is_object()) it->erase("managedFields");
}

std::string pack(const Json& obj) {
  // Encode into a reused buffer, then copy out exactly: a string grown by appending keeps up to twice
  // the capacity it needs, which would defeat the point of packing.
  thread_local std::string scratch;
  scratch.clear();
  Json::to_msgpack(obj, scratch);
  return scratch;
}

ObjectPtr unpack(const std::string& packed) {
  Json obj = Json::from_msgpack(packed, /*strict=*/true, /*allow_exceptions=*/false);
  if (obj.is_discarded()) {  // our own encoding: unreachable unless memory was corrupted
    logStructured(spdlog::level::err, "informer cache entry failed to decode", {});
    return nullptr;
  }
  return std::make_shared<const Json>(std::move(obj));
}

}  // namespace

void Informer::index(const std::string& key, const Json& obj, Entry& entry) {
  auto add = [&](Index& idx, std::string value) {
    auto bucket = idx.try_emplace(std::move(value)).first;
    // Only a real insertion is recorded: the same owner UID twice must be unindexed once.
    if (bucket->second.insert(key).second) entry.memberships.push_back({&idx, bucket});
  };
  add(byNamespace_, jsonString(obj, {"metadata", "namespace"}));
  if (const Json* refs = jsonAt(obj, {"metadata", "ownerReferences"}); refs && refs->is_array()) {
    for (const auto& r : *refs) {
      if (r.is_object()) add(byOwner_, r.value("uid", ""));
    }
  }
  if (const Json* labels = jsonAt(obj, {"metadata", "labels"}); labels && labels->is_object()) {
    for (auto it = labels->begin(); it != labels->end(); ++it) {
      if (it.value().is_string()) add(byLabel_, it.key() + "=" + it.value().get<std::string>());
    }
  }
}

void Informer::unindex(const std::string& key, Entry& entry) {
  for (const auto& m : entry.memberships) {
    m.bucket->second.erase(key);
    if (m.bucket->second.empty()) m.index->erase(m.bucket);
  }
  entry.memberships.clear();  // keeps its capacity for the re-index that usually follows
}

Informer::Held Informer::hold(const Entry& entry) const {
  return options_.compactCache ? Held{nullptr, entry.packed} : Held{entry.object, {}};
}

ObjectPtr Informer::materialize(Held held) const {
  return options_.compactCache ? unpack(held.packed) : std::move(held.object);
}

std::vector<ObjectPtr> Informer::materialize(std::vector<Held> held) const {
  std::vector<ObjectPtr> out;
  out.reserve(held.size());
  for (auto& h : held) {
    if (auto obj = materialize(std::move(h))) out.push_back(std::move(obj));
  }
  return out;
}

void Informer::upsert(Json obj) {
  stripManagedFields(obj);
  auto key = objectKey(obj);
  auto rv = jsonString(obj, {"metadata", "resourceVersion"});
  auto ptr = std::make_shared<const Json>(std::move(obj));
  std::string packed = options_.compactCache ? pack(*ptr) : std::string();
  bool existed = false;
  Held old;  // the replaced copy; decoded below only if a handler wants it
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, inserted] = items_.try_emplace(key);
    Entry& entry = it->second;
    if (!inserted) {
      existed = true;
      unindex(key, entry);
      old.object = std::move(entry.object);
      old.packed = std::move(entry.packed);
    }
    entry.object = options_.compactCache ? nullptr : ptr;
    entry.packed = std::move(packed);
    entry.resourceVersion = std::move(rv);
    index(key, *ptr, entry);
  }
  // Snapshot after the cache update: a handler added meanwhile gets this object from its synthetic adds.
  auto handlers = handlersSnapshot();
  ObjectPtr oldObj;
  if (existed) {
    for (const auto& h : handlers) {
      if (h.onUpdate && h.needsOldObject) {
        oldObj = materialize(std::move(old));
        break;
      }
    }
  }
  for (const auto& h : handlers) {
    if (existed) {
      if (h.onUpdate) h.onUpdate(h.needsOldObject ? oldObj : nullptr, ptr);
    } else if (h.onAdd) {
      h.onAdd(ptr);
    }
  }
}

void Informer::erase(Json obj) {
  auto key = objectKey(obj);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = items_.find(key);
    if (it == items_.end()) return;
    unindex(key, it->second);
    items_.erase(it);
  }
  // Deliver the final state the server sent (it may be newer than the cached one).
  stripManagedFields(obj);
  auto ptr = std::make_shared<const Json>(std::move(obj));
  for (const auto& h : handlersSnapshot()) {
    if (h.onDelete) h.onDelete(ptr);
  }
}

void Informer::applyEvent(kube::WatchEvent event) {
  using T = kube::WatchEvent::Type;
  auto rv = jsonString(event.object, {"metadata", "resourceVersion"});
  switch (event.type) {
    case T::kAdded:
    case T::kModified:
      upsert(std::move(event.object));
      break;
    case T::kDeleted:
      erase(std::move(event.object));
      break;
    case T::kBookmark:
      break;
    case T::kError:
      return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!rv.empty()) rv_ = rv;
  if (event.type == T::kBookmark) {
    ++stats_.bookmarks;
  } else {
    ++stats_.events;
  }
}

kube::KStatus Informer::relist() {
  // What a list returned, kept until every page is in: packed (about the size of the JSON text) when
  // the cache is compact, since a full list held as DOMs (2,000 Secrets: tens of MiB) would set the
  // process's peak memory; managedFields go before that.
  struct Listed {
    std::string resourceVersion;
    Json object;         // !compactCache
    std::string packed;  // compactCache
  };
  std::unordered_map<std::string, Listed> fresh;
  std::string cont, rv;
  do {
    kube::ListOptions opts;
    opts.labelSelector = options_.labelSelector;
    opts.fieldSelector = options_.fieldSelector;
    opts.limit = options_.listPageSize;
    opts.continueToken = cont;
    auto page = client_.list(options_.resource, options_.ns, opts);
    if (!page.ok()) return page.error();
    if (page->contains("items") && (*page)["items"].is_array()) {
      for (auto& item : (*page)["items"]) {
        // Lists omit kind/apiVersion on items; restore them so handlers see whole objects.
        if (!item.contains("kind")) item["kind"] = options_.resource.kind;
        if (!item.contains("apiVersion")) item["apiVersion"] = options_.resource.apiVersion();
        stripManagedFields(item);
        std::string key = objectKey(item);
        Listed listed;
        listed.resourceVersion = jsonString(item, {"metadata", "resourceVersion"});
        if (options_.compactCache) {
          listed.packed = pack(item);
        } else {
          listed.object = std::move(item);
        }
        fresh.emplace(std::move(key), std::move(listed));
      }
    }
    cont = jsonString(*page, {"metadata", "continue"});
    rv = jsonString(*page, {"metadata", "resourceVersion"});
  } while (!cont.empty());
  // Deletions for objects that vanished while we were not watching.
  std::vector<Held> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, entry] : items_) {
      if (!fresh.count(key)) gone.push_back(hold(entry));
    }
    ++stats_.lists;
  }
  for (const auto& obj : materialize(std::move(gone))) erase(*obj);
  for (auto& [key, listed] : fresh) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = items_.find(key);
      if (it != items_.end() && it->second.resourceVersion == listed.resourceVersion) continue;
    }
    if (options_.compactCache) {
      Json obj = Json::from_msgpack(listed.packed, /*strict=*/true, /*allow_exceptions=*/false);
      std::string().swap(listed.packed);
      if (obj.is_discarded()) {  // our own encoding: unreachable unless memory was corrupted
        logStructured(spdlog::level::err, "informer list entry failed to decode", {{"key", key}});
        continue;
      }
      upsert(std::move(obj));
    } else {
      upsert(std::move(listed.object));
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    rv_ = rv;
  }
  if (!synced_.exchange(true)) waitCv_.notify_all();
  return {};
}

bool Informer::watchOnce() {
  kube::WatchOptions opts;
  opts.labelSelector = options_.labelSelector;
  opts.fieldSelector = options_.fieldSelector;
  opts.resourceVersion = lastResourceVersion();
  opts.timeoutSeconds = options_.watchTimeoutSeconds;
  opts.allowWatchBookmarks = true;
  auto opened = client_.watch(options_.resource, options_.ns, opts);
  if (!opened.ok()) {
    if (opened.error().is(kube::ApiErrorReason::kGone)) {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.relistsOnGone;
      return false;
    }
    logStructured(spdlog::level::warn, "watch failed",
                  {{"resource", options_.resource.groupResource()}, {"error", opened.error().toString()}});
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.failures;
    }
    sleepBackoff();
    return true;
  }
  std::unique_ptr<kube::WatchStream> stream = std::move(*opened);
  {
    std::lock_guard<std::mutex> lock(streamMu_);
    stream_ = stream.get();
    lastActivity_ = clock_.monotonic();
    if (!running_.load()) stream->stop();  // stop() ran before we published the stream
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.watches;
  }
  bool keepRv = true;
  while (running_.load()) {
    auto next = stream->next();
    if (!next.ok()) {
      if (next.error().is(kube::ApiErrorReason::kGone)) {
        keepRv = false;
      } else {
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.failures;
      }
      break;
    }
    if (!next->has_value()) break;  // server ended the watch (timeoutSeconds) or we stopped it
    kube::WatchEvent event = std::move(**next);
    {
      std::lock_guard<std::mutex> lock(streamMu_);
      lastActivity_ = clock_.monotonic();
    }
    backoff_ = std::chrono::milliseconds(0);
    if (event.type == kube::WatchEvent::Type::kError) {
      auto err = kube::fromHttpResponse(event.object.value("code", 500), dumpJson(event.object));
      if (err.is(kube::ApiErrorReason::kGone)) keepRv = false;
      break;
    }
    applyEvent(std::move(event));
  }
  {
    std::lock_guard<std::mutex> lock(streamMu_);
    stream_ = nullptr;
  }
  stream->stop();
  if (!keepRv) {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.relistsOnGone;
  }
  return keepRv;
}

void Informer::sleepBackoff() {
  static thread_local std::minstd_rand rng{std::random_device{}()};
  backoff_ = backoff_.count() == 0 ? options_.backoffInitial : std::min(backoff_ * 2, options_.backoffMax);
  // Jitter: wait between 50 % and 100 % of the backoff.
  std::uniform_int_distribution<int64_t> dist(backoff_.count() / 2, backoff_.count());
  std::unique_lock<std::mutex> lock(waitMu_);
  waitCv_.wait_for(lock, std::chrono::milliseconds(dist(rng)), [&] { return !running_.load(); });
}

void Informer::run() {
  bool needList = true;
  while (running_.load()) {
    if (needList) {
      auto listed = relist();
      if (!listed.ok()) {
        logStructured(spdlog::level::warn, "list failed",
                      {{"resource", options_.resource.groupResource()}, {"error", listed.error().toString()}});
        {
          std::lock_guard<std::mutex> lock(mu_);
          ++stats_.failures;
        }
        sleepBackoff();
        continue;
      }
      needList = false;
    }
    needList = !watchOnce();
  }
}

void Informer::monitor() {
  auto stallAfter = std::chrono::seconds(static_cast<int64_t>(options_.watchTimeoutSeconds) * options_.stallFactor);
  while (running_.load()) {
    {
      std::unique_lock<std::mutex> lock(waitMu_);
      waitCv_.wait_for(lock, options_.monitorInterval, [&] { return !running_.load(); });
    }
    if (!running_.load()) break;
    auto now = clock_.monotonic();
    {
      std::lock_guard<std::mutex> lock(streamMu_);
      if (stream_ && now - lastActivity_ > stallAfter) {
        logStructured(spdlog::level::warn, "watch stalled; restarting it",
                      {{"resource", options_.resource.groupResource()}});
        stream_->stop();
        lastActivity_ = now;
        std::lock_guard<std::mutex> l2(mu_);
        ++stats_.stalls;
      }
    }
    if (options_.resyncPeriod.count() > 0 && synced_.load() && now - lastResync_ >= options_.resyncPeriod) {
      lastResync_ = now;
      auto handlers = handlersSnapshot();
      // One object at a time: decoding the whole cache at once (list()) made every resync the
      // operator's memory peak, 19 MiB of DOMs with 2,000 Secrets cached (bench/servicedatabase).
      std::vector<std::string> keys;
      {
        std::lock_guard<std::mutex> lock(mu_);
        keys.reserve(items_.size());
        for (const auto& entry : items_) keys.push_back(entry.first);
      }
      for (const auto& key : keys) {
        Held held;
        {
          std::lock_guard<std::mutex> lock(mu_);
          auto it = items_.find(key);
          if (it == items_.end()) continue;  // deleted since: its deletion was delivered
          held = hold(it->second);
        }
        const ObjectPtr obj = materialize(std::move(held));
        if (!obj) continue;
        for (const auto& h : handlers) {
          if (h.onUpdate) h.onUpdate(h.needsOldObject ? obj : nullptr, obj);
        }
      }
    }
  }
}

ObjectPtr Informer::get(const std::string& ns, const std::string& name) const {
  Held held;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = items_.find(objectKey(options_.resource.namespaced ? ns : "", name));
    if (it == items_.end()) return nullptr;
    held = hold(it->second);
  }
  return materialize(std::move(held));
}

std::vector<ObjectPtr> Informer::list(const std::string& ns) const {
  std::vector<Held> held;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ns.empty()) {
      held.reserve(items_.size());
      for (const auto& [k, entry] : items_) held.push_back(hold(entry));
    } else if (auto it = byNamespace_.find(ns); it != byNamespace_.end()) {
      held.reserve(it->second.size());
      for (const auto& key : it->second) held.push_back(hold(items_.at(key)));
    }
  }
  return materialize(std::move(held));
}

std::vector<ObjectPtr> Informer::byOwnerUid(const std::string& uid) const {
  std::vector<Held> held;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = byOwner_.find(uid); it != byOwner_.end()) {
      for (const auto& key : it->second) held.push_back(hold(items_.at(key)));
    }
  }
  return materialize(std::move(held));
}

std::vector<ObjectPtr> Informer::byLabel(const std::string& key, const std::string& value) const {
  std::vector<Held> held;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = byLabel_.find(key + "=" + value); it != byLabel_.end()) {
      for (const auto& k : it->second) held.push_back(hold(items_.at(k)));
    }
  }
  return materialize(std::move(held));
}

size_t Informer::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return items_.size();
}

std::string Informer::lastResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rv_;
}

InformerStats Informer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace sdb::runtime
