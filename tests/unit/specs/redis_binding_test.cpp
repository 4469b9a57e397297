// Redis binding entries: the app Secret of a Redis ServiceDatabase as a golden file, and a table of
// URIs (TLS or not, encoded user and password, IPv6).
#include "operator/specs/redis_binding.h"

#include <gtest/gtest.h>

#include "operator/specs/credentials_secret.h"
#include "tests/unit/specs/golden_file.h"

using namespace sdb;
using namespace sdb::specs;
using sdb::specs::golden::matchesGolden;
using sdb::specs::golden::secretReview;

namespace {

const std::string kPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

RedisBinding binding() {
  RedisBinding b;
  b.host = "redis.shared.internal";
  b.port = 6380;
  b.prefix = "shop:orders:";
  b.username = "shop.orders";
  b.password = "pw/with:special@chars";
  b.tls = true;
  b.caCert = kPem;
  return b;
}

TEST(RedisBindingData, AppSecretGolden) {
  auto owner = Json::parse(R"({"apiVersion": "servicedb.io/v1alpha1", "kind": "ServiceDatabase",
    "metadata": {"name": "orders", "namespace": "shop", "uid": "0b5e7f3c-uid"},
    "spec": {"service": "orders-api", "engine": "redis", "mode": "shared",
             "sharedServer": {"adminSecretRef": {"name": "redis-admin"}}}})");
  auto sdb = parseServiceDatabase(owner);
  ASSERT_TRUE(sdb.ok());
  CredentialsSecretInput in;
  in.slot = kSlotApp;
  in.bindingType = kBindingTypeRedis;
  in.data = redisBindingData(binding());
  in.annotations = {{kAnnotationPasswordSetAt, "2026-01-01T00:00:00Z"}};
  in.owner = owner;
  Json s = buildCredentialsSecret(*sdb, in);
  EXPECT_TRUE(matchesGolden(secretReview(s), "credentials_secret_redis_app.json"));
  EXPECT_EQ(secretData(s), in.data);
  EXPECT_EQ(s["type"], "servicebinding.io/redis");
}

struct UriCase {
  const char* what;
  RedisBinding binding;
  std::string uri;
};

TEST(RedisBindingData, UriTable) {
  RedisBinding plain = binding();
  plain.tls = false;
  RedisBinding v6 = binding();
  v6.host = "fd00::1";
  RedisBinding simple = binding();
  simple.password = "Abc123";
  simple.port = 6379;
  const std::vector<UriCase> cases = {
      {"TLS, encoded", binding(), "rediss://shop.orders:pw%2Fwith%3Aspecial%40chars@redis.shared.internal:6380"},
      {"no TLS", plain, "redis://shop.orders:pw%2Fwith%3Aspecial%40chars@redis.shared.internal:6380"},
      {"IPv6", v6, "rediss://shop.orders:pw%2Fwith%3Aspecial%40chars@[fd00::1]:6380"},
      {"alphanumeric password", simple, "rediss://shop.orders:Abc123@redis.shared.internal:6379"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto d = redisBindingData(c.binding);
    EXPECT_EQ(d["uri"], c.uri);
    EXPECT_EQ(d["url"], c.uri);
    EXPECT_EQ(d["host"], c.binding.host);
    EXPECT_EQ(d["password"], c.binding.password);
    EXPECT_EQ(d["prefix"], "shop:orders:");
    EXPECT_EQ(d["database"], "0") << "bindings libraries read `database` as the logical database number";
    EXPECT_EQ(d["ssl"], c.binding.tls ? "true" : "false");
    EXPECT_EQ(d.count("ca.crt"), c.binding.tls ? 1u : 0u) << "a CA only with TLS";
  }
}

}  // namespace
