// The ServiceDatabase controller against a real PostgreSQL 15 (TLS, scram, a CREATEDB CREATEROLE
// admin, log_statement=mod) started by tests/integration/fixtures/postgres_server, with the
// in-process store as the API. Applications are played by real psql, connecting with the `uri`
// and `ca.crt` from the credentials Secret exactly as a pod would.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "controllers/servicedatabase/postgres_shared_backend.h"
#include "controllers/servicedatabase/reconciler.h"
#include "operator/core/base64.h"
#include "operator/runtime/conditions.h"
#include "operator/runtime/event_recorder.h"
#include "operator/specs/credentials_secret.h"
#include "tests/integration/postgres/pg_test_support.h"
#include "tests/unit/runtime/fixture.h"
#include "tests/unit/servicedatabase/test_client.h"

namespace sdb::controllers::servicedatabase::testing {

namespace res = kube::resources;

struct PsqlResult {
  int exitCode = -1;
  std::string output;  // stdout and stderr
  bool ok() const { return exitCode == 0; }
};

inline std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ControllerIT : public engines::postgres::PgServerTest {
 protected:
  void SetUp() override {
    PgServerTest::SetUp();
    if (IsSkipped()) return;
    char tmpl[] = "/tmp/sdb-ctrl-it.XXXXXX";
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

  void makeReconciler() {
    reconciler_.reset();
    backends_ = std::make_unique<BackendRegistry>();
    backends_->add("postgres", "shared", std::make_unique<PostgresSharedBackend>(*client_, PostgresSharedOptions{}));
    readers_.clear();
    readers_.push_back(std::make_unique<LiveReader>(*inproc_, res::kServiceDatabases));
    readers_.push_back(std::make_unique<LiveReader>(*inproc_, res::kSecrets));
    events_ = std::make_unique<runtime::EventRecorder>(*inproc_, runtime::EventRecorderOptions{});
    ReconcilerOptions ro;
    ro.engineRecheckInterval = std::chrono::seconds(0);
    ro.events = events_.get();
    reconciler_ = std::make_unique<ServiceDatabaseReconciler>(*client_, *readers_[0], *readers_[1], *backends_, ro);
  }

  // A namespace with the admin Secret of the fixture's server.
  void addNamespace(const std::string& ns, int port = 0) {
    ASSERT_TRUE(inproc_->create(res::kNamespaces, "", runtime::testing::nsObject(ns)).ok());
    auto enc = [](const std::string& s) { return base64Encode(s); };
    Json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", "pg-admin"}, {"namespace", ns}}},
                   {"data",
                    {{"host", enc(server_->host())},
                     {"port", enc(std::to_string(port ? port : server_->port()))},
                     {"username", enc(server_->adminRole())},
                     {"password", enc(server_->adminPassword())},
                     {"sslmode", enc("verify-full")},
                     {"ca.crt", enc(slurp(server_->caFile()))}}}};
    auto c = inproc_->create(res::kSecrets, ns, secret);
    ASSERT_TRUE(c.ok()) << c.error().toString();
  }

  Json sdb(const std::string& ns, const std::string& name, const std::string& policy = "Retain") {
    return {{"apiVersion", "servicedb.io/v1alpha1"},
            {"kind", "ServiceDatabase"},
            {"metadata", {{"name", name}, {"namespace", ns}}},
            {"spec",
             {{"service", name},
              {"engine", "postgres"},
              {"mode", "shared"},
              {"deletionPolicy", policy},
              {"sharedServer", {{"adminSecretRef", {{"name", "pg-admin"}}}}}}}};
  }
  void create(const std::string& ns, const std::string& name, const std::string& policy = "Retain") {
    auto c = inproc_->create(res::kServiceDatabases, ns, sdb(ns, name, policy));
    ASSERT_TRUE(c.ok()) << c.error().toString();
  }

  runtime::ReconcileResult reconcile(const std::string& ns, const std::string& name) {
    auto r = reconciler_->reconcile({ns, name}, {"servicedatabase", "it"});
    events_->flush();
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
    auto o = inproc_->get(res::kServiceDatabases, ns, name);
    if (!o.ok() || !o->contains("status")) return std::nullopt;
    return runtime::findCondition((*o)["status"], type);
  }
  std::map<std::string, std::string> secret(const std::string& ns, const std::string& name) {
    auto s = inproc_->get(res::kSecrets, ns, name);
    return s.ok() ? specs::secretData(*s) : std::map<std::string, std::string>{};
  }

  // Runs one SQL string through real psql, connecting with a credentials Secret's uri and ca.crt
  // (what an application pod mounts). `uriOverride` replaces the uri (e.g. another database).
  PsqlResult psql(const std::map<std::string, std::string>& creds, const std::string& sql,
                  const std::string& uriOverride = "") {
    std::string ca = tmpDir_ + "/ca-" + std::to_string(++files_) + ".crt";
    std::ofstream(ca) << creds.at("ca.crt");
    std::string cmd = "PGSSLROOTCERT=" + shellQuote(ca) + " PGCONNECT_TIMEOUT=5 psql " +
                      shellQuote(uriOverride.empty() ? creds.at("uri") : uriOverride) +
                      " -X -q -v ON_ERROR_STOP=1 -tA -c " + shellQuote(sql) + " 2>&1";
    PsqlResult r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
    int status = ::pclose(p);
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    while (!r.output.empty() && r.output.back() == '\n') r.output.pop_back();
    return r;
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
