// The dedicated backend over the in-process store (the local cluster's store: validation, versions,
// owner references) with a FakeEngine standing in for the instance's server, for any InstanceEngine:
// readers over the live store, the operator's CA in "servicedb-system", and helpers to create
// ServiceDatabases and to play the StatefulSet controller and the kubelet.
#pragma once

#include <gtest/gtest.h>

#include "controllers/servicedatabase/ca_store.h"
#include "controllers/servicedatabase/dedicated_backend.h"
#include "e2e/apimachinery_client/inprocess_client.h"
#include "operator/core/clock.h"
#include "operator/engines/fake_engine.h"
#include "tests/unit/runtime/fixture.h"
#include "tests/unit/servicedatabase/test_client.h"

namespace sdb::controllers::servicedatabase::testing {

namespace res = kube::resources;

class DedicatedFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = runtime::testing::openStore();
    ASSERT_TRUE(store_);
    client_ = std::make_unique<apimachinery::InProcessKubeClient>(*store_);
    for (const char* ns : {"shop", "other", "servicedb-system"}) {
      ASSERT_TRUE(client_->create(res::kNamespaces, "", runtime::testing::nsObject(ns)).ok());
    }
    ASSERT_TRUE(runtime::testing::installServicedbCrds(*client_));
    secrets_ = std::make_unique<LiveReader>(*client_, res::kSecrets);
    statefulSets_ = std::make_unique<LiveReader>(*client_, res::kStatefulSets);
    services_ = std::make_unique<LiveReader>(*client_, res::kServices);
    configMaps_ = std::make_unique<LiveReader>(*client_, res::kConfigMaps);
    ca_ = std::make_unique<CaStore>(*client_, nullptr, "servicedb-system", "servicedb-operator");
    InstanceReaders readers;
    readers.secrets = secrets_.get();
    readers.statefulSets = statefulSets_.get();
    readers.services = services_.get();
    readers.configMaps = configMaps_.get();
    readers.networkPolicies = [this](const std::string& ns) {
      auto l = client_->list(res::kNetworkPolicies, ns);
      return l.ok() ? l->value("items", Json::array()).get<std::vector<Json>>() : std::vector<Json>{};
    };
    readers.serviceDatabases = [this](const std::string& ns) {
      std::vector<specs::ServiceDatabase> out;
      auto l = client_->list(res::kServiceDatabases, ns);
      if (!l.ok()) return out;
      for (const auto& o : l->value("items", Json::array())) {
        if (auto s = specs::parseServiceDatabase(o); s.ok()) out.push_back(*s);
      }
      return out;
    };
    InstanceEngine engine = instanceEngine();
    engine.engine = [this](const InstanceConnection& c) -> std::unique_ptr<engines::Engine> {
      lastConnection_ = c;
      return std::make_unique<FakeEngineView>(fake_);
    };
    engine.reloadTls = [this](const InstanceConnection&, const std::string& serial) -> Result<std::string> {
      ++reloads_;
      return serial;
    };
    DedicatedOptions o;
    o.operatorNamespace = "servicedb-system";
    o.operatorCidrs = {"198.18.7.1/32"};
    o.clock = &clock_;
    backend_ = std::make_unique<DedicatedBackend>(*client_, readers, *ca_, engine, o);
  }

  // The engine under test; its connection (engine) and certificate reload (reloadTls) are replaced
  // by a FakeEngine and a counter.
  virtual InstanceEngine instanceEngine() = 0;
  virtual std::string engineName() const = 0;  // spec.engine
  virtual std::string version() const = 0;     // spec.version

  Json sdbObject(const std::string& name, const std::string& service, Json extra = Json::object()) {
    Json spec = {{"service", service}, {"engine", engineName()}, {"version", version()}, {"storage", {{"size", "1Gi"}}}};
    spec.update(extra);
    Json o = {{"apiVersion", "servicedb.io/v1alpha1"},
              {"kind", "ServiceDatabase"},
              {"metadata", {{"name", name}, {"namespace", "shop"}}},
              {"spec", spec}};
    auto c = client_->create(res::kServiceDatabases, "shop", o);
    EXPECT_TRUE(c.ok()) << c.error().toString();
    return c.ok() ? *c : o;
  }
  specs::ServiceDatabase parsed(const Json& o) { return *specs::parseServiceDatabase(o); }
  Json get(const kube::ResourceRef& r, const std::string& name, const std::string& ns = "shop") {
    auto g = client_->get(r, ns, name);
    return g.ok() ? *g : Json();
  }
  std::string rv() {
    auto l = client_->list(res::kNamespaces, "");
    return l.ok() ? jsonString(*l, {"metadata", "resourceVersion"}) : "";
  }
  // What the StatefulSet controller and the kubelet would report once the pod is ready.
  void markReady(const std::string& sts) {
    Json o = get(res::kStatefulSets, sts);
    o["status"] = {{"observedGeneration", o["metadata"]["generation"]}, {"replicas", 1}, {"readyReplicas", 1},
                   {"updatedReplicas", 1}, {"currentRevision", "r1"}, {"updateRevision", "r1"}};
    ASSERT_TRUE(client_->updateStatus(res::kStatefulSets, "shop", o, {}).ok());
  }

  FakeClock clock_{std::chrono::system_clock::now()};
  std::unique_ptr<apimachinery::Store> store_;
  std::unique_ptr<apimachinery::InProcessKubeClient> client_;
  std::unique_ptr<LiveReader> secrets_, statefulSets_, services_, configMaps_;
  std::unique_ptr<CaStore> ca_;
  std::unique_ptr<DedicatedBackend> backend_;
  engines::FakeEngine fake_;
  InstanceConnection lastConnection_;
  int reloads_ = 0;
};

}  // namespace sdb::controllers::servicedatabase::testing
