// A restart of the API server that keeps state, without a new process, on demand: `POST
// /admin/restart` (admin token only) and `--fault-restart-seconds N` (every N seconds). It does what
// a real restart does to clients: every open connection is dropped (idle keep-alives, requests in
// flight and watches; the admin request that asked is answered), every watch ends, the watch history
// starts again at the current resourceVersion (an older one gets 410 Expired, so informers re-list),
// and the store reads its state back from the data dir. Objects and resourceVersions are kept, and
// resourceVersions keep rising. In-process controllers see their watches end too.
// `GET /admin/restart` answers how many restarts happened: {"restarts": N, "resourceVersion": "RV"}.
//
// Contract: thread-safe; restarts never overlap. The servers and store must outlive the Restarter.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "e2e/apimachinery/store.h"
#include "e2e/localcluster/http_server.h"

namespace sdb::localcluster {

class Restarter {
 public:
  Restarter(apimachinery::Store& store, std::vector<HttpsServer*> servers) : store_(store), servers_(std::move(servers)) {}
  ~Restarter() { stop(); }
  // One restart now; the resourceVersion after it.
  Result<int64_t> restart();
  // The admin endpoint: GET and POST /admin/restart.
  HttpResponse serveAdmin(const HttpRequest& request);
  // Restarts every `period` until stop().
  void startPeriodic(std::chrono::milliseconds period);
  void stop();

 private:
  apimachinery::Store& store_;
  std::vector<HttpsServer*> servers_;
  std::mutex restartMu_;  // one restart at a time
  uint64_t restarts_ = 0;  // under restartMu_
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread periodic_;
};

}  // namespace sdb::localcluster
