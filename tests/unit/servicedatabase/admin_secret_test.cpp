// parseAdminSecret per engine: defaults, the TLS rules of each engine's keys, and problems that name
// the key without ever showing a secret value.
#include <gtest/gtest.h>

#include "controllers/servicedatabase/admin_secret.h"
#include "operator/core/base64.h"

namespace sdb::controllers::servicedatabase {
namespace {

const std::string kPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

Json secretWith(const std::map<std::string, std::string>& data) {
  Json d = Json::object();
  for (const auto& [k, v] : data) d[k] = base64Encode(v);
  return {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "admin"}, {"namespace", "shop"}}}, {"data", d}};
}

std::map<std::string, std::string> base() {
  return {{"host", "db.shared.internal"}, {"username", "sdb-admin"}, {"password", "s3cret-admin-pw"}, {"ca.crt", kPem}};
}

TEST(AdminSecret, DefaultsPerEngine) {
  auto pg = parseAdminSecret(secretWith(base()), postgresAdminKeys(), true);
  ASSERT_TRUE(pg.ok()) << pg.error().message;
  EXPECT_EQ(pg->port, 5432);
  EXPECT_EQ(pg->sslmode, "verify-full");
  EXPECT_TRUE(pg->tls);
  EXPECT_EQ(pg->option("database"), "");

  auto redis = parseAdminSecret(secretWith(base()), redisAdminKeys(), true);
  ASSERT_TRUE(redis.ok()) << redis.error().message;
  EXPECT_EQ(redis->port, 6379);
  EXPECT_TRUE(redis->tls);
  EXPECT_EQ(redis->caCert, kPem);
  EXPECT_EQ(redis->username, "sdb-admin");

  auto mongo = parseAdminSecret(secretWith(base()), mongoAdminKeys(), true);
  ASSERT_TRUE(mongo.ok()) << mongo.error().message;
  EXPECT_EQ(mongo->port, 27017);
  EXPECT_TRUE(mongo->tls);
  EXPECT_EQ(mongo->option("authSource"), "admin");
  EXPECT_EQ(mongo->option("replicaSet"), "");
  EXPECT_EQ(mongo->option("no-such-key"), "");
}

TEST(AdminSecret, OptionalKeysAreRead) {
  auto d = base();
  d["port"] = "27018";
  d["authSource"] = "ops";
  d["replicaSet"] = "rs0";
  auto mongo = parseAdminSecret(secretWith(d), mongoAdminKeys(), true);
  ASSERT_TRUE(mongo.ok()) << mongo.error().message;
  EXPECT_EQ(mongo->port, 27018);
  EXPECT_EQ(mongo->option("authSource"), "ops");
  EXPECT_EQ(mongo->option("replicaSet"), "rs0");
}

TEST(AdminSecret, TlsOffOnlyWhenTheSpecAllowsIt) {
  auto d = base();
  d.erase("ca.crt");
  // spec.tls.enabled false: TLS defaults off, and no CA is needed.
  for (const auto* keys : {&redisAdminKeys(), &mongoAdminKeys()}) {
    auto plain = parseAdminSecret(secretWith(d), *keys, false);
    ASSERT_TRUE(plain.ok()) << keys->engine << ": " << plain.error().message;
    EXPECT_FALSE(plain->tls);
  }
  auto pg = parseAdminSecret(secretWith(d), postgresAdminKeys(), false);
  ASSERT_TRUE(pg.ok());
  EXPECT_EQ(pg->sslmode, "disable");
  EXPECT_FALSE(pg->tls);
  // MongoDB may verify against the system store; Redis needs the CA.
  auto mongo = parseAdminSecret(secretWith(d), mongoAdminKeys(), true);
  ASSERT_TRUE(mongo.ok()) << mongo.error().message;
  EXPECT_TRUE(mongo->tls);
  EXPECT_EQ(mongo->caCert, "");
  auto redis = parseAdminSecret(secretWith(d), redisAdminKeys(), true);
  ASSERT_FALSE(redis.ok());
  EXPECT_NE(redis.error().message.find("key \"ca.crt\""), std::string::npos) << redis.error().message;
  // An explicit tls: "true" with spec.tls.enabled false is TLS all the same.
  d["ca.crt"] = kPem;
  d["tls"] = "true";
  auto chosen = parseAdminSecret(secretWith(d), redisAdminKeys(), false);
  ASSERT_TRUE(chosen.ok());
  EXPECT_TRUE(chosen->tls);
}

struct BadCase {
  const char* what;
  const AdminSecretKeys& (*keys)();
  std::map<std::string, std::string> change;  // "" removes the key
  std::string messagePart;
};

TEST(AdminSecret, ProblemsNameTheKeyAndNeverAValue) {
  const std::vector<BadCase> cases = {
      {"redis no host", redisAdminKeys, {{"host", ""}}, "key \"host\" is missing"},
      {"redis no username", redisAdminKeys, {{"username", ""}}, "key \"username\" is missing"},
      {"redis no password", redisAdminKeys, {{"password", ""}}, "key \"password\" is missing"},
      {"redis bad port", redisAdminKeys, {{"port", "6379x"}}, "key \"port\""},
      {"redis tls yes", redisAdminKeys, {{"tls", "yes"}}, "key \"tls\" must be \"true\" or \"false\""},
      {"redis tls off with TLS required", redisAdminKeys, {{"tls", "false"}}, "spec.tls.enabled"},
      {"redis no CA", redisAdminKeys, {{"ca.crt", ""}}, "key \"ca.crt\""},
      {"redis CA not PEM", redisAdminKeys, {{"ca.crt", "not a certificate"}}, "key \"ca.crt\" is not a PEM"},
      {"redis host with a port", redisAdminKeys, {{"host", "redis.internal:6380"}}, "key \"host\" must be a DNS name"},
      {"mongo host with user info", mongoAdminKeys, {{"host", "u:p@mongo.internal"}}, "key \"host\""},
      {"mongo host list", mongoAdminKeys, {{"host", "a.internal,b.internal"}}, "key \"host\""},
      {"mongo no password", mongoAdminKeys, {{"password", ""}}, "key \"password\" is missing"},
      {"mongo tls off with TLS required", mongoAdminKeys, {{"tls", "false"}}, "spec.tls.enabled"},
      {"postgres prefer with TLS required", postgresAdminKeys, {{"sslmode", "prefer"}}, "spec.tls.enabled"},
      {"postgres URL as host", postgresAdminKeys, {{"host", "postgres://db/x"}}, "key \"host\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto d = base();
    for (const auto& [k, v] : c.change) {
      if (v.empty()) d.erase(k);
      else d[k] = v;
    }
    auto r = parseAdminSecret(secretWith(d), c.keys(), true);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "InvalidAdminSecret");
    EXPECT_TRUE(r.error().stalled);
    EXPECT_NE(r.error().message.find(c.messagePart), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("Secret \"admin\""), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find("s3cret-admin-pw"), std::string::npos) << "the password leaked";
  }
}

TEST(AdminSecret, IpAddressesAreHosts) {
  for (const char* host : {"127.0.0.1", "::1", "fd00::1", "db-1.shop.svc.cluster.local"}) {
    auto d = base();
    d["host"] = host;
    EXPECT_TRUE(parseAdminSecret(secretWith(d), redisAdminKeys(), true).ok()) << host;
  }
}

}  // namespace
}  // namespace sdb::controllers::servicedatabase
