// The dedicated instance's redis.conf and initial ACL file, as text, and their validation. (Every
// Redis integration test runs redis-server on exactly this configuration, through the fixture.)
#include "operator/engines/redis/dedicated_config.h"

#include <gtest/gtest.h>

#include <functional>

#include "operator/engines/redis/names.h"

namespace sdb::engines::redis {
namespace {

TEST(RedisDedicatedConfig, DefaultsAreTlsOnlyWithAclFileOnTheVolumeAndAof) {
  auto conf = redisConf({});
  ASSERT_TRUE(conf.ok());
  EXPECT_EQ(*conf,
            "# Written by servicedb-operator (dedicated mode, docs/engines/redis.md). Do not edit.\n"
            "bind * -::*\n"
            "protected-mode yes\n"
            "port 0\n"
            "tls-port 6379\n"
            "tls-cert-file /tls/tls.crt\n"
            "tls-key-file /tls/tls.key\n"
            "tls-ca-cert-file /tls/ca.crt\n"
            "tls-auth-clients no\n"
            "tls-protocols \"TLSv1.2 TLSv1.3\"\n"
            "dir /data\n"
            "aclfile /data/users.acl\n"
            "appendonly yes\n"
            "appendfsync everysec\n"
            "repl-diskless-sync-delay 0\n"
            "enable-debug-command no\n"
            "enable-module-command no\n"
            "maxmemory-policy noeviction\n");
  DedicatedConfig cache;
  cache.appendOnly = false;
  cache.maxmemory = "512mb";
  cache.maxmemoryPolicy = "allkeys-lru";
  auto c2 = redisConf(cache);
  ASSERT_TRUE(c2.ok());
  EXPECT_NE(c2->find("appendonly no\n"), std::string::npos);
  EXPECT_NE(c2->find("maxmemory 512mb\n"), std::string::npos);
  EXPECT_NE(c2->find("maxmemory-policy allkeys-lru\n"), std::string::npos);
}

TEST(RedisDedicatedConfig, RefusesValuesThatCouldAddLines) {
  struct Case {
    std::function<void(DedicatedConfig&)> set;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](DedicatedConfig& c) { c.dataDir = "/data\nenable-debug-command yes"; }, "dataDir"},
      {[](DedicatedConfig& c) { c.tlsCertFile = "/a b"; }, "tlsCertFile"},
      {[](DedicatedConfig& c) { c.maxmemory = "1gb\nmaxmemory-policy x"; }, "maxmemory"},
      {[](DedicatedConfig& c) { c.bind = "0.0.0.0\nport 6379"; }, "bind"},
      {[](DedicatedConfig& c) { c.appendFsync = "sometimes"; }, "appendFsync"},
      {[](DedicatedConfig& c) { c.maxmemoryPolicy = "random"; }, "maxmemoryPolicy"},
      {[](DedicatedConfig& c) { c.tlsPort = 0; }, "tlsPort"},
      {[](DedicatedConfig& c) { c.dataDir = "\"/data\""; }, "dataDir"},
  };
  for (const auto& k : cases) {
    DedicatedConfig c;
    k.set(c);
    auto conf = redisConf(c);
    ASSERT_FALSE(conf.ok()) << k.field;
    EXPECT_EQ(conf.error().message.rfind(k.field + ":", 0), 0u) << conf.error().message;
  }
}

TEST(RedisDedicatedConfig, InitialAclFileSwitchesDefaultOffAndStoresOnlyTheHash) {
  auto acl = initialAclFile("servicedb-admin", passwordHash("s3cret"));
  ASSERT_TRUE(acl.ok());
  EXPECT_EQ(*acl, "user default off resetchannels -@all\nuser servicedb-admin on #" + passwordHash("s3cret") +
                      " ~* &* +@all\n");
  EXPECT_EQ(acl->find("s3cret"), std::string::npos);
  EXPECT_FALSE(initialAclFile("default", passwordHash("x")).ok());
  EXPECT_FALSE(initialAclFile("admin nopass", passwordHash("x")).ok());
  EXPECT_FALSE(initialAclFile("admin", "s3cret").ok());
}

}  // namespace
}  // namespace sdb::engines::redis
