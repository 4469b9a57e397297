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

void Informer::index(const std::string& key, const Json& obj, bool add) {
  auto apply = [&](std::map<std::string, std::set<std::string>>& idx, const std::string& v) {
    if (add) {
      idx[v].insert(key);
    } else if (auto it = idx.find(v); it != idx.end()) {
      it->second.erase(key);
      if (it->second.empty()) idx.erase(it);
    }
  };
  apply(byNamespace_, jsonString(obj, {"metadata", "namespace"}));
  if (const Json* refs = jsonAt(obj, {"metadata", "ownerReferences"}); refs && refs->is_array()) {
    for (const auto& r : *refs) {
      if (r.is_object()) apply(byOwner_, r.value("uid", ""));
    }
  }
  if (const Json* labels = jsonAt(obj, {"metadata", "labels"}); labels && labels->is_object()) {
    for (auto it = labels->begin(); it != labels->end(); ++it) {
      if (it.value().is_string()) apply(byLabel_, it.key() + "=" + it.value().get<std::string>());
    }
  }
}

void Informer::upsert(Json obj) {
  if (obj.contains("metadata") && obj["metadata"].is_object()) obj["metadata"].erase("managedFields");
  auto key = objectKey(obj);
  auto ptr = std::make_shared<const Json>(std::move(obj));
  ObjectPtr old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = items_.find(key);
    if (it != items_.end()) {
      old = it->second;
      index(key, *old, false);
      it->second = ptr;
    } else {
      items_.emplace(key, ptr);
    }
    index(key, *ptr, true);
  }
  for (const auto& h : handlersSnapshot()) {
    if (old) {
      if (h.onUpdate) h.onUpdate(old, ptr);
    } else if (h.onAdd) {
      h.onAdd(ptr);
    }
  }
}

void Informer::erase(const Json& obj) {
  auto key = objectKey(obj);
  ObjectPtr old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = items_.find(key);
    if (it == items_.end()) return;
    old = it->second;
    index(key, *old, false);
    items_.erase(it);
  }
  // Deliver the final state the server sent (it may be newer than the cached one).
  Json last = obj;
  if (last.contains("metadata") && last["metadata"].is_object()) last["metadata"].erase("managedFields");
  auto ptr = std::make_shared<const Json>(std::move(last));
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
      erase(event.object);
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
  std::unordered_map<std::string, Json> fresh;
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
        fresh.emplace(objectKey(item), std::move(item));
      }
    }
    cont = jsonString(*page, {"metadata", "continue"});
    rv = jsonString(*page, {"metadata", "resourceVersion"});
  } while (!cont.empty());
  // Deletions for objects that vanished while we were not watching.
  std::vector<ObjectPtr> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, obj] : items_) {
      if (!fresh.count(key)) gone.push_back(obj);
    }
    ++stats_.lists;
  }
  for (const auto& obj : gone) erase(*obj);
  for (auto& [key, obj] : fresh) {
    ObjectPtr cur = get(jsonString(obj, {"metadata", "namespace"}), jsonString(obj, {"metadata", "name"}));
    if (cur && jsonString(*cur, {"metadata", "resourceVersion"}) == jsonString(obj, {"metadata", "resourceVersion"})) {
      continue;
    }
    upsert(std::move(obj));
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
      for (const auto& obj : list()) {
        for (const auto& h : handlers) {
          if (h.onUpdate) h.onUpdate(obj, obj);
        }
      }
    }
  }
}

ObjectPtr Informer::get(const std::string& ns, const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = items_.find(objectKey(options_.resource.namespaced ? ns : "", name));
  return it == items_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Informer::list(const std::string& ns) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  if (ns.empty()) {
    out.reserve(items_.size());
    for (const auto& [k, v] : items_) out.push_back(v);
    return out;
  }
  auto it = byNamespace_.find(ns);
  if (it == byNamespace_.end()) return out;
  for (const auto& key : it->second) out.push_back(items_.at(key));
  return out;
}

std::vector<ObjectPtr> Informer::byOwnerUid(const std::string& uid) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  if (auto it = byOwner_.find(uid); it != byOwner_.end()) {
    for (const auto& key : it->second) out.push_back(items_.at(key));
  }
  return out;
}

std::vector<ObjectPtr> Informer::byLabel(const std::string& key, const std::string& value) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  if (auto it = byLabel_.find(key + "=" + value); it != byLabel_.end()) {
    for (const auto& k : it->second) out.push_back(items_.at(k));
  }
  return out;
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
