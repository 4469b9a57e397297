#include "e2e/localcluster/restart.h"

#include "e2e/localcluster/responses.h"
#include "operator/kube/api_error.h"

namespace sdb::localcluster {

namespace {

}  // namespace

Result<int64_t> Restarter::restart() {
  std::lock_guard<std::mutex> lock(restartMu_);
  // Connections first, so a client never gets an answer from the old "process" after the new one
  // started; then the store (watches end, history resets, state read back).
  for (HttpsServer* s : servers_) s->dropConnections();
  auto rv = store_.restart();
  if (rv.ok()) ++restarts_;
  return rv;
}

HttpResponse Restarter::serveAdmin(const HttpRequest& req) {
  if (req.method == "POST") {
    auto rv = restart();
    if (!rv.ok()) {
      kube::ApiError e = kube::fromHttpResponse(500, "");
      e.message = "restart: " + rv.error().message;
      return responses::json(500, kube::toStatusJson(e));
    }
  } else if (req.method != "GET") {
    kube::ApiError e = kube::fromHttpResponse(405, "");
    e.message = "GET or POST /admin/restart";
    return responses::json(405, kube::toStatusJson(e));
  }
  std::lock_guard<std::mutex> lock(restartMu_);
  return responses::json(200, {{"restarts", restarts_}, {"resourceVersion", std::to_string(store_.resourceVersion())}});
}

void Restarter::startPeriodic(std::chrono::milliseconds period) {
  periodic_ = std::thread([this, period] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!wake_.wait_for(lock, period, [&] { return stopping_; })) {
      lock.unlock();
      (void)restart();
      lock.lock();
    }
  });
}

void Restarter::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (periodic_.joinable()) periodic_.join();
}

}  // namespace sdb::localcluster
