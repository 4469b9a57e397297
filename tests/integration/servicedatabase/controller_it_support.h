// The ServiceDatabase controller against a real PostgreSQL 15 (TLS, scram, a CREATEDB CREATEROLE
// admin, log_statement=mod) started by tests/integration/fixtures/postgres_server, with the
// in-process store as the API. Applications are played by real psql, connecting with the `uri`
// and `ca.crt` from the credentials Secret exactly as a pod would.
#pragma once

#include <sys/wait.h>

#include <cstdio>

#include "controllers/servicedatabase/postgres_shared_backend.h"
#include "operator/core/base64.h"
#include "tests/integration/postgres/pg_test_support.h"
#include "tests/integration/servicedatabase/controller_it_fixture.h"

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

class ControllerIT : public ControllerITFixture<engines::postgres::PgServerTest> {
 protected:
  ControllerIT() : ControllerITFixture({.tmpPrefix = "sdb-ctrl-it", .controllerName = "it"}) {}

  void addBackends(BackendRegistry& backends) override {
    backends.add("postgres", "shared", std::make_unique<PostgresSharedBackend>(*client_, PostgresSharedOptions{}));
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
    return sharedSdb(ns, name, "postgres", policy, "pg-admin");
  }
  void create(const std::string& ns, const std::string& name, const std::string& policy = "Retain") {
    createSdb(ns, sdb(ns, name, policy));
  }

  // Runs one SQL string through real psql, connecting with a credentials Secret's uri and ca.crt
  // (what an application pod mounts). `uriOverride` replaces the uri (e.g. another database).
  PsqlResult psql(const std::map<std::string, std::string>& creds, const std::string& sql,
                  const std::string& uriOverride = "") {
    const std::string ca = writeCaFile(creds);
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
};

}  // namespace sdb::controllers::servicedatabase::testing
