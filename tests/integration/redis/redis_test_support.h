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
  static Reply admin(const std::vector<std::string>& argv) {
    auto r = server_->adminCommand(argv);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().toString());
    return r.ok() ? *r : Reply{};
  }

  static inline sdb::testing::RedisServer* server_ = nullptr;
  static inline std::string skipReason_;
};

}  // namespace sdb::engines::redis
