// The local cluster's garbage collector and namespace controller on a thread: it runs the store's
// collectGarbage() passes whenever a write may have given them work (and once at start, for
// deletions left pending by a restart), until a pass makes no writes.
//
// Unit tests that want determinism call Store::collectGarbage() themselves instead.
//
// Contract: start() once; stop() (or the destructor) joins the thread. The store must outlive it.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

#include "e2e/apimachinery/store.h"

namespace sdb::apimachinery {

class GarbageCollector {
 public:
  explicit GarbageCollector(Store& store, std::chrono::milliseconds idleWait = std::chrono::milliseconds(500))
      : store_(store), idleWait_(idleWait) {}
  ~GarbageCollector() { stop(); }
  GarbageCollector(const GarbageCollector&) = delete;
  GarbageCollector& operator=(const GarbageCollector&) = delete;

  void start();
  void stop();

 private:
  Store& store_;
  std::chrono::milliseconds idleWait_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace sdb::apimachinery
