// Dedicated MongoDB over the in-process store with a FakeEngine standing in for mongod
// (dedicated_fixture.h): the instance's children, the session (superuser, connection string, binding
// entries), spec checks before anything exists, an image that cannot run, the combined tls.pem as
// OpenSSL (and so mongod) loads it, the presented-serial probe and the certificate reload path.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "controllers/servicedatabase/mongo_dedicated.h"
#include "controllers/servicedatabase/tls_probe.h"
#include "operator/engines/mongo/connection.h"
#include "operator/pki/pki.h"
#include "operator/specs/credentials_secret.h"
#include "tests/unit/servicedatabase/dedicated_fixture.h"

namespace sdb::controllers::servicedatabase {
namespace {

namespace res = kube::resources;
using namespace std::chrono_literals;

class MongoDedicatedTest : public testing::DedicatedTest {
 protected:
  InstanceEngine instanceEngine() override { return mongoInstanceEngine({}); }
  Json engineSpec() override { return {{"engine", "mongodb"}, {"version", "7.0"}}; }
  std::map<std::string, std::string> secretData(const std::string& name) { return specs::secretData(get(res::kSecrets, name)); }
};

// A one-connection-at-a-time TLS server on 127.0.0.1 whose certificate and key come from one PEM
// file, loaded the way mongod loads --tlsCertificateKeyFile.
class PemTlsServer {
 public:
  explicit PemTlsServer(const std::string& pemFile) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    loaded_ = SSL_CTX_use_certificate_chain_file(ctx_, pemFile.c_str()) == 1 &&
              SSL_CTX_use_PrivateKey_file(ctx_, pemFile.c_str(), SSL_FILETYPE_PEM) == 1 && SSL_CTX_check_private_key(ctx_) == 1;
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 8);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      // A client that hangs up first makes SSL_shutdown's write raise SIGPIPE in this thread.
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        SSL* ssl = SSL_new(ctx_);
        SSL_set_fd(ssl, c);
        if (SSL_accept(ssl) == 1) SSL_shutdown(ssl);
        SSL_free(ssl);
        ::close(c);
      }
    });
  }
  ~PemTlsServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    SSL_CTX_free(ctx_);
  }
  bool loaded() const { return loaded_; }
  int port() const { return port_; }

 private:
  SSL_CTX* ctx_ = nullptr;
  bool loaded_ = false;
  int fd_ = -1, port_ = 0;
  std::thread thread_;
};

std::string writeTemp(const std::string& content) {
  std::string path = ::testing::TempDir() + "/tls-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()) + ".pem";
  std::ofstream(path) << content;
  return path;
}

