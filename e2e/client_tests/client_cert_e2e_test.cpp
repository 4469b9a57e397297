// Client-certificate authentication from a kubeconfig (certificate and key as -data), judged by an
// outside TLS server: `openssl s_server -Verify 1` refuses a handshake without a certificate signed
// by its CA and, with one, echoes the certificate it received.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "e2e/fixture/process.h"
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

TEST(ClientCertificateE2E, PresentedFromKubeconfigDataAndVerifiedByOpensslServer) {
  TempDir tmp;
  const std::string d = tmp.path();
  const std::string gen =
      "cd " + d + " && "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=test-ca -keyout ca.key -out ca.pem && "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=server -keyout server.key -out server.csr && "
      "printf 'subjectAltName=IP:127.0.0.1\\n' > ext && "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile ext -out server.pem && "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=e2e-client -keyout client.key -out client.csr && "
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -out client.pem";
  ASSERT_EQ(std::system(("(" + gen + ") >/dev/null 2>&1").c_str()), 0);

  ChildProcess server;
  int port = -1;
  for (int attempt = 0; attempt < 5 && port < 0; ++attempt) {
    int candidate = freePort();
    ASSERT_TRUE(server.start({"/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(candidate), "-cert",
                              d + "/server.pem", "-key", d + "/server.key", "-CAfile", d + "/ca.pem", "-Verify", "1", "-www"},
                             d + "/s_server.log").ok());
    if (eventually([&] { return accepting(candidate) || !server.running(); }, 5s) && server.running()) port = candidate;
  }
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

}  // namespace
