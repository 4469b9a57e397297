// Controller loop: result kinds, exceptions as errors, metrics under controller-runtime's names, and the
// HTTP endpoint serving them.
#include "operator/runtime/controller.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "operator/runtime/http_endpoint.h"
#include "operator/runtime/metrics.h"

using namespace std::chrono_literals;
using namespace sdb::runtime;

namespace {

class ScriptedReconciler : public Reconciler {
 public:
  ReconcileResult reconcile(const Request& r, const ReconcileContext& ctx) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_[r.key()]++;
    lastId_ = ctx.reconcileId;
    if (r.name == "throws") throw std::runtime_error("boom");
    if (r.name == "retry" && calls_[r.key()] < 3) return ReconcileResult::retry("not yet");
    if (r.name == "terminal") return ReconcileResult::terminal("bad spec: spec.engine");
    if (r.name == "poll" && calls_[r.key()] < 2) return ReconcileResult::requeueAfter(10ms);
    return ReconcileResult::ok();
  }
  int calls(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_[key];
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> calls_;
  std::string lastId_;
};

template <class F>
bool eventually(F f, std::chrono::milliseconds timeout = 5000ms) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return f();
}

std::string httpGet(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  (void)!::write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

}  // namespace

TEST(Controller, ResultKindsAndMetrics) {
  RuntimeMetrics metrics;
  ScriptedReconciler rec;
  ControllerOptions opts;
  opts.name = "servicedatabase";
  opts.workers = 3;
  opts.metrics = &metrics;
  opts.limiter = std::make_unique<ItemExponentialRateLimiter>(ExponentialBackoffOptions{1ms, 50ms});
  Controller c(std::move(opts), rec);
  c.start();
  for (auto n : {"ok", "retry", "terminal", "throws", "poll"}) c.enqueue({"shop", n});
  ASSERT_TRUE(eventually([&] { return rec.calls("shop/retry") == 3; }));
  ASSERT_TRUE(eventually([&] { return rec.calls("shop/poll") == 2; }));
  ASSERT_TRUE(eventually([&] { return rec.calls("shop/throws") >= 3; })) << "an exception is a retryable error";
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(rec.calls("shop/ok"), 1);
  EXPECT_EQ(rec.calls("shop/terminal"), 1) << "terminal errors are not requeued";
  EXPECT_TRUE(c.stop(2000ms));

  auto text = metrics.serialize();
  EXPECT_NE(text.find("controller_runtime_reconcile_total{controller=\"servicedatabase\",result=\"success\"} 3"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("controller_runtime_reconcile_total{controller=\"servicedatabase\",result=\"requeue_after\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("controller_runtime_terminal_reconcile_errors_total{controller=\"servicedatabase\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("controller_runtime_reconcile_time_seconds_count{controller=\"servicedatabase\"}"),
            std::string::npos);
  for (auto name : {"workqueue_depth{name=\"servicedatabase\"}", "workqueue_adds_total{name=\"servicedatabase\"}",
                    "workqueue_retries_total{name=\"servicedatabase\"}",
                    "workqueue_queue_duration_seconds_bucket{name=\"servicedatabase\"",
                    "workqueue_work_duration_seconds_count{name=\"servicedatabase\"}"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
}

TEST(Controller, StopWaitsForInFlightReconcileWithinTimeout) {
  struct Slow : Reconciler {
    std::atomic<bool> started{false}, finished{false};
    ReconcileResult reconcile(const Request&, const ReconcileContext&) override {
      started = true;
      std::this_thread::sleep_for(150ms);
      finished = true;
      return ReconcileResult::ok();
    }
  } slow;
  ControllerOptions opts;
  opts.name = "slow";
  Controller c(std::move(opts), slow);
  c.start();
  c.enqueue({"a", "b"});
  ASSERT_TRUE(eventually([&] { return slow.started.load(); }));
  c.enqueue({"a", "other"});
  EXPECT_TRUE(c.stop(2000ms));
  EXPECT_TRUE(slow.finished.load()) << "the in-flight reconcile finished before stop returned";
}

TEST(HttpEndpoint, ServesHandlersAnd404) {
  RuntimeMetrics metrics;
  metrics.leaderStatus("servicedb-operator-leader", true);
  metrics.restRequest("200", "GET", "127.0.0.1:6443");
  std::atomic<bool> ready{false};
  HttpEndpoint http;
  http.handle("/metrics", [&] { return HttpReply{200, "text/plain; version=0.0.4", metrics.serialize()}; });
  http.handle("/readyz", [&] { return ready ? HttpReply{200, "text/plain", "ok\n"} : HttpReply{503, "text/plain", "no\n"}; });
  ASSERT_TRUE(http.start("127.0.0.1:0").ok());
  ASSERT_GT(http.port(), 0);
  EXPECT_EQ(httpGet(http.port(), "/readyz").rfind("HTTP/1.1 503", 0), 0u);
  ready = true;
  EXPECT_EQ(httpGet(http.port(), "/readyz").rfind("HTTP/1.1 200", 0), 0u);
  auto m = httpGet(http.port(), "/metrics");
  EXPECT_NE(m.find("leader_election_master_status{name=\"servicedb-operator-leader\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("rest_client_requests_total{code=\"200\",host=\"127.0.0.1:6443\",method=\"GET\"} 1"),
            std::string::npos)
      << m;
  EXPECT_EQ(httpGet(http.port(), "/nope").rfind("HTTP/1.1 404", 0), 0u);
  http.stop();
  EXPECT_FALSE(http.start("127.0.0.1:notaport").ok());
}
