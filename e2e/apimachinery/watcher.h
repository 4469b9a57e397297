// One watch on the store: a bounded queue of events filled by writers (under the store's lock) and
// drained by one reader (the HTTP face's producer thread, or the in-process client).
//
// Contract: thread-safe. next() blocks up to a timeout. A watcher whose queue overflows (a reader too
// slow for `capacity` events) is closed with a 410 Expired ERROR event, as kube-apiserver drops slow
// watchers; the client then re-lists. close() ends it from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "e2e/apimachinery/selectors.h"
#include "operator/kube/client.h"

namespace sdb::apimachinery {

class Watcher {
 public:
  struct Filter {
    std::string group, resource, ns;  // ns "" = all namespaces
    LabelSelector labels;
    FieldSelector fields;
  };
  Watcher(Filter filter, size_t capacity) : filter_(std::move(filter)), capacity_(capacity) {}

  // Next event, or nullopt after `timeout` or once closed and drained.
  std::optional<kube::WatchEvent> next(std::chrono::milliseconds timeout);
  void close();
  bool closed() const;

  // Writers' side (the store calls these with its lock held).
  const Filter& filter() const { return filter_; }
  void push(kube::WatchEvent event);
  // Resource version of the last event queued (for bookmarks).
  std::string lastResourceVersion() const;

 private:
  Filter filter_;
  size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<kube::WatchEvent> queue_;
  std::string lastRv_;
  bool closed_ = false;
};

}  // namespace sdb::apimachinery
