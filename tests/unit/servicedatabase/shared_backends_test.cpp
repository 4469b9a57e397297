// The Redis and MongoDB shared backends through the real reconciler, over the in-process store and
// the FakeEngine: the admin connection each engine is given (exact connection string, TLS, CA file),
// the credentials Secret's entries (exact URIs), the endpoint, the slots, and bad admin Secrets
// reported as conditions that name the key and never show a secret.
#include <fstream>
#include <sstream>

#include "operator/runtime/object_helpers.h"
#include "tests/unit/servicedatabase/fixture.h"

using namespace sdb;
using namespace sdb::controllers::servicedatabase;
using namespace sdb::controllers::servicedatabase::testing;
using runtime::ReconcileResult;

namespace {

const std::string kPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

class SharedBackendsTest : public ControllerTest {
 public:
  void putSecret(const std::string& name, const std::map<std::string, std::string>& data) {
    Json d = Json::object();
    for (const auto& [k, v] : data) d[k] = base64Encode(v);
    Json s = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", name}, {"namespace", "shop"}}}, {"data", d}};
    auto existing = inproc_->get(res::kSecrets, "shop", name);
    auto w = existing.ok() ? inproc_->update(res::kSecrets, "shop", s) : inproc_->create(res::kSecrets, "shop", s);
    ASSERT_TRUE(w.ok()) << w.error().toString();
  }
  static std::map<std::string, std::string> redisAdmin() {
    return {{"host", "redis.shared.internal"}, {"port", "6380"}, {"username", "sdb-admin"},
            {"password", "s3cret/admin@pw"}, {"ca.crt", kPem}};
  }
  static std::map<std::string, std::string> mongoAdmin() {
    return {{"host", "mongo.shared.internal"}, {"username", "sdb-admin"}, {"password", "s3cret/admin@pw"},
            {"replicaSet", "rs0"}, {"ca.crt", kPem}};
  }
  static Json sdbFor(const std::string& engine, const std::string& name = "orders") {
    Json s = sharedSdb(name);
    s["spec"]["engine"] = engine;
    s["spec"]["sharedServer"]["adminSecretRef"]["name"] = engine + "-admin";
    return s;
  }
  static std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

TEST_F(SharedBackendsTest, RedisSessionBindingAndEndpoint) {
  putSecret("redis-admin", redisAdmin());
  create(sdbFor("redis"));
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(condition("Ready")->status, "True") << condition("Ready")->message;

  // The engine's admin connection: TLS with full verification against the Secret's CA.
  EXPECT_EQ(lastRedis_.mode, engines::redis::Mode::kShared);
  EXPECT_EQ(lastRedis_.admin.host, "redis.shared.internal");
  EXPECT_EQ(lastRedis_.admin.port, 6380);
  EXPECT_EQ(lastRedis_.admin.user, "sdb-admin");
  EXPECT_EQ(lastRedis_.admin.password, "s3cret/admin@pw");
  EXPECT_EQ(lastRedis_.admin.transport, engines::redis::Transport::kTls);
  EXPECT_EQ(lastRedis_.admin.tls.serverName, "redis.shared.internal");
  EXPECT_EQ(slurp(lastRedis_.admin.tls.caFile), kPem);

  // One slot, "app": no migration Secret.
  EXPECT_TRUE(get(res::kSecrets, "orders-migration-credentials").is_null());
  EXPECT_EQ(fake_.services["shop/orders"].passwords.size(), 1u);
  auto app = secretData("orders-credentials");
  const std::string pw = app["password"];
  ASSERT_EQ(pw.size(), 32u);
  std::map<std::string, std::string> want = {
      {"type", "redis"},
      {"provider", "servicedb"},
      {"host", "redis.shared.internal"},
      {"port", "6380"},
      {"username", "shop.orders"},
      {"password", pw},
      {"prefix", "shop:orders:"},
      {"database", "0"},
      {"ssl", "true"},
      {"uri", "rediss://shop.orders:" + pw + "@redis.shared.internal:6380"},
      {"url", "rediss://shop.orders:" + pw + "@redis.shared.internal:6380"},
      {"ca.crt", kPem},
  };
  EXPECT_EQ(app, want);
  EXPECT_EQ(get(res::kSecrets, "orders-credentials")["type"], "servicebinding.io/redis");
  Json endpoint = sdbObject()["status"]["endpoint"];
  EXPECT_EQ(endpoint["host"], "redis.shared.internal");
  EXPECT_EQ(endpoint["port"], 6380);
  EXPECT_EQ(endpoint["database"], "shop:orders:");
}

TEST_F(SharedBackendsTest, RedisWithoutTlsOnlyWhenTheSpecSaysSo) {
  auto admin = redisAdmin();
  admin.erase("ca.crt");
  putSecret("redis-admin", admin);
  Json s = sdbFor("redis");
  s["spec"]["tls"] = {{"enabled", false}};
  create(s);
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(condition("Ready")->status, "True") << condition("Ready")->message;
  EXPECT_EQ(lastRedis_.admin.transport, engines::redis::Transport::kPlainTcp);
  auto app = secretData("orders-credentials");
  EXPECT_EQ(app["uri"], "redis://shop.orders:" + app["password"] + "@redis.shared.internal:6380");
  EXPECT_EQ(app["ssl"], "false");
  EXPECT_EQ(app.count("ca.crt"), 0u);
}

TEST_F(SharedBackendsTest, RedisDatabaseNameIsThePrefixPartAndStaysReady) {
  putSecret("redis-admin", redisAdmin());
  Json s = sdbFor("redis");
  s["spec"]["databaseName"] = "legacy_orders";
  create(s);
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(secretData("orders-credentials")["prefix"], "shop:legacy_orders:");
  EXPECT_EQ(sdbObject()["status"]["endpoint"]["database"], "shop:legacy_orders:");
  // The next reconcile compares spec.databaseName with the stored prefix: no DatabaseNameChanged.
  const int64_t rv = store_->resourceVersion();
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(condition("Ready")->status, "True") << condition("Ready")->message;
  EXPECT_EQ(store_->resourceVersion(), rv);
}

TEST_F(SharedBackendsTest, MongoSessionBindingAndEndpoint) {
  putSecret("mongodb-admin", mongoAdmin());
  create(sdbFor("mongodb"));
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(condition("Ready")->status, "True") << condition("Ready")->message;

  EXPECT_EQ(lastMongo_.uri, "mongodb://sdb-admin:s3cret%2Fadmin%40pw@mongo.shared.internal:27017/"
                            "?authSource=admin&replicaSet=rs0");
  EXPECT_TRUE(lastMongo_.tls);
  EXPECT_EQ(slurp(lastMongo_.caFile), kPem);

  auto app = secretData("orders-credentials");
  auto mig = secretData("orders-migration-credentials");
  const std::string pw = app["password"], migPw = mig["password"];
  EXPECT_EQ(app["uri"], "mongodb://shop_orders_app:" + pw +
                            "@mongo.shared.internal:27017/shop_orders?tls=true&authSource=shop_orders"
                            "&authMechanism=SCRAM-SHA-256&replicaSet=rs0");
  EXPECT_EQ(mig["uri"], "mongodb://shop_orders_migrator:" + migPw +
                            "@mongo.shared.internal:27017/shop_orders?tls=true&authSource=shop_orders"
                            "&authMechanism=SCRAM-SHA-256&replicaSet=rs0");
  std::map<std::string, std::string> want = {
      {"type", "mongodb"},          {"provider", "servicedb"},  {"host", "mongo.shared.internal"},
      {"port", "27017"},            {"hosts", "mongo.shared.internal:27017"},
      {"database", "shop_orders"},  {"authSource", "shop_orders"},
      {"username", "shop_orders_app"}, {"password", pw},      {"uri", app["uri"]},
      {"tls", "true"},              {"ca.crt", kPem},           {"replicaSet", "rs0"},
  };
  EXPECT_EQ(app, want);
  EXPECT_EQ(get(res::kSecrets, "orders-credentials")["type"], "servicebinding.io/mongodb");
  EXPECT_EQ(fake_.services["shop/orders"].passwords.size(), 2u) << "slots app and migration";
  EXPECT_EQ(sdbObject()["status"]["endpoint"]["database"], "shop_orders");
}

TEST_F(SharedBackendsTest, MongoSystemStoreIpv6AndAuthSource) {
  auto admin = mongoAdmin();
  admin.erase("ca.crt");
  admin.erase("replicaSet");
  admin["host"] = "fd00::7";
  admin["authSource"] = "ops";
  putSecret("mongodb-admin", admin);
  create(sdbFor("mongodb"));
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(lastMongo_.uri, "mongodb://sdb-admin:s3cret%2Fadmin%40pw@[fd00::7]:27017/?authSource=ops");
  EXPECT_TRUE(lastMongo_.tls);
  EXPECT_EQ(lastMongo_.caFile, "") << "no ca.crt: the system store verifies";
  auto app = secretData("orders-credentials");
  EXPECT_EQ(app["uri"], "mongodb://shop_orders_app:" + app["password"] +
                            "@[fd00::7]:27017/shop_orders?tls=true&authSource=shop_orders&authMechanism=SCRAM-SHA-256");
  EXPECT_EQ(app["host"], "[fd00::7]");
  EXPECT_EQ(app.count("ca.crt"), 0u);
  EXPECT_EQ(app.count("replicaSet"), 0u);
}

struct BadCase {
  const char* what;
  std::string engine;
  std::map<std::string, std::string> change;  // "" removes the key
  std::string reason;
  std::string messagePart;
  bool tlsEnabled = true;
};

TEST_F(SharedBackendsTest, BadAdminSecretsAndSpecsAreConditionsNamingTheCause) {
  const std::vector<BadCase> cases = {
      {"redis no host", "redis", {{"host", ""}}, "InvalidAdminSecret", "key \"host\" is missing"},
      {"redis no username", "redis", {{"username", ""}}, "InvalidAdminSecret", "key \"username\" is missing"},
      {"redis no password", "redis", {{"password", ""}}, "InvalidAdminSecret", "key \"password\" is missing"},
      {"redis bad port", "redis", {{"port", "99999"}}, "InvalidAdminSecret", "key \"port\""},
      {"redis plain text with TLS required", "redis", {{"tls", "false"}}, "InvalidAdminSecret", "spec.tls.enabled"},
      {"redis TLS without CA", "redis", {{"ca.crt", ""}}, "InvalidAdminSecret", "key \"ca.crt\""},
      {"redis bad tls value", "redis", {{"tls", "on"}}, "InvalidAdminSecret", "key \"tls\""},
      {"mongo no username", "mongodb", {{"username", ""}}, "InvalidAdminSecret", "key \"username\" is missing"},
      {"mongo no password", "mongodb", {{"password", ""}}, "InvalidAdminSecret", "key \"password\" is missing"},
      {"mongo host with a port", "mongodb", {{"host", "mongo:27017"}}, "InvalidAdminSecret", "key \"host\""},
      {"mongo plain text with TLS required", "mongodb", {{"tls", "false"}}, "InvalidAdminSecret",
       "spec.tls.enabled"},
      {"mongo reserved database name", "mongodb", {{"spec.databaseName", "admin"}}, "InvalidSpec",
       "spec.databaseName"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    reset();
    auto admin = c.engine == "redis" ? redisAdmin() : mongoAdmin();
    Json sdb = sdbFor(c.engine);
    for (const auto& [k, v] : c.change) {
      if (k == "spec.databaseName") sdb["spec"]["databaseName"] = v;
      else if (v.empty()) admin.erase(k);
      else admin[k] = v;
    }
    putSecret(c.engine + "-admin", admin);
    create(sdb);
    auto r = reconcile();
    auto ready = condition("Ready");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, "False");
    EXPECT_EQ(ready->reason, c.reason);
    EXPECT_NE(ready->message.find(c.messagePart), std::string::npos) << ready->message;
    EXPECT_EQ(ready->message.find("s3cret"), std::string::npos) << "the admin password leaked: " << ready->message;
    EXPECT_EQ(condition("Stalled")->status, "True");
    EXPECT_EQ(r.kind, c.reason == "InvalidSpec" ? ReconcileResult::Kind::kOk : ReconcileResult::Kind::kRetry);
    EXPECT_TRUE(fake_.calls.empty()) << "the engine was called";
    if (c.reason == "InvalidSpec") {
      EXPECT_FALSE(runtime::hasFinalizer(sdbObject(), kFinalizer)) << "a refused spec leaves nothing behind";
    }
    EXPECT_TRUE(get(res::kSecrets, "orders-credentials").is_null());
  }
}

TEST_F(SharedBackendsTest, RedisDeleteAndRetainGoThroughTheEngine) {
  putSecret("redis-admin", redisAdmin());
  create(sdbFor("redis"));
  Json del = sdbFor("redis", "cache");
  del["spec"]["deletionPolicy"] = "Delete";
  create(del);
  ASSERT_EQ(reconcile("orders").kind, ReconcileResult::Kind::kOk);
  ASSERT_EQ(reconcile("cache").kind, ReconcileResult::Kind::kOk);
  ASSERT_TRUE(inproc_->remove(res::kServiceDatabases, "shop", "orders").ok());
  ASSERT_TRUE(inproc_->remove(res::kServiceDatabases, "shop", "cache").ok());
  fake_.calls.clear();
  ASSERT_EQ(reconcile("orders").kind, ReconcileResult::Kind::kOk);
  ASSERT_EQ(reconcile("cache").kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(fake_.calls, std::vector<std::string>{"remove shop/cache"}) << "Retain makes no engine call";
  EXPECT_TRUE(fake_.services.count("shop/orders"));
  EXPECT_FALSE(fake_.services.count("shop/cache"));
  EXPECT_FALSE(get(res::kSecrets, "orders-credentials").is_null());
  EXPECT_TRUE(get(res::kSecrets, "cache-credentials").is_null());
}

}  // namespace
