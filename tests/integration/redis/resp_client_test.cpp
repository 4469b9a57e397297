// The RESP-over-TLS admin client against a real redis-server 7: full verification (CA, host name,
// SNI), the presented certificate, client certificates, binary safety, pipelining, timeouts, and
// proof with a recording proxy that the admin password never crosses the wire in clear over TLS.
#include "operator/engines/redis/resp_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "operator/pki/pki.h"
#include "tests/integration/redis/redis_test_support.h"

namespace sdb::engines::redis {
namespace {

using RespClientTest = RedisServerTest;

// Forwards one TCP connection to 127.0.0.1:target and records every byte the client sent.
class RecordingProxy {
 public:
  explicit RecordingProxy(int target) : target_(target) {
    listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(listen_, 1);
    thread_ = std::thread([this] { run(); });
  }
  ~RecordingProxy() {
    stop_ = true;
    thread_.join();
    ::close(listen_);
  }
  int port() const { return port_; }
  std::string sent() {
    std::lock_guard<std::mutex> l(mu_);
    return sent_;
  }

 private:
  void run() {
    pollfd lp{listen_, POLLIN, 0};
    while (!stop_ && ::poll(&lp, 1, 50) == 0) {}
    if (stop_) return;
    int client = ::accept(listen_, nullptr, nullptr);
    int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(target_));
    if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(client);
      ::close(server);
      return;
    }
    char buf[65536];
    while (!stop_) {
      pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(p, 2, 50) <= 0) continue;
      if (p[0].revents) {
        ssize_t n = ::recv(client, buf, sizeof buf, 0);
        if (n <= 0) break;
        {
          std::lock_guard<std::mutex> l(mu_);
          sent_.append(buf, static_cast<size_t>(n));
        }
        ::send(server, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
      }
      if (p[1].revents) {
        ssize_t n = ::recv(server, buf, sizeof buf, 0);
        if (n <= 0) break;
        ::send(client, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
      }
    }
    ::close(client);
    ::close(server);
  }
  int target_, port_ = 0, listen_ = -1;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::string sent_;
  std::thread thread_;
};

TEST_F(RespClientTest, TlsWithFullVerificationAuthenticatesAsAdmin) {
  auto c = RespClient::connect(server_->admin());
  ASSERT_TRUE(c.ok()) << c.error().toString();
  EXPECT_TRUE(c->usesTls());
  auto who = c->call({"ACL", "WHOAMI"}, "whoami");
  ASSERT_TRUE(who.ok()) << who.error().toString();
  EXPECT_EQ(who->str, server_->adminUser());
}

TEST_F(RespClientTest, ThePresentedCertificateIsTheServersOwn) {
  auto tls = RespClient::connect(server_->admin());
  ASSERT_TRUE(tls.ok()) << tls.error().toString();
  std::ifstream in(server_->dir() + "/server.crt");
  const std::string crt((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(crt.empty());
  EXPECT_EQ(pki::serialHex(tls->peerCertificatePem()).value(), pki::serialHex(crt).value());
  auto plain = RespClient::connect(server_->admin(/*tls=*/false));
  ASSERT_TRUE(plain.ok()) << plain.error().toString();
  EXPECT_EQ(plain->peerCertificatePem(), "");
}

TEST_F(RespClientTest, TlsNeedsACaFile) {
  auto o = server_->admin();
  o.tls.caFile.clear();
  auto c = RespClient::connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(c.error().message.find("tls.caFile"), std::string::npos);
}

TEST_F(RespClientTest, AnotherCaIsRefused) {
  auto other = pki::createCa({"someone else", std::chrono::hours(1)});
  ASSERT_TRUE(other.ok());
  const std::string path = server_->dir() + "/other-ca.crt";
  std::ofstream(path) << other->certificatePem;
  auto o = server_->admin();
  o.tls.caFile = path;
  auto c = RespClient::connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("certificate verification failed"), std::string::npos) << c.error().message;
}

TEST_F(RespClientTest, HostNameIsVerifiedAndSentAsSni) {
  auto o = server_->admin();
  o.tls.serverName = "redis.test";  // in the certificate's SANs; connecting to 127.0.0.1
  auto good = RespClient::connect(o);
  ASSERT_TRUE(good.ok()) << good.error().toString();
  o.tls.serverName = "evil.test";
  auto bad = RespClient::connect(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("certificate verification failed"), std::string::npos) << bad.error().message;
  o.tls.serverName = "127.0.0.2";  // an IP that is not in the certificate
  auto badIp = RespClient::connect(o);
  ASSERT_FALSE(badIp.ok());
}

TEST_F(RespClientTest, WrongPasswordIsPermissionDeniedAndNeverEchoed) {
  auto o = server_->admin();
  o.password = "not-the-password-3f9a";
  auto c = RespClient::connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(c.error().message.find("3f9a"), std::string::npos);
}

TEST_F(RespClientTest, AdminPasswordNeverCrossesTheWireInClear) {
  {
    RecordingProxy proxy(server_->tlsPort());
    auto o = server_->admin();
    o.port = proxy.port();
    auto c = RespClient::connect(o);
    ASSERT_TRUE(c.ok()) << c.error().toString();
    ASSERT_TRUE(c->call({"PING"}, "ping").ok());
    const std::string wire = proxy.sent();
    EXPECT_GT(wire.size(), 100u);
    EXPECT_EQ(wire.find(server_->adminPassword()), std::string::npos);
    EXPECT_EQ(wire.find("AUTH"), std::string::npos);
  }
  {  // The proxy does see it on the plain test transport: the check above is not vacuous.
    RecordingProxy proxy(server_->plainPort());
    auto o = server_->admin(/*tls=*/false);
    o.port = proxy.port();
    auto c = RespClient::connect(o);
    ASSERT_TRUE(c.ok()) << c.error().toString();
    ASSERT_TRUE(c->call({"PING"}, "ping").ok());
    EXPECT_NE(proxy.sent().find(server_->adminPassword()), std::string::npos);
  }
}

TEST_F(RespClientTest, BinarySafeArgumentsAndLargeReplies) {
  RespClient c = adminClient();
  std::string value = "a\r\n*1\r\n$4\r\nPING\r\n";
  value.push_back('\0');
  value += std::string(3 << 20, 'x');
  ASSERT_TRUE(c.call({"SET", "resp:big", value}, "set").ok());
  auto got = c.call({"GET", "resp:big"}, "get");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->str, value);
  auto n = c.call({"DBSIZE"}, "dbsize");  // the CRLFs inside did not become a second command
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->type, Reply::Type::kInteger);
  ASSERT_TRUE(c.call({"DEL", "resp:big"}, "del").ok());
}

