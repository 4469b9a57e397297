// Shared set-up for the MongoDB integration suites: one server per test binary (see
// tests/integration/fixtures/mongo_server.h), skipped with the reason when none can be had.
#pragma once

#include <gtest/gtest.h>

#include "operator/engines/mongo/connection.h"
#include "operator/engines/mongo/mongo_engine.h"
#include "tests/integration/fixtures/mongo_server.h"

namespace sdb::engines::mongo {

class MongoServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (server_ != nullptr || !skipReason_.empty()) return;
    auto s = sdb::testing::MongoServer::start();
    if (!s.ok()) {
      skipReason_ = s.error().message;
      return;
    }
    server_ = std::move(s).value().release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "MongoDB integration test skipped: " << skipReason_;
  }

  static MongoEngine engine() { return MongoEngine(server_->admin()); }
  // A namespace unique to this run (the server may be shared with other runs).
  static std::string ns(const std::string& suffix) { return server_->runId() + "-" + suffix; }
  static Engine::ReconcileInput input(const std::string& nsName, const std::string& name, const std::string& uid,
                                      const std::string& appPw = "app-pw-1", const std::string& migPw = "mig-pw-1") {
    Engine::ReconcileInput in;
    in.id = {nsName, name, uid};
    in.credentials = {{"app", appPw}, {"migration", migPw}};
    return in;
  }
  // Runs a command (extended JSON) as `user` of `database`.
  static Result<Json> as(const std::string& user, const std::string& password, const std::string& database,
                         const std::string& json, const std::string& on = "") {
    auto ch = connect(server_->as(user, password, database));
    if (!ch.ok()) return ch.error();
    auto body = Bson::fromJson(json);
    if (!body.ok()) return body.error();
    return (*ch)->run(Command{on.empty() ? database : on, *body}, "test command");
  }
  static std::vector<std::string> databases() {
    std::vector<std::string> out;
    auto r = server_->rootCommand("admin", R"({"listDatabases": 1, "nameOnly": true})");
    if (r.ok())
      for (const auto& d : (*r)["databases"]) out.push_back(d["name"].get<std::string>());
    return out;
  }

  static inline sdb::testing::MongoServer* server_ = nullptr;
  static inline std::string skipReason_;
};

}  // namespace sdb::engines::mongo
