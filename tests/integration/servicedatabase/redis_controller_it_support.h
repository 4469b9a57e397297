// The ServiceDatabase controller in Redis shared mode against a real redis-server 7 with TLS
// (tests/integration/fixtures/redis_server.h: `user default off`, an admin ACL user, a throwaway
// CA), with the in-process store as the API. Applications are played by RespClient connections
// made from the credentials Secret exactly as a pod would: host, port, username and password, TLS
// with full verification against the Secret's ca.crt.
//
// One server per test binary (RedisServerTest); each test uses its own namespaces, so users and
// key prefixes never meet across tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "controllers/servicedatabase/reconciler.h"
#include "controllers/servicedatabase/redis_shared_backend.h"
#include "operator/core/base64.h"
#include "operator/runtime/conditions.h"
#include "operator/runtime/event_recorder.h"
#include "operator/specs/credentials_secret.h"
#include "tests/integration/redis/redis_test_support.h"
#include "tests/unit/runtime/fixture.h"
#include "tests/unit/servicedatabase/test_client.h"

namespace sdb::controllers::servicedatabase::testing {

namespace res = kube::resources;
namespace redis = engines::redis;

class RedisControllerIT : public redis::RedisServerTest {
 protected:
  void SetUp() override {
    RedisServerTest::SetUp();
    if (IsSkipped()) return;
    char tmpl[] = "/tmp/sdb-redis-ctrl-it.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
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
    backends_->add("redis", "shared", std::make_unique<RedisSharedBackend>(*client_, RedisSharedOptions{}));
    readers_.clear();
    readers_.push_back(std::make_unique<LiveReader>(*inproc_, res::kServiceDatabases));
    readers_.push_back(std::make_unique<LiveReader>(*inproc_, res::kSecrets));
    events_ = std::make_unique<runtime::EventRecorder>(*inproc_, runtime::EventRecorderOptions{});
    ReconcilerOptions ro;
    ro.engineRecheckInterval = std::chrono::seconds(0);
    ro.events = events_.get();
    reconciler_ = std::make_unique<ServiceDatabaseReconciler>(*client_, *readers_[0], *readers_[1], *backends_, ro);
  }

  static std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // The admin Secret's entries for the fixture's server (TLS port, its CA).
  static std::map<std::string, std::string> adminEntries() {
    return {{"host", server_->host()},
            {"port", std::to_string(server_->tlsPort())},
            {"username", server_->adminUser()},
            {"password", server_->adminPassword()},
            {"tls", "true"},
            {"ca.crt", slurp(server_->caFile())}};
  }
  void putAdminSecret(const std::string& ns, const std::map<std::string, std::string>& entries) {
    Json data = Json::object();
    for (const auto& [k, v] : entries) data[k] = base64Encode(v);
    Json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", "redis-admin"}, {"namespace", ns}}},
                   {"data", data}};
    auto existing = inproc_->get(res::kSecrets, ns, "redis-admin");
    auto w = existing.ok() ? inproc_->update(res::kSecrets, ns, secret) : inproc_->create(res::kSecrets, ns, secret);
    ASSERT_TRUE(w.ok()) << w.error().toString();
  }
  // A namespace with the admin Secret of the fixture's server.
  void addNamespace(const std::string& ns) {
    ASSERT_TRUE(inproc_->create(res::kNamespaces, "", runtime::testing::nsObject(ns)).ok());
    putAdminSecret(ns, adminEntries());
  }

  static Json sdb(const std::string& ns, const std::string& name, const std::string& policy) {
    return {{"apiVersion", "servicedb.io/v1alpha1"},
            {"kind", "ServiceDatabase"},
            {"metadata", {{"name", name}, {"namespace", ns}}},
            {"spec",
             {{"service", name},
              {"engine", "redis"},
              {"mode", "shared"},
              {"deletionPolicy", policy},
              {"sharedServer", {{"adminSecretRef", {{"name", "redis-admin"}}}}}}}};
  }
  void create(const std::string& ns, const std::string& name, const std::string& policy = "Retain") {
    auto c = inproc_->create(res::kServiceDatabases, ns, sdb(ns, name, policy));
    ASSERT_TRUE(c.ok()) << c.error().toString();
  }

  runtime::ReconcileResult reconcile(const std::string& ns, const std::string& name) {
    auto r = reconciler_->reconcile({ns, name}, {"servicedatabase", "redis-it"});
    events_->flush();
    return r;
  }
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
    auto o = inproc_->get(res::kServiceDatabases, ns, name);
    if (!o.ok() || !o->contains("status")) return std::nullopt;
    return runtime::findCondition((*o)["status"], type);
  }
  std::map<std::string, std::string> secret(const std::string& ns, const std::string& name) {
    auto s = inproc_->get(res::kSecrets, ns, name);
    return s.ok() ? specs::secretData(*s) : std::map<std::string, std::string>{};
  }

  // Connects as an application would, from a credentials Secret's entries (`password` overrides
  // the Secret's, e.g. to try an old one).
  Result<redis::RespClient> connectWith(const std::map<std::string, std::string>& creds,
                                        const std::string& password = "") {
    std::string ca = tmpDir_ + "/ca-" + std::to_string(++files_) + ".crt";
    std::ofstream(ca) << creds.at("ca.crt");
    redis::ConnectOptions o;
    o.host = creds.at("host");
    o.port = std::stoi(creds.at("port"));
    o.transport = redis::Transport::kTls;
    o.tls.caFile = ca;
    o.user = creds.at("username");
    o.password = password.empty() ? creds.at("password") : password;
    o.connectTimeout = std::chrono::milliseconds(2000);
    o.ioTimeout = std::chrono::milliseconds(5000);
    return redis::RespClient::connect(o);
  }
  // The reply to `argv` as the application of `creds`: "OK", the value, or "ERROR <server text>".
  std::string as(const std::map<std::string, std::string>& creds, const std::vector<std::string>& argv) {
    auto c = connectWith(creds);
    if (!c.ok()) return "CONNECT " + c.error().message;
    auto r = c->command(argv);
    if (!r.ok()) return "IO " + r.error().message;
    if (r->isError()) return "ERROR " + r->str;
    if (r->type == redis::Reply::Type::kInteger) return std::to_string(r->integer);
    return r->str;
  }
  // Every key with `prefix`, as the admin sees it.
  static std::set<std::string> keysUnder(const std::string& prefix) {
    std::set<std::string> out;
    std::string cursor = "0";
    do {
      redis::Reply r = admin({"SCAN", cursor, "MATCH", redis::globEscape(prefix) + "*", "COUNT", "1000"});
      if (r.elements.size() != 2) break;
      cursor = r.elements[0].str;
      for (const auto& k : r.elements[1].elements) out.insert(k.str);
    } while (cursor != "0");
    return out;
  }
  // How often the server ran `command` (INFO commandstats), to prove a steady state writes nothing.
  static long long calls(const std::string& command) {
    redis::Reply r = admin({"INFO", "commandstats"});
    const std::string key = "cmdstat_" + command + ":calls=";
    auto at = r.str.find(key);
    return at == std::string::npos ? 0 : std::stoll(r.str.substr(at + key.size()));
  }

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
