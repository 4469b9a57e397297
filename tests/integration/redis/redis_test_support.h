// Shared set-up for the Redis integration tests: one real redis-server 7 per test binary, with TLS.
#pragma once

#include <gtest/gtest.h>

#include "operator/engines/redis/resp_client.h"
#include "tests/integration/fixtures/redis_server.h"

namespace sdb::engines::redis {

class RedisServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = sdb::testing::RedisServer::start();
    if (!s.ok()) {
      skipReason_ = s.error().toString();
      return;
    }
    server_ = std::move(s).value().release();
  }
  static void TearDownTestSuite() {
    delete shared_;
    shared_ = nullptr;
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "no redis-server: " << skipReason_;
  }

  // A fresh admin connection over TLS; fails the test when it cannot connect.
  static RespClient adminClient() {
    auto c = RespClient::connect(server_->admin());
    if (!c.ok()) {
      ADD_FAILURE() << c.error().toString();
      std::abort();
    }
    return std::move(c).value();
  }
  // One admin command over a shared connection (re-opened after a restart broke it).
  static Reply admin(const std::vector<std::string>& argv) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (shared_ == nullptr || shared_->broken()) {
        delete shared_;
        shared_ = nullptr;
        auto c = RespClient::connect(server_->admin());
        if (!c.ok()) {
          ADD_FAILURE() << c.error().toString();
          return Reply{};
        }
        shared_ = new RespClient(std::move(c).value());
      }
      auto r = shared_->command(argv);
      if (r.ok()) return *r;
      if (attempt == 1) ADD_FAILURE() << r.error().toString();
    }
    return Reply{};
  }

  static inline sdb::testing::RedisServer* server_ = nullptr;
  static inline RespClient* shared_ = nullptr;
  static inline std::string skipReason_;
};

}  // namespace sdb::engines::redis
