#include "e2e/apimachinery/watcher.h"

#include "operator/kube/api_error.h"

namespace sdb::apimachinery {

std::optional<kube::WatchEvent> Watcher::next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_; });
  if (queue_.empty()) return std::nullopt;
  kube::WatchEvent e = std::move(queue_.front());
  queue_.pop_front();
  return e;
}

void Watcher::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool Watcher::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_ && queue_.empty();
}

void Watcher::push(kube::WatchEvent event) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    if (event.type != kube::WatchEvent::Type::kError) {
      lastRv_ = jsonString(event.object, {"metadata", "resourceVersion"}, lastRv_);
    }
    if (queue_.size() >= capacity_) {
      queue_.clear();
      queue_.push_back({kube::WatchEvent::Type::kError,
                        kube::toStatusJson(kube::goneError("the watch fell too far behind (more than " +
                                                           std::to_string(capacity_) + " events queued)"))});
      closed_ = true;
    } else {
      queue_.push_back(std::move(event));
    }
  }
  cv_.notify_all();
}

std::string Watcher::lastResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lastRv_;
}

}  // namespace sdb::apimachinery
