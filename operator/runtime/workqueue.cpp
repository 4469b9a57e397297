#include "operator/runtime/workqueue.h"

#include <vector>

namespace sdb::runtime {

namespace {
double secondsBetween(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
}  // namespace

WorkQueue::WorkQueue(WorkQueueOptions options, Clock& clock, std::unique_ptr<RateLimiter> limiter,
                     std::shared_ptr<WorkQueueMetrics> metrics)
    : options_(std::move(options)), clock_(clock), limiter_(std::move(limiter)), metrics_(std::move(metrics)) {
  delayThread_ = std::thread([this] { delayLoop(); });
}

WorkQueue::~WorkQueue() {
  shutDown();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopDelay_ = true;
  }
  delayCv_.notify_all();
  if (delayThread_.joinable()) delayThread_.join();
}

void WorkQueue::addLocked(const std::string& key, std::unique_lock<std::mutex>& lock) {
  if (shuttingDown_) return;
  if (dirty_.count(key)) return;
  dirty_.insert(key);
  addedAt_.emplace(key, clock_.monotonic());
  bool queued = false;
  if (!processing_.count(key)) {
    queue_.push_back(key);
    queued = true;
  }
  int64_t depth = static_cast<int64_t>(queue_.size());
  lock.unlock();
  if (metrics_) {
    metrics_->added();
    metrics_->depth(depth);
  }
  if (queued) cv_.notify_one();
  lock.lock();
}

void WorkQueue::add(const std::string& key) {
  std::unique_lock<std::mutex> lock(mu_);
  addLocked(key, lock);
}

void WorkQueue::addAfter(const std::string& key, std::chrono::nanoseconds delay) {
  std::unique_lock<std::mutex> lock(mu_);
  if (shuttingDown_) return;
  if (delay <= std::chrono::nanoseconds::zero()) {
    addLocked(key, lock);
    return;
  }
  auto ready = clock_.monotonic() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay);
  auto it = waiting_.find(key);
  if (it == waiting_.end()) {
    waiting_.emplace(key, ready);
  } else if (ready < it->second) {
    it->second = ready;
  }
  delayCv_.notify_all();
}

void WorkQueue::addRateLimited(const std::string& key) {
  if (metrics_) metrics_->retried();
  auto delay = limiter_ ? limiter_->when(key) : Duration::zero();
  addAfter(key, delay);
}

void WorkQueue::forget(const std::string& key) {
  if (limiter_) limiter_->forget(key);
}

int WorkQueue::numRequeues(const std::string& key) { return limiter_ ? limiter_->numRequeues(key) : 0; }

std::optional<std::string> WorkQueue::popLocked(std::unique_lock<std::mutex>& lock) {
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  auto now = clock_.monotonic();
  double latency = 0;
  auto it = addedAt_.find(key);
  if (it != addedAt_.end()) {
    latency = secondsBetween(it->second, now);
    addedAt_.erase(it);
  }
  startedAt_[key] = now;
  int64_t depth = static_cast<int64_t>(queue_.size());
  lock.unlock();
  if (metrics_) {
    metrics_->depth(depth);
    metrics_->queueLatency(latency);
  }
  lock.lock();
  return key;
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !queue_.empty() || shuttingDown_; });
  if (queue_.empty()) return std::nullopt;
  return popLocked(lock);
}

std::optional<std::string> WorkQueue::tryGet(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || shuttingDown_; });
  if (queue_.empty()) return std::nullopt;
  return popLocked(lock);
}

void WorkQueue::done(const std::string& key) {
  std::unique_lock<std::mutex> lock(mu_);
  processing_.erase(key);
  double work = 0;
  auto it = startedAt_.find(key);
  if (it != startedAt_.end()) {
    work = secondsBetween(it->second, clock_.monotonic());
    startedAt_.erase(it);
  }
  bool requeued = false;
  if (dirty_.count(key)) {
    queue_.push_back(key);
    requeued = true;
  }
  bool drained = processing_.empty();
  int64_t depth = static_cast<int64_t>(queue_.size());
  lock.unlock();
  if (metrics_) {
    metrics_->workDuration(work);
    if (requeued) metrics_->depth(depth);
  }
  if (requeued) cv_.notify_one();
  if (drained) drainCv_.notify_all();
}

void WorkQueue::shutDown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shuttingDown_ = true;
  }
  cv_.notify_all();
  delayCv_.notify_all();
}

void WorkQueue::shutDownWithDrain() {
  shutDown();
  std::unique_lock<std::mutex> lock(mu_);
  drainCv_.wait(lock, [&] { return processing_.empty(); });
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shuttingDown_;
}

int64_t WorkQueue::len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(queue_.size());
}

int64_t WorkQueue::waitingLen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(waiting_.size());
}

void WorkQueue::moveDueLocked(std::unique_lock<std::mutex>& lock) {
  auto now = clock_.monotonic();
  std::vector<std::string> due;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second <= now) {
      due.push_back(it->first);
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& key : due) addLocked(key, lock);
}

void WorkQueue::flushDelayed() {
  std::unique_lock<std::mutex> lock(mu_);
  moveDueLocked(lock);
}

void WorkQueue::delayLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopDelay_) {
    moveDueLocked(lock);
    if (stopDelay_) break;
    auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.pollInterval);
    if (!waiting_.empty()) {
      auto now = clock_.monotonic();
      for (const auto& [key, ready] : waiting_) {
        auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(ready - now);
        if (left < wait) wait = left;
      }
    }
    if (wait < std::chrono::nanoseconds(1000)) wait = std::chrono::nanoseconds(1000);
    delayCv_.wait_for(lock, wait);
  }
}

}  // namespace sdb::runtime
