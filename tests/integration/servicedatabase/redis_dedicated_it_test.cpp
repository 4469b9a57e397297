// The dedicated Redis engine's I/O against a real redis-server 7 (the fixture runs the dedicated
// instance's own redis.conf and ACL file): the serial read from the TLS handshake, a certificate
// reloaded in place by CONFIG SET of the server's unchanged paths (no restart: same PID, the admin
// connection opened before it keeps working), and the admin engine of redisInstanceEngine creating a
// service user that logs in over verified TLS with the binding's prefix and nothing else.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "controllers/servicedatabase/redis_dedicated.h"
#include "operator/pki/pki.h"
#include "tests/integration/fixtures/redis_server.h"

namespace sdb::controllers::servicedatabase {
namespace {

namespace redis = engines::redis;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class RedisDedicatedIT : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = sdb::testing::RedisServer::start();
    if (!s.ok()) GTEST_SKIP() << "no redis-server: " << s.error().toString();
    server_ = std::move(*s);
    // Clients trust the fixture's CA and a second one, whose certificate the test swaps in.
    auto ca = pki::createCa({"second test CA", std::chrono::hours(1)});
    ASSERT_TRUE(ca.ok());
    secondCa_ = *ca;
    bundle_ = server_->dir() + "/bundle.pem";
    std::ofstream(bundle_) << readFile(server_->caFile()) << secondCa_.certificatePem;
    conn_.host = server_->host();
    conn_.port = server_->tlsPort();
    conn_.username = server_->adminUser();
    conn_.password = server_->adminPassword();
    conn_.caFile = bundle_;
  }

  std::unique_ptr<sdb::testing::RedisServer> server_;
  pki::KeyPair secondCa_;
  std::string bundle_;
  InstanceConnection conn_;
};

TEST_F(RedisDedicatedIT, ANewCertificateIsServedAfterReloadWithoutARestart) {
  auto before = presentedRedisSerial(conn_, {});
  ASSERT_TRUE(before.ok()) << before.error().toString();
  EXPECT_EQ(*before, *pki::serialHex(readFile(server_->dir() + "/server.crt")));
  InstanceEngine engine = redisInstanceEngine({});
  auto same = engine.reloadTls(conn_, *before);
  ASSERT_TRUE(same.ok()) << same.error().toString();
  EXPECT_EQ(*same, *before);

  auto open = redis::RespClient::connect(redisAdminConnection(conn_, {}));
  ASSERT_TRUE(open.ok()) << open.error().toString();
  const int pid = server_->pid();
  // The kubelet's way: new contents behind the same paths.
  pki::ServerCertOptions o;
  o.commonName = "redis.test";
  o.dnsNames = {"localhost"};
  o.ipAddresses = {"127.0.0.1"};
  o.validity = std::chrono::hours(1);
  o.notBefore = std::chrono::system_clock::now() - std::chrono::minutes(1);
  auto cert = pki::issueServerCert(secondCa_, o);
  ASSERT_TRUE(cert.ok());
  std::ofstream(server_->dir() + "/server.crt", std::ios::trunc) << cert->certificatePem;
  std::ofstream(server_->dir() + "/server.key", std::ios::trunc) << cert->privateKeyPem;
  const std::string wanted = *pki::serialHex(cert->certificatePem);
  auto stale = presentedRedisSerial(conn_, {});
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(*stale, *before) << "Redis does not watch its files; only the reload switches";

  auto served = engine.reloadTls(conn_, wanted);
  ASSERT_TRUE(served.ok()) << served.error().toString();
  EXPECT_EQ(*served, wanted);
  EXPECT_EQ(*presentedRedisSerial(conn_, {}), wanted);
  EXPECT_EQ(server_->pid(), pid);
  auto ping = open->call({"PING"}, "ping");
  ASSERT_TRUE(ping.ok()) << "a connection opened before the reload lives on: " << ping.error().toString();
}

TEST_F(RedisDedicatedIT, ReloadFailsWhenTheServerIsNotVerified) {
  conn_.caFile = server_->dir() + "/second-only.pem";
  std::ofstream(conn_.caFile) << secondCa_.certificatePem;
  auto served = redisInstanceEngine({}).reloadTls(conn_, "01");
  ASSERT_FALSE(served.ok());
  EXPECT_NE(served.error().message.find("certificate verification failed"), std::string::npos) << served.error().message;
  EXPECT_EQ(served.error().message.find(conn_.password), std::string::npos);
}

TEST_F(RedisDedicatedIT, TheAdminEngineMakesAServiceUserConfinedToItsPrefix) {
  InstanceEngine e = redisInstanceEngine({});
  auto engine = e.engine(conn_);
  engines::Engine::ReconcileInput in;
  in.id = {"shop", "cache", "5b2f1c3d-uid"};
  in.credentials = {{"app", "app-password-1234"}};
  auto summary = engine->reconcile(in);
  ASSERT_TRUE(summary.ok()) << summary.error().toString();

  auto sdb = specs::parseServiceDatabase(Json::parse(R"({"apiVersion": "servicedb.io/v1alpha1", "kind": "ServiceDatabase",
    "metadata": {"name": "cache", "namespace": "shop", "uid": "5b2f1c3d-uid"},
    "spec": {"service": "orders", "engine": "redis", "version": "7"}})"));
  ASSERT_TRUE(sdb.ok());
  auto binding = e.bindingData(*sdb, {server_->host(), server_->tlsPort(), e.database(*sdb)}, readFile(server_->caFile()),
                               "app", "app-password-1234");
  redis::ConnectOptions app = server_->as(binding["username"], binding["password"]);
  auto c = redis::RespClient::connect(app);
  ASSERT_TRUE(c.ok()) << c.error().toString();
  EXPECT_TRUE(c->call({"SET", binding["prefix"] + "k", "v"}, "set").ok());
  auto foreign = c->command({"SET", "shop:other:k", "v"});
  ASSERT_TRUE(foreign.ok());
  EXPECT_EQ(foreign->str.rfind("NOPERM", 0), 0u) << foreign->str;
  EXPECT_EQ(binding["prefix"], "shop:cache:");
}

}  // namespace
}  // namespace sdb::controllers::servicedatabase
