// Dedicated Redis over the in-process store with a FakeEngine standing in for the instance: the
// children of an instance (golden redis.conf as the operator renders it, the ACL Secret carrying
// only the SHA-256 of the superuser password), the session (admin identity, endpoint, the binding
// a pod reads), a steady state without writes, a new superuser password rolling the pod, specs
// refused before anything exists (names, versions), and the operator's Redis options.
#include <gtest/gtest.h>

#include "controllers/servicedatabase/redis_dedicated.h"
#include "operator/engines/redis/names.h"
#include "tests/unit/servicedatabase/dedicated_fixture.h"
#include "tests/unit/specs/golden_file.h"

namespace sdb::controllers::servicedatabase {
namespace {

namespace res = kube::resources;
using specs::golden::configMapReview;
using specs::golden::matchesGolden;

class RedisDedicatedTest : public testing::DedicatedTest {
 protected:
  InstanceEngine instanceEngine() override { return redisInstanceEngine({}); }
  Json engineSpec() override { return {{"engine", "redis"}, {"version", "7.2"}}; }
};

specs::ServiceDatabase plainSdb(const std::string& extraSpec = "") {
  auto s = specs::parseServiceDatabase(Json::parse(R"({"apiVersion": "servicedb.io/v1alpha1", "kind": "ServiceDatabase",
    "metadata": {"name": "sessions", "namespace": "shop", "uid": "5b2f1c3d-uid"},
    "spec": {"service": "cart", "engine": "redis", "version": "7.2")" + extraSpec + "}}"));
  EXPECT_TRUE(s.ok()) << s.error().message;
  return *s;
}

std::map<std::string, Json> byKind(const std::vector<Json>& objects) {
  std::map<std::string, Json> out;
  for (const auto& o : objects) out[jsonString(o, {"kind"})] = o;
  return out;
}

TEST(RedisWorkload, RedisConfGoldenAndTheAclSecretHoldsOnlyTheHash) {
  const std::string password = "s3cret-superuser-password";
  auto w = redisWorkload(plainSdb(), {}, password);
  ASSERT_TRUE(w.ok()) << w.error().message;
  ASSERT_EQ(w->size(), 3u);
  EXPECT_EQ(jsonString((*w)[2], {"kind"}), "StatefulSet") << "the StatefulSet last, after what its pod mounts";
  auto objects = byKind(*w);
  EXPECT_TRUE(matchesGolden(configMapReview(objects["ConfigMap"]), "redis_configmap.json"));
  const std::string conf = objects["ConfigMap"]["data"]["redis.conf"];
  for (const char* line : {"\nport 0\n", "\ntls-port 6379\n", "\ntls-cert-file /tls/tls.crt\n", "\ntls-key-file /tls/tls.key\n",
                           "\ntls-ca-cert-file /tls/ca.crt\n", "\naclfile /data/users.acl\n", "\ndir /data\n",
                           "\nappendonly yes\n", "\nappendfsync everysec\n", "\nmaxmemory 256mb\n",
                           "\nmaxmemory-policy noeviction\n"}) {
    EXPECT_NE(conf.find(line), std::string::npos) << line << " missing in\n" << conf;
  }
  const std::string hash = engines::redis::passwordHash(password);
  EXPECT_EQ(specs::secretData(objects["Secret"])["users.acl"],
            "user default off resetchannels -@all\nuser servicedb-admin on #" + hash + " ~* &* +@all\n");
  for (const auto& o : *w) {
    const std::string text = o.dump() + specs::secretData(o)["users.acl"];
    EXPECT_EQ(text.find(password), std::string::npos) << jsonString(o, {"kind"}) << " holds the password";
    if (jsonString(o, {"kind"}) != "Secret") {
      EXPECT_EQ(text.find(hash), std::string::npos) << jsonString(o, {"kind"}) << " holds the password's hash";
    }
  }
}

TEST(RedisWorkload, ANewSuperuserPasswordChangesTheAclSecretAndRollsThePod) {
  auto a = redisWorkload(plainSdb(), {}, "first-password");
  auto b = redisWorkload(plainSdb(), {}, "second-password");
  ASSERT_TRUE(a.ok() && b.ok());
  auto ka = byKind(*a), kb = byKind(*b);
  EXPECT_EQ(ka["ConfigMap"], kb["ConfigMap"]);
  EXPECT_NE(ka["Secret"]["data"], kb["Secret"]["data"]);
  const auto hashOf = [](Json& sts) { return sts["spec"]["template"]["metadata"]["annotations"][specs::kAnnotationConfigHash]; };
  EXPECT_NE(hashOf(ka["StatefulSet"]), hashOf(kb["StatefulSet"]));
  auto again = redisWorkload(plainSdb(), {}, "first-password");
  EXPECT_EQ(*again, *a) << "deterministic: a steady state applies nothing";
}

TEST(RedisWorkload, OptionsAndMemoryLimitReachRedisConf) {
  RedisDedicatedOptions o;
  o.appendOnly = false;
  o.maxmemoryPolicy = "allkeys-lru";
  auto w = redisWorkload(plainSdb(R"(, "resources": {"limits": {"memory": "2Gi"}})"), o, "pw");
  ASSERT_TRUE(w.ok()) << w.error().message;
  const std::string conf = byKind(*w)["ConfigMap"]["data"]["redis.conf"];
  EXPECT_NE(conf.find("\nappendonly no\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("\nmaxmemory 1024mb\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("\nmaxmemory-policy allkeys-lru\n"), std::string::npos) << conf;
}

TEST(RedisWorkload, BadOptionsNameTheFlag) {
  RedisDedicatedOptions o;
  EXPECT_TRUE(validateRedisDedicatedOptions(o).ok());
  o.appendFsync = "sometimes";
  EXPECT_EQ(validateRedisDedicatedOptions(o).error().message,
            "--redis-appendfsync: want always, everysec or no, got \"sometimes\"");
  EXPECT_EQ(redisWorkload(plainSdb(), o, "pw").error().message.rfind("--redis-appendfsync: ", 0), 0u);
  o = {};
  o.maxmemoryPolicy = "lru";
  EXPECT_EQ(validateRedisDedicatedOptions(o).error().message, "--redis-maxmemory-policy: unknown policy \"lru\"");
}

TEST(RedisAdminConnection, TlsVerifiedAgainstTheOperatorsCaAndTheClusterIp) {
  InstanceConnection conn;
  conn.host = "198.19.3.7";
  conn.port = 6379;
  conn.username = "servicedb-admin";
  conn.password = "pw";
  conn.caFile = "/tmp/ca.pem";
  conn.serverName = "sessions-redis.shop.svc";
  auto o = redisAdminConnection(conn, {});
  EXPECT_EQ(o.transport, engines::redis::Transport::kTls);
  EXPECT_EQ(o.host, "198.19.3.7");
  EXPECT_EQ(o.port, 6379);
  EXPECT_EQ(o.tls.caFile, "/tmp/ca.pem");
  EXPECT_EQ(o.tls.serverName, "") << "the clusterIP itself is verified against the certificate's IP SANs";
  EXPECT_EQ(o.user, "servicedb-admin");
  EXPECT_EQ(o.password, "pw");
  EXPECT_EQ(o.describe().find("pw"), std::string::npos);
}

TEST_F(RedisDedicatedTest, OpenBuildsTheInstanceThenConnectsAsTheAdminAndSettlesWithoutWrites) {
  Json obj = sdbObject("orders", "orders");
  auto sdb = parsed(obj);
  auto first = backend_->open(sdb);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().reason, "InstanceStarting") << first.error().message;
  ASSERT_EQ(first.error().conditions.size(), 1u);
  EXPECT_EQ(first.error().conditions[0].status, "True") << first.error().conditions[0].message;

  const std::string password = specs::secretData(get(res::kSecrets, "orders-redis-superuser"))["password"];
  ASSERT_EQ(password.size(), 32u);
  EXPECT_EQ(specs::secretData(get(res::kSecrets, "orders-redis-superuser"))["username"], "servicedb-admin");
  EXPECT_NE(specs::secretData(get(res::kSecrets, "orders-redis-acl"))["users.acl"].find(
                "user servicedb-admin on #" + engines::redis::passwordHash(password) + " "),
            std::string::npos);
  for (const auto& [kind, name] : std::vector<std::pair<kube::ResourceRef, std::string>>{
           {res::kStatefulSets, "orders-redis"}, {res::kServices, "orders-redis"}, {res::kServices, "orders-redis-hl"},
           {res::kConfigMaps, "orders-redis-config"}, {res::kSecrets, "orders-redis-acl"},
           {res::kSecrets, "orders-redis-tls"}, {res::kNetworkPolicies, "orders-redis"}}) {
    Json o = get(kind, name);
    ASSERT_FALSE(o.is_null()) << kind.kind << " " << name;
    EXPECT_EQ(o["metadata"]["ownerReferences"][0].value("uid", ""), sdb.uid) << kind.kind << " " << name;
  }
  EXPECT_EQ(get(res::kServices, "orders-redis")["spec"]["ports"],
            Json::parse(R"([{"name": "rediss", "port": 6379, "targetPort": "rediss", "protocol": "TCP"}])"));
  const Json policy = get(res::kNetworkPolicies, "orders-redis");
  for (const auto& rule : policy["spec"]["ingress"]) {
    EXPECT_EQ(rule["ports"], Json::parse(R"([{"protocol": "TCP", "port": 6379}])")) << "the TLS port only";
  }

  markReady("orders-redis");
  auto session = backend_->open(sdb);
  ASSERT_TRUE(session.ok()) << session.error().message;
  EXPECT_EQ(session->endpoint.host, "orders-redis.shop.svc");
  EXPECT_EQ(session->endpoint.port, 6379);
  EXPECT_EQ(session->endpoint.database, "shop:orders:");
  EXPECT_EQ(session->bindingType, "redis");
  EXPECT_EQ(backend_->slots(), std::vector<std::string>{"app"});
  EXPECT_EQ(lastConnection_.host, jsonString(get(res::kServices, "orders-redis"), {"spec", "clusterIP"}));
  EXPECT_EQ(lastConnection_.port, 6379);
  EXPECT_EQ(lastConnection_.username, "servicedb-admin");
  EXPECT_EQ(lastConnection_.password, password);
  EXPECT_EQ(reloads_, 1);
  auto binding = session->bindingData("app", "app-pw");
  EXPECT_EQ(binding["uri"], "rediss://shop.orders:app-pw@orders-redis.shop.svc:6379");
  EXPECT_EQ(binding["username"], "shop.orders");
  EXPECT_EQ(binding["prefix"], "shop:orders:");
  EXPECT_EQ(binding["ssl"], "true");
  EXPECT_EQ(binding["ca.crt"], specs::secretData(get(res::kSecrets, "orders-redis-tls"))["ca.crt"]);

  const std::string before = rv();
  auto again = backend_->open(sdb);
  ASSERT_TRUE(again.ok()) << again.error().message;
  for (const auto& c : again->changes) ADD_FAILURE() << "steady state changed: " << c;
  EXPECT_EQ(rv(), before) << "a steady state wrote to the API";
}

TEST_F(RedisDedicatedTest, ADeletedSuperuserSecretGetsANewPasswordThatRollsThePod) {
  Json obj = sdbObject("orders", "orders");
  ASSERT_FALSE(backend_->open(parsed(obj)).ok());
  const Json sts0 = get(res::kStatefulSets, "orders-redis");
  const std::string acl0 = specs::secretData(get(res::kSecrets, "orders-redis-acl"))["users.acl"];
  ASSERT_TRUE(client_->remove(res::kSecrets, "shop", "orders-redis-superuser", {}).ok());
  ASSERT_FALSE(backend_->open(parsed(obj)).ok());
  const std::string password = specs::secretData(get(res::kSecrets, "orders-redis-superuser"))["password"];
  const std::string acl1 = specs::secretData(get(res::kSecrets, "orders-redis-acl"))["users.acl"];
  EXPECT_NE(acl1, acl0);
  EXPECT_NE(acl1.find(engines::redis::passwordHash(password)), std::string::npos);
  const auto annotation = [](const Json& sts) {
    return jsonString(sts, {"spec", "template", "metadata", "annotations", specs::kAnnotationConfigHash});
  };
  EXPECT_NE(annotation(get(res::kStatefulSets, "orders-redis")), annotation(sts0))
      << "the init step writes the new admin line only when the pod starts again";
}

TEST_F(RedisDedicatedTest, BadNamesAndVersionsAreRefusedBeforeAnythingIsCreated) {
  // The CRD's pattern refuses such a name; an object written before it reaches the operator.
  specs::ServiceDatabase glob = parsed(sdbObject("orders", "orders"));
  glob.databaseName = "cache:*";
  auto p = backend_->check(glob);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->reason, "InvalidSpec");
  EXPECT_TRUE(p->stalled);
  EXPECT_EQ(p->message.rfind("spec.databaseName: ", 0), 0u) << p->message;
  EXPECT_FALSE(backend_->open(glob).ok());

  Json six = sdbObject("old", "old", {{"version", "6.2"}});
  auto v = backend_->check(parsed(six));
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->message, "spec.version: Redis 6 is not supported (supported: 7)");

  Json memory = sdbObject("big", "big", {{"resources", {{"requests", {{"memory", "2Gi"}}}, {"limits", {{"memory", "1Gi"}}}}}});
  auto m = backend_->check(parsed(memory));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->message, "spec.resources.requests.memory: 2Gi is more than spec.resources.limits.memory 1Gi");
  for (const char* name : {"orders-redis-superuser", "old-redis-superuser", "big-redis-superuser"}) {
    EXPECT_TRUE(get(res::kSecrets, name).is_null()) << name;
  }
}

TEST_F(RedisDedicatedTest, TheEndpointHoldsThePrefixOfSpecDatabaseName) {
  Json obj = sdbObject("orders", "orders", {{"databaseName", "cache"}});
  EXPECT_EQ(backend_->endpointDatabaseFor(parsed(obj)), "shop:cache:")
      << "what status.endpoint.database holds, so the controller sees no changed name";
}

}  // namespace
}  // namespace sdb::controllers::servicedatabase