TEST_F(MongoDedicatedTest, OpenBuildsTheInstanceThenConnectsAsTheSuperuserAndSettles) {
  auto sdb = parsed(sdbObject("orders", "orders"));
  auto first = backend_->open(sdb);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().reason, "InstanceStarting") << first.error().message;
  for (const auto& [kind, name] : std::vector<std::pair<kube::ResourceRef, std::string>>{
           {res::kStatefulSets, "orders-mongodb"}, {res::kServices, "orders-mongodb"}, {res::kServices, "orders-mongodb-hl"},
           {res::kSecrets, "orders-mongodb-superuser"}, {res::kSecrets, "orders-mongodb-tls"},
           {res::kNetworkPolicies, "orders-mongodb"}}) {
    Json o = get(kind, name);
    ASSERT_FALSE(o.is_null()) << kind.kind << " " << name;
    EXPECT_EQ(o["metadata"]["ownerReferences"][0].value("uid", ""), sdb.uid) << kind.kind << " " << name;
    EXPECT_EQ(o["metadata"]["labels"].value("app.kubernetes.io/name", ""), "mongodb") << kind.kind << " " << name;
  }
  EXPECT_TRUE(get(res::kConfigMaps, "orders-mongodb-config").is_null()) << "mongod takes everything as arguments";
  Json sts = get(res::kStatefulSets, "orders-mongodb");
  EXPECT_EQ(sts["metadata"]["annotations"].value("servicedb.io/major-version", ""), "7");
  EXPECT_EQ(sts["spec"]["template"]["spec"]["containers"][0]["image"], "mongo:7.0");
  EXPECT_EQ(get(res::kServices, "orders-mongodb")["spec"]["ports"][0]["port"], 27017);
  EXPECT_EQ(get(res::kNetworkPolicies, "orders-mongodb")["spec"]["ingress"][0]["ports"][0]["port"], 27017);
  EXPECT_EQ(secretData("orders-mongodb-superuser")["username"], "root");
  auto tls = secretData("orders-mongodb-tls");
  EXPECT_EQ(tls["tls.pem"], tls["tls.crt"] + tls["tls.key"]);

  markReady("orders-mongodb");
  auto session = backend_->open(sdb);
  ASSERT_TRUE(session.ok()) << session.error().message;
  EXPECT_EQ(session->endpoint.host, "orders-mongodb.shop.svc");
  EXPECT_EQ(session->endpoint.port, 27017);
  EXPECT_EQ(session->endpoint.database, "shop_orders");
  EXPECT_EQ(session->bindingType, "mongodb");
  const std::string clusterIp = jsonString(get(res::kServices, "orders-mongodb"), {"spec", "clusterIP"});
  const std::string superPassword = secretData("orders-mongodb-superuser")["password"];
  EXPECT_EQ(lastConnection_.host, clusterIp);
  EXPECT_EQ(lastConnection_.port, 27017);
  EXPECT_EQ(lastConnection_.username, "root");
  EXPECT_EQ(lastConnection_.password, superPassword);
  EXPECT_EQ(reloads_, 1);

  // The real engine's connection: TLS to the clusterIP against the operator's CA, as root on admin.
  auto conn = mongoSuperuserConnection(lastConnection_, {});
  auto uri = engines::mongo::inspectAdminUri(conn);
  ASSERT_TRUE(uri.ok()) << uri.error().message;
  EXPECT_EQ(uri->hosts, std::vector<std::string>{clusterIp + ":27017"});
  EXPECT_EQ(uri->username, "root");
  EXPECT_EQ(uri->authSource, "admin");
  EXPECT_TRUE(uri->tls);
  std::ifstream caFile(uri->caFile);
  std::stringstream ca;
  ca << caFile.rdbuf();
  EXPECT_EQ(ca.str(), tls["ca.crt"]) << "the CA file is the operator's CA";

  auto app = session->bindingData("app", "p@ss:/w?rd");
  EXPECT_EQ(app["uri"], "mongodb://shop_orders_app:p%40ss%3A%2Fw%3Frd@orders-mongodb.shop.svc:27017/shop_orders"
                        "?tls=true&authSource=shop_orders&authMechanism=SCRAM-SHA-256");
  EXPECT_EQ(app["host"], "orders-mongodb.shop.svc");
  EXPECT_EQ(app["port"], "27017");
  EXPECT_EQ(app["type"], "mongodb");
  EXPECT_EQ(app["tls"], "true");
  EXPECT_EQ(app["ca.crt"], tls["ca.crt"]);
  EXPECT_EQ(session->bindingData("migration", "m")["username"], "shop_orders_migrator");
  for (const auto& [k, v] : app) EXPECT_EQ(v.find(superPassword), std::string::npos) << k << " holds the superuser password";

  const std::string before = rv();
  auto again = backend_->open(sdb);
  ASSERT_TRUE(again.ok()) << again.error().message;
  for (const auto& c : again->changes) ADD_FAILURE() << "steady state changed: " << c;
  EXPECT_EQ(rv(), before) << "a steady state wrote to the API";
}

