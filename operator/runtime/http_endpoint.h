// A tiny HTTP/1.1 responder for /healthz, /readyz and /metrics. GET only, one request per
// connection (Connection: close), bodies produced by handlers. It is deliberately minimal: probes and
// Prometheus scrapes need nothing more, and it keeps cpprestsdk/Boost out of the runtime layer.
//
// Contract: start() binds (":8080", "127.0.0.1:0", ...) and serves on one thread; handlers run on that
// thread and must be thread-safe with respect to the rest of the program. stop() is idempotent.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "operator/core/result.h"

namespace sdb::runtime {

struct HttpReply {
  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};

class HttpEndpoint {
 public:
  using Handler = std::function<HttpReply()>;
  HttpEndpoint() = default;
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  void handle(const std::string& path, Handler handler) { handlers_[path] = std::move(handler); }
  // address: "[host]:port"; empty host means all interfaces. Port 0 picks a free port.
  Status start(const std::string& address);
  void stop();
  int port() const { return port_; }

 private:
  void serve();
  void answer(int fd);

  std::map<std::string, Handler> handlers_;
  int listenFd_ = -1;
  int port_ = 0;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace sdb::runtime
