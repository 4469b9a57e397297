#include "operator/runtime/event_recorder.h"

#include <cstdio>

#include "operator/core/log.h"

namespace sdb::runtime {

EventRecorder::EventRecorder(kube::KubeClient& client, EventRecorderOptions options, Clock& clock)
    : client_(client), options_(std::move(options)), clock_(clock) {}

EventRecorder::~EventRecorder() { stop(std::chrono::milliseconds(0)); }

void EventRecorder::event(const Json& involved, const std::string& type, const std::string& reason,
                          const std::string& message) {
  Json ref = {{"apiVersion", involved.value("apiVersion", "")},
              {"kind", involved.value("kind", "")},
              {"name", jsonString(involved, {"metadata", "name"})},
              {"namespace", jsonString(involved, {"metadata", "namespace"})},
              {"uid", jsonString(involved, {"metadata", "uid"})},
              {"resourceVersion", jsonString(involved, {"metadata", "resourceVersion"})}};
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= options_.capacity) {
      ++dropped_;
      return;
    }
    queue_.push_back({std::move(ref), type, reason, message, clock_.now()});
  }
  cv_.notify_one();
}

bool EventRecorder::popOne(Pending* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (queue_.empty()) return false;
  *out = std::move(queue_.front());
  queue_.pop_front();
  return true;
}

void EventRecorder::write(const Pending& p) {
  std::lock_guard<std::mutex> lock(writeMu_);
  const Json& io = p.involvedObject;
  std::string key = io.value("uid", "") + "|" + io.value("kind", "") + "|" + io.value("namespace", "") + "|" +
                    io.value("name", "") + "|" + p.type + "|" + p.reason + "|" + p.message;
  auto nowMono = clock_.monotonic();
  std::string ts = formatRfc3339(p.at);
  // Expire old aggregation entries so the map stays bounded.
  for (auto it = seen_.begin(); it != seen_.end();) {
    it = nowMono - it->second.lastSeen > options_.aggregationWindow ? seen_.erase(it) : std::next(it);
  }
  auto it = seen_.find(key);
  if (it != seen_.end()) {
    Seen& s = it->second;
    Json patch = {{"count", s.count + 1}, {"lastTimestamp", ts}};
    auto r = client_.patch(kube::resources::kEvents, s.eventNamespace, s.eventName, kube::PatchType::kMerge,
                           dumpJson(patch), {});
    if (r.ok()) {
      ++s.count;
      s.lastSeen = nowMono;
      ++written_;
      return;
    }
    seen_.erase(it);  // deleted or expired on the server: start a new Event
  }
  std::string ns = io.value("namespace", "");
  if (ns.empty()) ns = "default";
  char suffix[32];
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(p.at.time_since_epoch()).count();
  std::snprintf(suffix, sizeof suffix, ".%llx%llx", static_cast<unsigned long long>(nanos),
                static_cast<unsigned long long>(sequence_.fetch_add(1)));
  std::string name = io.value("name", "") + suffix;
  Json ev = {{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", name}, {"namespace", ns}}},
             {"involvedObject", io},
             {"reason", p.reason},
             {"message", p.message},
             {"type", p.type},
             {"source", {{"component", options_.component}}},
             {"firstTimestamp", ts},
             {"lastTimestamp", ts},
             {"count", 1},
             {"reportingComponent", options_.component},
             {"reportingInstance", options_.instance}};
  auto created = client_.create(kube::resources::kEvents, ns, ev, {});
  if (!created.ok()) {
    logStructured(spdlog::level::warn, "could not write event",
                  {{"reason", p.reason}, {"object", io.value("name", "")}, {"error", created.error().toString()}});
    return;
  }
  seen_[key] = Seen{name, ns, 1, ts, nowMono};
  ++written_;
}

void EventRecorder::flush() {
  Pending p;
  while (popOne(&p)) write(p);
}

void EventRecorder::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return !queue_.empty() || !running_.load(); });
        if (queue_.empty() && !running_.load()) return;
      }
      Pending p;
      while (popOne(&p)) write(p);
    }
  });
}

void EventRecorder::stop(std::chrono::milliseconds timeout) {
  if (!running_.exchange(false)) return;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queue_.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.clear();  // past the budget: drop the rest rather than delay shutdown
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sdb::runtime