TEST_F(RespClientTest, ErrorRepliesAreValuesAndPipelinesKeepOrder) {
  RespClient c = adminClient();
  auto r = c.command({"NO-SUCH-COMMAND", "x"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->isError());
  EXPECT_FALSE(c.broken());
  auto called = c.call({"NO-SUCH-COMMAND"}, "calling nothing");
  ASSERT_FALSE(called.ok());
  EXPECT_EQ(called.error().message.rfind("calling nothing: ERR", 0), 0u) << called.error().message;
  std::vector<std::vector<std::string>> cmds;
  for (int i = 0; i < 2000; ++i) cmds.push_back({"ECHO", std::to_string(i)});
  auto replies = c.pipeline(cmds);
  ASSERT_TRUE(replies.ok());
  ASSERT_EQ(replies->size(), 2000u);
  for (int i = 0; i < 2000; ++i) EXPECT_EQ((*replies)[i].str, std::to_string(i));
  auto user = c.call({"ACL", "GETUSER", server_->adminUser()}, "getuser");
  ASSERT_TRUE(user.ok());
  ASSERT_NE(user->field("keys"), nullptr);
  EXPECT_EQ(user->field("keys")->str, "~*");
}

TEST_F(RespClientTest, TimeoutBreaksTheConnection) {
  auto o = server_->admin();
  o.ioTimeout = std::chrono::milliseconds(200);
  auto c = RespClient::connect(o);
  ASSERT_TRUE(c.ok());
  auto r = c->command({"BLPOP", "resp:never", "2"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
  EXPECT_TRUE(c->broken());
  auto again = c->command({"PING"});
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("broken"), std::string::npos);
}

TEST_F(RespClientTest, ServerClosingTheConnectionIsUnavailable) {
  RespClient c = adminClient();
  auto id = c.call({"CLIENT", "ID"}, "id");
  ASSERT_TRUE(id.ok());
  admin({"CLIENT", "KILL", "ID", std::to_string(id->integer)});
  auto r = c.command({"PING"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

TEST_F(RespClientTest, UnreachablePortIsUnavailable) {
  auto o = server_->admin();
  o.port = 1;  // privileged and unused on 127.0.0.1
  auto c = RespClient::connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kUnavailable);
}

TEST(RespClientMutualTls, ClientCertificateIsOfferedWhenTheServerDemandsOne) {
  sdb::testing::RedisServerOptions opts;
  opts.tlsAuthClients = true;
  opts.plainPort = false;
  auto s = sdb::testing::RedisServer::start(opts);
  if (!s.ok()) GTEST_SKIP() << "no redis-server: " << s.error().toString();
  auto with = RespClient::connect((*s)->admin());  // the fixture adds its client certificate
  ASSERT_TRUE(with.ok()) << with.error().toString();
  ASSERT_TRUE(with->call({"PING"}, "ping").ok());
  auto o = (*s)->admin();
  o.tls.certFile.clear();
  o.tls.keyFile.clear();
  auto without = RespClient::connect(o);
  if (without.ok()) {  // TLS 1.3: the server's refusal arrives with the first read
    EXPECT_FALSE(without->command({"PING"}).ok());
  }
}

}  // namespace
}  // namespace sdb::engines::redis
