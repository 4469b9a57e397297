// Read-your-writes for informer caches. A controller that created pod web-0 must not, on its next
// reconcile, read a cache that has not seen web-0 yet and create it again (or, for pods with
// generated names, create a second one). client-go controllers solve this with "expectations";
// in-process, where the store's resourceVersion is one rising integer, it is simpler and exact to
// remember the resourceVersion of our last write to each cached kind and, before reading the cache,
// wait until that informer has applied it.
//
// Contract: thread-safe. await() polls every millisecond of real time, bounded by its timeout.
#pragma once

#include <chrono>
#include <map>
#include <mutex>

#include "operator/core/json.h"
#include "operator/runtime/informer.h"

namespace sdb::workloads {

class ReadYourWrites {
 public:
  // Records `written` (an object returned by a write) as something `informer` must reflect.
  void wrote(const runtime::Informer& informer, const Json& written);
  // True once every informer has caught up with our writes; false after `timeout`.
  bool await(std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  std::mutex mu_;
  std::map<const runtime::Informer*, int64_t> pending_;
};

}  // namespace sdb::workloads
