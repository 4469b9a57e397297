// Shared set-up for the PostgreSQL engine integration tests: one real server per test binary.
#pragma once

#include <gtest/gtest.h>

#include "operator/engines/postgres/connection.h"
#include "operator/engines/postgres/postgres_engine.h"
#include "tests/integration/fixtures/postgres_server.h"

namespace sdb::engines::postgres {

class PgServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = sdb::testing::PostgresServer::start();
    if (!s.ok()) {
      skipReason_ = s.error().toString();
      return;
    }
    server_ = std::move(s).value().release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "no PostgreSQL server: " << skipReason_;
  }

  static ConnectionOptions admin() {
    ConnectionOptions o;
    o.host = server_->host();
    o.port = server_->port();
    o.user = server_->adminRole();
    o.password = server_->adminPassword();
    o.sslmode = "verify-full";
    o.sslrootcert = server_->caFile();
    o.connectTimeoutSeconds = 5;
    return o;
  }
  static Result<PgConnection> login(const std::string& role, const std::string& password, const std::string& db) {
    ConnectionOptions o = admin();
    o.user = role;
    o.password = password;
    o.dbname = db;
    return PgConnection::open(o);
  }
  static Engine::ReconcileInput input(const std::string& ns, const std::string& name, const std::string& uid,
                                      const std::string& appPw = "app-pw", const std::string& migPw = "mig-pw") {
    Engine::ReconcileInput in;
    in.id = {ns, name, uid};
    in.credentials = {{"app", appPw}, {"migration", migPw}};
    in.connectionLimit = 10;
    return in;
  }

  static inline sdb::testing::PostgresServer* server_ = nullptr;
  static inline std::string skipReason_;
};

}  // namespace sdb::engines::postgres
