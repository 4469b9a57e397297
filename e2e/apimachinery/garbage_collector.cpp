#include "e2e/apimachinery/garbage_collector.h"

namespace sdb::apimachinery {

void GarbageCollector::start() {
  thread_ = std::thread([this] {
    bool work = true;  // a first pass for whatever a restart left pending
    while (!stopping_) {
      if (work) {
        while (!stopping_ && store_.collectGarbage() > 0) {
        }
      }
      work = store_.waitForGarbage(idleWait_);
    }
  });
}

void GarbageCollector::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace sdb::apimachinery
