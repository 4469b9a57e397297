// The common part of the ServiceDatabase controller integration fixtures (PostgreSQL, Redis,
// MongoDB): a throwaway directory, the in-process store as the API (with our CRDs), a TestClient
// over it, and a ServiceDatabaseReconciler with live readers, built by makeReconciler() and rebuilt
// by it again to play a restarted operator. `ServerTest` is the engine's server fixture (one server
// per test binary); the derived fixture adds its engine's backend in addBackends() and the
// application side (psql, RespClient, mongo) itself. Not thread-safe: one test at a time, as gtest
// runs them.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "controllers/servicedatabase/reconciler.h"
#include "operator/runtime/conditions.h"
#include "operator/runtime/event_recorder.h"
#include "operator/specs/credentials_secret.h"
#include "tests/unit/runtime/fixture.h"
#include "tests/unit/servicedatabase/test_client.h"

namespace sdb::controllers::servicedatabase::testing {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ControllerITOptions {
  std::string tmpPrefix = "sdb-ctrl-it";  // the throwaway directory is /tmp/<tmpPrefix>.XXXXXX
  std::string controllerName = "it";      // the name reconcile() passes as the controller's
  bool recordEvents = true;               // an EventRecorder, flushed after every reconcile()
};

template <class ServerTest>
class ControllerITFixture : public ServerTest {
 protected:
  explicit ControllerITFixture(ControllerITOptions options) : options_(std::move(options)) {}

  // The engine's backends for a fresh registry (called by every makeReconciler()).
  virtual void addBackends(BackendRegistry& backends) = 0;
  // Non-empty: the test is skipped with this reason, after the server fixture's own checks.
  virtual std::string skipReason() const { return ""; }

  void SetUp() override {
    ServerTest::SetUp();
    if (::testing::Test::IsSkipped()) return;
    if (const std::string why = skipReason(); !why.empty()) GTEST_SKIP() << why;
    std::string tmpl = "/tmp/" + options_.tmpPrefix + ".XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    tmpDir_ = tmpl;
    store_ = runtime::testing::openStore();
    ASSERT_TRUE(store_);
    inproc_ = std::make_unique<apimachinery::InProcessKubeClient>(*store_);
    client_ = std::make_unique<TestClient>(*inproc_);
    ASSERT_TRUE(runtime::testing::installServicedbCrds(*inproc_));
    makeReconciler();
  }
  void TearDown() override {
    reconciler_.reset();
    events_.reset();
    backends_.reset();
    readers_.clear();
    client_.reset();
    inproc_.reset();
    store_.reset();
    if (!tmpDir_.empty()) std::filesystem::remove_all(tmpDir_);
  }

  // A fresh reconciler and backend: the state of a restarted operator.
  void makeReconciler() {
    reconciler_.reset();
    backends_ = std::make_unique<BackendRegistry>();
    addBackends(*backends_);
    readers_.clear();
    readers_.push_back(std::make_unique<LiveReader>(*inproc_, kube::resources::kServiceDatabases));
    readers_.push_back(std::make_unique<LiveReader>(*inproc_, kube::resources::kSecrets));
    events_.reset();
    if (options_.recordEvents) {
      events_ = std::make_unique<runtime::EventRecorder>(*inproc_, runtime::EventRecorderOptions{});
    }
    ReconcilerOptions ro;
    ro.engineRecheckInterval = std::chrono::seconds(0);
    ro.events = events_.get();
    reconciler_ = std::make_unique<ServiceDatabaseReconciler>(*client_, *readers_[0], *readers_[1], *backends_, ro);
  }

  // A shared-mode ServiceDatabase of `engine` whose admin Secret is `adminSecret`.
  static Json sharedSdb(const std::string& ns, const std::string& name, const std::string& engine,
                        const std::string& policy, const std::string& adminSecret) {
    return {{"apiVersion", "servicedb.io/v1alpha1"},
            {"kind", "ServiceDatabase"},
            {"metadata", {{"name", name}, {"namespace", ns}}},
            {"spec",
             {{"service", name},
              {"engine", engine},
              {"mode", "shared"},
              {"deletionPolicy", policy},
              {"sharedServer", {{"adminSecretRef", {{"name", adminSecret}}}}}}}};
  }
  void createSdb(const std::string& ns, const Json& sdb) {
    auto c = inproc_->create(kube::resources::kServiceDatabases, ns, sdb);
    ASSERT_TRUE(c.ok()) << c.error().toString();
  }

  runtime::ReconcileResult reconcile(const std::string& ns, const std::string& name) {
    auto r = reconciler_->reconcile({ns, name}, {"servicedatabase", options_.controllerName});
    if (events_) events_->flush();
    return r;
  }
  // Reconciles as the workqueue would, until the result is no longer a retry (at most 5 times).
  ::testing::AssertionResult reconcileToReady(const std::string& ns, const std::string& name) {
    runtime::ReconcileResult r;
    for (int i = 0; i < 5; ++i) {
      r = reconcile(ns, name);
      if (r.kind != runtime::ReconcileResult::Kind::kRetry) break;
    }
    auto ready = condition(ns, name, "Ready");
    if (ready && ready->status == "True") return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << ns << "/" << name << " not Ready: " << r.error << " "
                                         << (ready ? ready->reason + ": " + ready->message : "no condition");
  }

  std::optional<runtime::Condition> condition(const std::string& ns, const std::string& name, const std::string& type) {
    auto o = inproc_->get(kube::resources::kServiceDatabases, ns, name);
    if (!o.ok() || !o->contains("status")) return std::nullopt;
    return runtime::findCondition((*o)["status"], type);
  }
  std::map<std::string, std::string> secret(const std::string& ns, const std::string& name) {
    auto s = inproc_->get(kube::resources::kSecrets, ns, name);
    return s.ok() ? specs::secretData(*s) : std::map<std::string, std::string>{};
  }

  // A file in the throwaway directory holding a credentials Secret's ca.crt, as a pod mounts it.
  std::string writeCaFile(const std::map<std::string, std::string>& creds) {
    std::string ca = tmpDir_ + "/ca-" + std::to_string(++files_) + ".crt";
    std::ofstream(ca) << creds.at("ca.crt");
    return ca;
  }

  ControllerITOptions options_;
  std::string tmpDir_;
  int files_ = 0;
  std::unique_ptr<apimachinery::Store> store_;
  std::unique_ptr<apimachinery::InProcessKubeClient> inproc_;
  std::unique_ptr<TestClient> client_;
  std::unique_ptr<BackendRegistry> backends_;
  std::vector<std::unique_ptr<LiveReader>> readers_;
  std::unique_ptr<runtime::EventRecorder> events_;
  std::unique_ptr<ServiceDatabaseReconciler> reconciler_;
};

}  // namespace sdb::controllers::servicedatabase::testing
