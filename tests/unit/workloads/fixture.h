// Shared set-up for the workload controller tests: a store on a FakeClock, the controllers running
// over it, and a stand-in for the kubelet (the only fake here): it writes Pod status through the real
// store exactly as a kubelet would, via the status subresource, and confirms graceful pod deletions.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "e2e/apimachinery/store.h"
#include "e2e/apimachinery_client/inprocess_client.h"
#include "e2e/workloads/workloads.h"

namespace sdb::workloads::testing {

namespace res = kube::resources;
using namespace std::chrono_literals;

inline std::chrono::system_clock::time_point at(const std::string& rfc3339) {
  std::chrono::system_clock::time_point t;
  parseRfc3339(rfc3339, &t);
  return t;
}

class WorkloadsTest : public ::testing::Test {
 protected:
  explicit WorkloadsTest(bool cronSchedules = false) : cronSchedules_(cronSchedules) {}

  void SetUp() override {
    apimachinery::StoreOptions so;
    so.clock = &clock_;
    auto s = apimachinery::Store::open(so);
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    client_ = std::make_unique<apimachinery::InProcessKubeClient>(*store_);
    ASSERT_TRUE(client_->create(res::kNamespaces, "", {{"metadata", {{"name", "default"}}}}).ok());
    startControllers();
    terminator_ = std::thread([this] { finishTerminatingPods(); });
  }
  void TearDown() override {
    stopTerminator_ = true;
    if (terminator_.joinable()) terminator_.join();
    if (workloads_) workloads_->stop();
  }

  // The kubelet's other part: pods bound to a node are deleted gracefully and stay, with a
  // deletionTimestamp, until their node confirms the end with grace 0. Do that for every such pod.
  void finishTerminatingPods() {
    while (!stopTerminator_) {
      auto pods = client_->list(res::kPods, "");
      if (pods.ok()) {
        for (const auto& p : (*pods)["items"]) {
          if (!p["metadata"].contains("deletionTimestamp")) continue;
          kube::DeleteOptions o;
          o.gracePeriodSeconds = 0;
          (void)client_->remove(res::kPods, jsonString(p, {"metadata", "namespace"}),
                                jsonString(p, {"metadata", "name"}), o);
        }
      }
      std::this_thread::sleep_for(5ms);
    }
  }

  void startControllers() {
    WorkloadsOptions o;
    o.clock = &clock_;
    o.cronSchedules = cronSchedules_;
    o.jobBackoffBase = 10s;
    o.jobBackoffMax = 360s;
    workloads_ = std::make_unique<Workloads>(*store_, o);
    auto started = workloads_->start(5s);
    ASSERT_TRUE(started.ok()) << started.error().message;
  }
  void restartControllers() {
    workloads_->stop();
    workloads_.reset();
    startControllers();
  }

  // Polls (real time) until `pred` holds; the controllers run on their own threads.
  static bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(2ms);
    }
    return pred();
  }
  // Lets the controllers run for a while, for asserting that something does NOT happen.
  static void settle(std::chrono::milliseconds d = 150ms) { std::this_thread::sleep_for(d); }

  std::optional<Json> get(const kube::ResourceRef& r, const std::string& name, const std::string& ns = "default") {
    auto o = client_->get(r, ns, name);
    return o.ok() ? std::optional<Json>(*o) : std::nullopt;
  }
  bool exists(const kube::ResourceRef& r, const std::string& name) { return get(r, name).has_value(); }
  Json list(const kube::ResourceRef& r, const std::string& selector = "") {
    kube::ListOptions o;
    o.labelSelector = selector;
    auto l = client_->list(r, "default", o);
    return l.ok() ? (*l)["items"] : Json::array();
  }
  Json create(const kube::ResourceRef& r, const Json& obj) {
    auto c = client_->create(r, "default", obj);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().toString());
    return c.ok() ? *c : Json();
  }
  // Applies a merge patch to the main resource, retrying on conflicts with the controllers.
  Json patch(const kube::ResourceRef& r, const std::string& name, const Json& mergePatch) {
    auto p = client_->patch(r, "default", name, kube::PatchType::kMerge, mergePatch.dump());
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().toString());
    return p.ok() ? *p : Json();
  }
  void remove(const kube::ResourceRef& r, const std::string& name) {
    auto d = client_->remove(r, "default", name);
    EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().toString());
  }

  // The kubelet's part: write a pod's status as a kubelet does.
  void setPodStatus(const std::string& name, const std::function<void(Json& status)>& edit) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      auto pod = client_->get(res::kPods, "default", name);
      ASSERT_TRUE(pod.ok()) << name << ": " << pod.error().toString();
      Json p = *pod;
      Json& status = p["status"];
      edit(status);
      auto u = client_->updateStatus(res::kPods, "default", p);
      if (u.ok()) return;
      ASSERT_TRUE(u.error().is(kube::ApiErrorReason::kConflict)) << u.error().toString();
    }
    FAIL() << "could not write the status of pod " << name;
  }
  static void setCondition(Json& status, const std::string& type, bool value, const std::string& now) {
    if (!status.contains("conditions")) status["conditions"] = Json::array();
    for (auto& c : status["conditions"]) {
      if (c["type"] == type) {
        if (c["status"] != (value ? "True" : "False")) c["lastTransitionTime"] = now;
        c["status"] = value ? "True" : "False";
        return;
      }
    }
    status["conditions"].push_back({{"type", type}, {"status", value ? "True" : "False"}, {"lastTransitionTime", now}});
  }
  void markRunning(const std::string& name, bool ready = true, const std::string& ip = "") {
    const std::string now = formatRfc3339(clock_.now());
    const std::string podIp = ip.empty() ? "198.18.0." + std::to_string(10 + (ipCounter_++ % 200)) : ip;
    setPodStatus(name, [&](Json& s) {
      s["phase"] = "Running";
      if (!s.contains("podIP")) {
        s["podIP"] = podIp;
        s["podIPs"] = {{{"ip", podIp}}};
      }
      s["startTime"] = s.value("startTime", now);
      setCondition(s, "Initialized", true, now);
      setCondition(s, "ContainersReady", ready, now);
      setCondition(s, "Ready", ready, now);
    });
  }
  void markFinished(const std::string& name, bool succeeded) {
    const std::string now = formatRfc3339(clock_.now());
    setPodStatus(name, [&](Json& s) {
      s["phase"] = succeeded ? "Succeeded" : "Failed";
      setCondition(s, "Ready", false, now);
      Json terminated = {{"exitCode", succeeded ? 0 : 1}, {"reason", succeeded ? "Completed" : "Error"}, {"finishedAt", now}};
      Json cs = {{"name", "main"}, {"restartCount", 0}, {"ready", false}, {"state", {{"terminated", terminated}}}};
      s["containerStatuses"] = Json::array({cs});
    });
  }

  FakeClock clock_{at("2024-05-15T10:00:00Z")};
  std::unique_ptr<apimachinery::Store> store_;
  std::unique_ptr<apimachinery::InProcessKubeClient> client_;
  std::unique_ptr<Workloads> workloads_;
  std::thread terminator_;
  std::atomic<bool> stopTerminator_{false};
  bool cronSchedules_ = false;
  int ipCounter_ = 0;
};

inline Json container(const std::string& image = "redis:7.2") {
  return {{"name", "main"}, {"image", image}, {"ports", {{{"name", "redis"}, {"containerPort", 6379}}}}};
}

}  // namespace sdb::workloads::testing
