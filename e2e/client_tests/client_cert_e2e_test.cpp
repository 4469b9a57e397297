// Client-certificate authentication from a kubeconfig (certificate and key as -data), judged by an
// outside TLS server: `openssl s_server -Verify 1` refuses a handshake without a certificate signed
// by its CA and, with one, echoes the certificate it received.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <vector>

#include "e2e/fixture/process.h"
#include "operator/kube/cpprest_transport.h"
#include "operator/kube/http_client.h"

using namespace sdb;
using namespace sdb::e2e;
using namespace std::chrono_literals;

namespace {

int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = 0;
  ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  socklen_t len = sizeof sa;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0) {
    port = ntohs(sa.sin_port);
  }
  ::close(fd);
  return port;
}

bool accepting(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

std::string base64File(const std::string& path) {
  std::string out;
  FILE* p = ::popen(("base64 -w0 " + path).c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// A test CA, a server certificate for 127.0.0.1 and a client certificate, all signed by it, in d.
void makePki(const std::string& d) {
  const std::string gen =
      "cd " + d + " && "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=test-ca -keyout ca.key -out ca.pem && "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=server -keyout server.key -out server.csr && "
      "printf 'subjectAltName=IP:127.0.0.1\\n' > ext && "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile ext -out server.pem && "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=e2e-client -keyout client.key -out client.csr && "
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -out client.pem";
  ASSERT_EQ(std::system(("(" + gen + ") >/dev/null 2>&1").c_str()), 0);
}

// Starts `openssl s_server -www` on a free port with d's server certificate; extra flags appended.
int startServer(ChildProcess& server, const std::string& d, const std::vector<std::string>& extra) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    int candidate = freePort();
    std::vector<std::string> argv = {"/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(candidate),
                                     "-cert", d + "/server.pem", "-key", d + "/server.key", "-www"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    if (!server.start(argv, d + "/s_server.log").ok()) return -1;
    if (eventually([&] { return accepting(candidate) || !server.running(); }, 5s) && server.running()) return candidate;
  }
  return -1;
}

TEST(ClientCertificateE2E, PresentedFromKubeconfigDataAndVerifiedByOpensslServer) {
  TempDir tmp;
  const std::string d = tmp.path();
  ASSERT_NO_FATAL_FAILURE(makePki(d));
  ChildProcess server;
  const int port = startServer(server, d, {"-CAfile", d + "/ca.pem", "-Verify", "1"});
  ASSERT_GT(port, 0) << server.log();

  const std::string kubeconfig =
      "apiVersion: v1\nkind: Config\nclusters:\n- name: s\n  cluster:\n    server: https://127.0.0.1:" + std::to_string(port) +
      "\n    certificate-authority-data: " + base64File(d + "/ca.pem") +
      "\nusers:\n- name: u\n  user:\n    client-certificate-data: " + base64File(d + "/client.pem") +
      "\n    client-key-data: " + base64File(d + "/client.key") +
      "\ncontexts:\n- name: c\n  context: {cluster: s, user: u}\ncurrent-context: c\n";
  std::ofstream(d + "/kubeconfig") << kubeconfig;
  auto config = kube::loadKubeconfig(d + "/kubeconfig");
  ASSERT_TRUE(config.ok()) << config.error().message;
  auto client = kube::HttpKubeClient::fromConfig(*config);
  ASSERT_TRUE(client.ok()) << client.error().message;
  auto page = (*client)->raw("GET", "/");
  ASSERT_TRUE(page.ok()) << page.error().toString();
  ASSERT_TRUE(page->is_string());
  const std::string text = page->get<std::string>();
  EXPECT_NE(text.find("Client certificate"), std::string::npos) << text.substr(0, 2000);
  EXPECT_NE(text.find("e2e-client"), std::string::npos) << "the server received our certificate: " << text.substr(text.find("Client certificate"), 1500);

  kube::RestConfig noCert = *config;
  noCert.clientCertificatePem.clear();
  noCert.clientKeyPem.clear();
  kube::HttpClientOptions once;
  once.retry.maxAttempts = 1;
  auto anonymous = kube::HttpKubeClient::fromConfig(noCert, once);
  ASSERT_TRUE(anonymous.ok());
  auto refused = (*anonymous)->raw("GET", "/");
  ASSERT_FALSE(refused.ok()) << "without a client certificate the handshake is refused";
  EXPECT_TRUE(refused.error().is(kube::ApiErrorReason::kNetwork)) << refused.error().toString();
}

// skipSystemTrustStoreLoad: with a CA in the config, OpenSSL's default certificate file becomes an
// empty one, and the server is still verified against the configured CA: a server whose certificate
// that CA did not sign is refused. Without a CA, or with SSL_CERT_FILE set by the user, nothing changes.
TEST(ClientCertificateE2E, SkippingTheSystemTrustStoreKeepsVerification) {
  TempDir tmp;
  const std::string d = tmp.path();
  ASSERT_NO_FATAL_FAILURE(makePki(d));
  ASSERT_EQ(std::system(("cd " + d + " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
                         "-subj /CN=other-ca -keyout other.key -out other.pem >/dev/null 2>&1").c_str()), 0);
  ChildProcess server;
  const int port = startServer(server, d, {});
  ASSERT_GT(port, 0) << server.log();
  auto pem = [&](const std::string& file) {
    std::ifstream in(d + "/" + file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  kube::RestConfig config;
  config.server = "https://127.0.0.1:" + std::to_string(port);
  config.caPem = pem("ca.pem");

  ::unsetenv("SSL_CERT_FILE");
  kube::RestConfig noCa = config;
  noCa.caPem.clear();
  EXPECT_FALSE(kube::skipSystemTrustStoreLoad(noCa)) << "without a CA the system store verifies the server";
  EXPECT_EQ(std::getenv("SSL_CERT_FILE"), nullptr);
  ::setenv("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt", 1);
  EXPECT_FALSE(kube::skipSystemTrustStoreLoad(config)) << "a user's SSL_CERT_FILE is kept";
  EXPECT_STREQ(std::getenv("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt");
  ::unsetenv("SSL_CERT_FILE");
  ASSERT_TRUE(kube::skipSystemTrustStoreLoad(config));
  EXPECT_STREQ(std::getenv("SSL_CERT_FILE"), "/dev/null");

  kube::HttpClientOptions once;
  once.retry.maxAttempts = 1;
  auto client = kube::HttpKubeClient::fromConfig(config, once);
  ASSERT_TRUE(client.ok()) << client.error().message;
  auto page = (*client)->raw("GET", "/");
  ASSERT_TRUE(page.ok()) << "verified against the configured CA: " << page.error().toString();
  kube::RestConfig wrongCa = config;
  wrongCa.caPem = pem("other.pem");
  auto stranger = kube::HttpKubeClient::fromConfig(wrongCa, once);
  ASSERT_TRUE(stranger.ok());
  auto refused = (*stranger)->raw("GET", "/");
  ASSERT_FALSE(refused.ok()) << "a CA that did not sign the server's certificate is refused";
  EXPECT_TRUE(refused.error().is(kube::ApiErrorReason::kNetwork)) << refused.error().toString();
  ::unsetenv("SSL_CERT_FILE");
}

}  // namespace
