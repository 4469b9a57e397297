// A rate-limited work queue of string keys ("namespace/name"), with client-go's semantics:
// - a key is queued at most once (the dirty set): adding a queued key again is a no-op;
// - a key is never handed to two workers at once (the processing set): a key added while it is
//   being processed is re-queued when done() is called for it;
// - addAfter() delays a key (delayed adds of the same key keep the earliest time);
// - addRateLimited() delays by the RateLimiter (per-key backoff, overall token bucket); forget()
//   resets a key's backoff after success;
// - shutDown() wakes all getters (they get nullopt); shutDownWithDrain() also waits until every key
//   being processed is done.
//
// Contract: thread-safe. Delays are measured on the injected Clock; a background thread moves due
// keys in, re-checking at least every `pollInterval` of real time (so a FakeClock advanced by a test
// takes effect within that interval, or at once with flushDelayed()).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "operator/core/clock.h"
#include "operator/runtime/rate_limiter.h"

namespace sdb::runtime {

// Observes a queue (metrics.h implements it with Prometheus). Calls are made without the queue's
// lock held and must be thread-safe.
class WorkQueueMetrics {
 public:
  virtual ~WorkQueueMetrics() = default;
  virtual void added() {}
  virtual void depth(int64_t) {}
  virtual void retried() {}
  virtual void queueLatency(double /*seconds*/) {}
  virtual void workDuration(double /*seconds*/) {}
};

struct WorkQueueOptions {
  std::string name;
  std::chrono::milliseconds pollInterval{20};
};

class WorkQueue {
 public:
  // `limiter` may be null (then addRateLimited adds at once). `metrics` may be null.
  WorkQueue(WorkQueueOptions options, Clock& clock, std::unique_ptr<RateLimiter> limiter = nullptr,
            std::shared_ptr<WorkQueueMetrics> metrics = nullptr);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void add(const std::string& key);
  void addAfter(const std::string& key, std::chrono::nanoseconds delay);
  void addRateLimited(const std::string& key);
  void forget(const std::string& key);
  int numRequeues(const std::string& key);

  // Blocks until a key is available or the queue shuts down (nullopt).
  std::optional<std::string> get();
  // Like get() but gives up after `timeout` of real time.
  std::optional<std::string> tryGet(std::chrono::milliseconds timeout);
  void done(const std::string& key);

  void shutDown();
  void shutDownWithDrain();
  bool shuttingDown() const;

  int64_t len() const;            // keys ready to be handed out
  int64_t waitingLen() const;     // keys waiting for their delay
  void flushDelayed();            // move every due delayed key in now (tests)
  const std::string& name() const { return options_.name; }

 private:
  void addLocked(const std::string& key, std::unique_lock<std::mutex>& lock);
  std::optional<std::string> popLocked(std::unique_lock<std::mutex>& lock);
  void moveDueLocked(std::unique_lock<std::mutex>& lock);
  void delayLoop();

  WorkQueueOptions options_;
  Clock& clock_;
  std::unique_ptr<RateLimiter> limiter_;
  std::shared_ptr<WorkQueueMetrics> metrics_;

  mutable std::mutex mu_;
  std::condition_variable cv_;          // getters
  std::condition_variable delayCv_;     // the delay thread
  std::condition_variable drainCv_;     // shutDownWithDrain
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;
  std::unordered_set<std::string> processing_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> addedAt_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> startedAt_;
  std::map<std::string, std::chrono::steady_clock::time_point> waiting_;  // key -> ready time
  bool shuttingDown_ = false;
  bool stopDelay_ = false;
  std::thread delayThread_;
};

}  // namespace sdb::runtime