TEST_F(MongoDedicatedTest, ChosenDatabaseNameIsUsedAndReservedOnesAreRefusedBeforeAnythingExists) {
  auto named = parsed(sdbObject("orders", "orders", {{"databaseName", "orders_main"}}));
  ASSERT_FALSE(backend_->open(named).ok());
  markReady("orders-mongodb");
  auto s = backend_->open(named);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->endpoint.database, "orders_main");
  EXPECT_EQ(s->bindingData("app", "pw")["username"], "orders_main_app");
  EXPECT_EQ(s->bindingData("app", "pw")["authSource"], "orders_main");

  // The CRD's pattern admits "admin", "local" and "config"; MongoDB reserves them.
  for (const char* reserved : {"admin", "local", "config"}) {
    const std::string name = std::string("r-") + reserved;
    auto bad = parsed(sdbObject(name, name, {{"databaseName", reserved}}));
    auto p = backend_->check(bad);
    ASSERT_TRUE(p.has_value()) << reserved;
    EXPECT_EQ(p->reason, "InvalidSpec");
    EXPECT_TRUE(p->stalled);
    EXPECT_EQ(p->message.rfind("spec.databaseName: ", 0), 0u) << p->message;
    EXPECT_FALSE(backend_->open(bad).ok());
    EXPECT_TRUE(get(res::kSecrets, name + "-mongodb-superuser").is_null()) << "nothing is created";
  }
  int n = 0;
  for (const char* version : {"4.4", "9.0", "7.0-jammy"}) {
    Json o = sdbObject("v" + std::to_string(n++), "v");
    o["spec"]["version"] = version;
    auto p = backend_->check(parsed(o));
    ASSERT_TRUE(p.has_value()) << version;
    EXPECT_EQ(p->message.rfind("spec.version: ", 0), 0u) << p->message;
  }
}

TEST_F(MongoDedicatedTest, AnImageThatCannotRunIsReportedNamingThePodAndWhy) {
  auto sdb = parsed(sdbObject("orders", "orders"));
  ASSERT_FALSE(backend_->open(sdb).ok());
  Json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "orders-mongodb-0"}, {"namespace", "shop"}}},
              {"spec", {{"containers", {{{"name", "mongod"}, {"image", "mongo:7.0"}}}}}}};
  auto created = client_->create(res::kPods, "shop", pod);
  ASSERT_TRUE(created.ok()) << created.error().toString();
  Json withStatus = *created;
  withStatus["status"] = {{"phase", "Pending"},
                          {"containerStatuses", {{{"name", "mongod"}, {"ready", false}, {"restartCount", 0}, {"image", "mongo:7.0"},
                                                  {"imageID", ""},
                                                  {"state", {{"waiting", {{"reason", "ErrImagePull"},
                                                                          {"message", "image \"mongo:7.0\" is not available on this node"}}}}}}}}};
  ASSERT_TRUE(client_->updateStatus(res::kPods, "shop", withStatus, {}).ok());
  auto p = backend_->open(sdb);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().reason, "ImageNotRunnable");
  EXPECT_FALSE(p.error().stalled);
  ASSERT_TRUE(p.error().requeueAfter.has_value());
  EXPECT_EQ(*p.error().requeueAfter, 30s);
  EXPECT_NE(p.error().message.find("pod \"orders-mongodb-0\""), std::string::npos) << p.error().message;
  EXPECT_NE(p.error().message.find("ErrImagePull"), std::string::npos) << p.error().message;
  EXPECT_NE(p.error().message.find("is not available on this node"), std::string::npos) << p.error().message;
  EXPECT_EQ(p.error().message.find(secretData("orders-mongodb-superuser")["password"]), std::string::npos);
  ASSERT_EQ(p.error().conditions.size(), 1u);
  EXPECT_EQ(p.error().conditions[0].type, "NetworkIsolated");
}

