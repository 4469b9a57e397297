// Shared set-up for runtime tests over the in-process client: a store with the servicedb.io CRDs, and
// GatedClient, a pass-through KubeClient decorator (not a fake: every call reaches the real store)
// that can refuse watches or writes of one resource and cut the current watch mid-stream.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "e2e/apimachinery/store.h"
#include "e2e/apimachinery_client/inprocess_client.h"
#include "operator/schema/yaml_json.h"

namespace sdb::runtime::testing {

inline std::unique_ptr<apimachinery::Store> openStore(Clock* clock = nullptr, size_t historyLimit = 20000) {
  apimachinery::StoreOptions o;
  o.clock = clock;
  o.historyLimit = historyLimit;
  auto s = apimachinery::Store::open(o);
  if (!s.ok()) return nullptr;
  return std::move(s).value();
}

inline std::string sourceDir() {
  const char* d = std::getenv("SERVICEDB_SOURCE_DIR");
  return d ? d : ".";
}

inline ::testing::AssertionResult installServicedbCrds(kube::KubeClient& client) {
  for (auto name : {"servicedatabases", "backuppolicies", "readreplicas", "auditstores"}) {
    std::ifstream f(sourceDir() + "/crds/servicedb.io_" + name + ".yaml");
    std::stringstream ss;
    ss << f.rdbuf();
    auto crd = schema::yamlToJson(ss.str());
    if (!crd.ok()) return ::testing::AssertionFailure() << name << ": " << crd.error().message;
    auto c = client.create(kube::resources::kCustomResourceDefinitions, "", *crd);
    if (!c.ok()) return ::testing::AssertionFailure() << name << ": " << c.error().toString();
  }
  return ::testing::AssertionSuccess();
}

inline Json loadExample(const std::string& file) {
  std::ifstream f(sourceDir() + "/crds/examples/" + file);
  std::stringstream ss;
  ss << f.rdbuf();
  auto j = schema::yamlToJson(ss.str());
  return j.ok() ? *j : Json();
}

inline Json nsObject(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
}

class GatedClient final : public kube::KubeClient {
 public:
  explicit GatedClient(kube::KubeClient& inner) : inner_(inner) {}
  std::atomic<bool> refuseWatches{false};
  std::atomic<bool> refuseWrites{false};     // updates/creates/patches of `gatedResource`
  std::string gatedResource = "leases";
  std::atomic<int> watchCalls{0};

  // When each watch was asked for (real time), refused or not.
  std::vector<std::chrono::steady_clock::time_point> watchTimes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return watchTimes_;
  }

  void cutWatch() {
    std::lock_guard<std::mutex> lock(mu_);
    if (last_) last_->stop();
  }

  kube::KResult<Json> get(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                          const std::string& sub = "") override {
    return inner_.get(r, ns, name, sub);
  }
  kube::KResult<Json> list(const kube::ResourceRef& r, const std::string& ns, const kube::ListOptions& o = {}) override {
    return inner_.list(r, ns, o);
  }
  kube::KResult<std::unique_ptr<kube::WatchStream>> watch(const kube::ResourceRef& r, const std::string& ns,
                                                          const kube::WatchOptions& o = {}) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      watchTimes_.push_back(std::chrono::steady_clock::now());
    }
    ++watchCalls;
    if (refuseWatches) return kube::networkError("injected: connection refused");
    auto w = inner_.watch(r, ns, o);
    if (w.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      last_ = w->get();
    }
    return w;
  }
  kube::KResult<Json> create(const kube::ResourceRef& r, const std::string& ns, const Json& obj,
                             const kube::WriteOptions& o = {}, const std::string& name = "",
                             const std::string& sub = "") override {
    if (gated(r)) return kube::timeoutError("injected: request timed out");
    return inner_.create(r, ns, obj, o, name, sub);
  }
  kube::KResult<Json> update(const kube::ResourceRef& r, const std::string& ns, const Json& obj,
                             const kube::WriteOptions& o = {}, const std::string& sub = "") override {
    if (gated(r)) return kube::timeoutError("injected: request timed out");
    return inner_.update(r, ns, obj, o, sub);
  }
  kube::KResult<Json> patch(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                            kube::PatchType t, const std::string& body, const kube::PatchOptions& o = {},
                            const std::string& sub = "") override {
    if (gated(r)) return kube::timeoutError("injected: request timed out");
    return inner_.patch(r, ns, name, t, body, o, sub);
  }
  kube::KResult<Json> remove(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                             const kube::DeleteOptions& o = {}) override {
    return inner_.remove(r, ns, name, o);
  }

 private:
  bool gated(const kube::ResourceRef& r) const { return refuseWrites && r.resource == gatedResource; }
  kube::KubeClient& inner_;
  mutable std::mutex mu_;
  std::vector<std::chrono::steady_clock::time_point> watchTimes_;
  kube::WatchStream* last_ = nullptr;  // valid while the informer holds it; stop() is safe until then
};

template <class F>
bool eventually(F f, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return f();
}

}  // namespace sdb::runtime::testing
