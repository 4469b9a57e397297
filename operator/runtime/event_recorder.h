// EventRecorder: core/v1 Events about our objects, with client-go's count aggregation.
//
// event() never blocks a reconcile: it puts the event in a bounded queue (dropping and counting when
// full) and a background thread writes it. The same (involved object, type, reason, message) seen
// again within `aggregationWindow` patches the existing Event's count and lastTimestamp instead of
// creating a new one. Messages must not contain Secret data (they are stored in the cluster).
//
// Contract: thread-safe. start()/stop() once each; stop() writes what is queued, bounded by a timeout.
// flush() processes everything queued on the caller's thread (tests, shutdown).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "operator/core/clock.h"
#include "operator/core/json.h"
#include "operator/kube/client.h"

namespace sdb::runtime {

struct EventRecorderOptions {
  std::string component = "servicedb-operator";
  std::string instance;  // reportingInstance, e.g. the pod name
  size_t capacity = 1000;
  std::chrono::milliseconds aggregationWindow{std::chrono::minutes(10)};
};

class EventRecorder {
 public:
  EventRecorder(kube::KubeClient& client, EventRecorderOptions options, Clock& clock = SystemClock::instance());
  ~EventRecorder();

  // type: "Normal" or "Warning"; reason: CamelCase. `involved` is the object (only its identity is used).
  void event(const Json& involved, const std::string& type, const std::string& reason, const std::string& message);
  void start();
  void stop(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void flush();
  uint64_t dropped() const { return dropped_.load(); }
  uint64_t written() const { return written_.load(); }

 private:
  struct Pending {
    Json involvedObject;
    std::string type, reason, message;
    std::chrono::system_clock::time_point at;
  };
  struct Seen {
    std::string eventName, eventNamespace;
    int64_t count = 0;
    std::string firstTimestamp;
    std::chrono::steady_clock::time_point lastSeen;
  };
  void write(const Pending& p);
  bool popOne(Pending* out);

  kube::KubeClient& client_;
  EventRecorderOptions options_;
  Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  std::map<std::string, Seen> seen_;  // only the writer thread (or flush) touches it, under writeMu_
  std::mutex writeMu_;
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> dropped_{0}, written_{0}, sequence_{0};
  std::thread thread_;
};

}  // namespace sdb::runtime