TEST_F(MongoDedicatedTest, ASecretWithoutTlsPemIsCompletedWithTheSameCertificate) {
  auto sdb = parsed(sdbObject("orders", "orders"));
  ASSERT_FALSE(backend_->open(sdb).ok());
  markReady("orders-mongodb");
  ASSERT_TRUE(backend_->open(sdb).ok());
  const auto before = secretData("orders-mongodb-tls");
  // A Secret written before tls.pem existed.
  ASSERT_TRUE(client_->patch(res::kSecrets, "shop", "orders-mongodb-tls", kube::PatchType::kMerge,
                             R"({"data": {"tls.pem": null}})", {}).ok());
  ASSERT_EQ(secretData("orders-mongodb-tls").count("tls.pem"), 0u);
  auto s = backend_->open(sdb);
  ASSERT_TRUE(s.ok()) << s.error().message;
  std::string changes;
  for (const auto& c : s->changes) changes += c + "\n";
  EXPECT_NE(changes.find("rewrote Secret \"orders-mongodb-tls\" with the same certificate"), std::string::npos) << changes;
  EXPECT_EQ(changes.find("issued"), std::string::npos) << changes;
  const auto after = secretData("orders-mongodb-tls");
  EXPECT_EQ(after.at("tls.crt"), before.at("tls.crt"));
  EXPECT_EQ(after.at("tls.key"), before.at("tls.key"));
  EXPECT_EQ(after.at("tls.pem"), before.at("tls.pem"));
}

// The Secret's tls.pem loads as certificate and key from one file (as mongod reads
// --tlsCertificateKeyFile); the probe reads the serial it presents; reloadTls asks no server for a
// reload when the serial is already the stored one, and reports a failed reload as an error.
TEST_F(MongoDedicatedTest, TlsPemServesAndTheProbeAndReloadFollowTheSerial) {
  auto sdb = parsed(sdbObject("orders", "orders"));
  ASSERT_FALSE(backend_->open(sdb).ok());
  auto tls = secretData("orders-mongodb-tls");
  auto serial = pki::serialHex(tls["tls.crt"]);
  ASSERT_TRUE(serial.ok());
  const std::string pem = writeTemp(tls["tls.pem"]);
  PemTlsServer server(pem);
  ASSERT_TRUE(server.loaded()) << "OpenSSL refused tls.pem as certificate and key";
  auto served = presentedTlsSerial("127.0.0.1", server.port(), "orders-mongodb.shop.svc", 5);
  ASSERT_TRUE(served.ok()) << served.error().message;
  EXPECT_EQ(*served, *serial);

  MongoDedicatedOptions fast;
  fast.serverSelectionTimeoutMs = 300;
  fast.connectTimeoutMs = 300;
  InstanceEngine real = mongoInstanceEngine(fast);
  InstanceConnection conn;
  conn.host = "127.0.0.1";
  conn.port = server.port();
  conn.username = "root";
  conn.password = "secret-pw";
  conn.caFile = writeTemp(tls["ca.crt"]);
  auto same = real.reloadTls(conn, *serial);
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_EQ(*same, *serial) << "no reload needed";
  auto other = real.reloadTls(conn, "0A");
  ASSERT_FALSE(other.ok()) << "this server is no mongod: rotateCertificates cannot succeed";
  EXPECT_NE(other.error().message.find("rotateCertificates"), std::string::npos) << other.error().message;
  EXPECT_EQ(other.error().message.find("secret-pw"), std::string::npos);

  // Nothing listening, and a listener that never speaks TLS: errors naming the address, bounded in time.
  auto refused = presentedTlsSerial("127.0.0.1", 1, "", 2);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("127.0.0.1:1"), std::string::npos) << refused.error().message;
  int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ::listen(silent, 1);
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&a), &len);
  const auto start = std::chrono::steady_clock::now();
  auto mute = presentedTlsSerial("127.0.0.1", ntohs(a.sin_port), "", 1);
  EXPECT_FALSE(mute.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  ::close(silent);
}

TEST_F(MongoDedicatedTest, DeleteRemovesTheClaim) {
  auto sdb = parsed(sdbObject("orders", "orders"));
  ASSERT_FALSE(backend_->open(sdb).ok());
  Json pvc = {{"apiVersion", "v1"}, {"kind", "PersistentVolumeClaim"},
              {"metadata", {{"name", "data-orders-mongodb-0"}, {"namespace", "shop"}}},
              {"spec", {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}};
  ASSERT_TRUE(client_->create(res::kPersistentVolumeClaims, "shop", pvc).ok());
  ASSERT_TRUE(backend_->removeInstance(sdb).ok());
  EXPECT_TRUE(get(res::kPersistentVolumeClaims, "data-orders-mongodb-0").is_null());
}

}  // namespace
}  // namespace sdb::controllers::servicedatabase
