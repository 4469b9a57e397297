// kubeconfig and in-cluster config: what loads, and bad input rejected with an error naming the field.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "operator/kube/rest_config.h"

namespace fs = std::filesystem;
using namespace sdb;
using namespace sdb::kube;

namespace {

const char* kCaPem = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
// base64 of kCaPem
std::string b64(const std::string& s) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
    out += {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63], a[v & 63]};
  }
  if (i + 1 == s.size()) {
    uint32_t v = uint8_t(s[i]) << 16;
    out += {a[v >> 18], a[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == s.size()) {
    uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8);
    out += {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63], '='};
  }
  return out;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/sdb-kubeconfig-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ + "/" + name) << text;
    return path_ + "/" + name;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string config(const std::string& clusterExtra, const std::string& userExtra, const std::string& tail = "") {
  return "apiVersion: v1\nkind: Config\n"
         "clusters:\n- name: c1\n  cluster:\n    server: https://127.0.0.1:6443\n" + clusterExtra +
         "users:\n- name: u1\n  user:\n" + userExtra +
         "contexts:\n- name: ctx1\n  context:\n    cluster: c1\n    user: u1\n    namespace: team-a\n"
         "- name: ctx2\n  context:\n    cluster: c1\n    user: u1\n"
         "current-context: ctx1\n" + tail;
}

void expectError(const Result<RestConfig>& r, const std::string& fragment) {
  ASSERT_FALSE(r.ok()) << "expected an error mentioning " << fragment;
  EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().message;
}

}  // namespace

TEST(Kubeconfig, CurrentContextWithCaDataAndToken) {
  auto c = parseKubeconfig(config("    certificate-authority-data: " + b64(kCaPem) + "\n", "    token: abc123\n"), "/k");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->server, "https://127.0.0.1:6443");
  EXPECT_EQ(c->caPem, kCaPem);
  EXPECT_EQ(c->defaultNamespace, "team-a");
  ASSERT_TRUE(c->token);
  EXPECT_EQ(*c->token->token(), "abc123");
  EXPECT_FALSE(c->insecureSkipTlsVerify);
}

TEST(Kubeconfig, ContextFlagOverridesCurrentContextAndNamespaceDefaults) {
  KubeconfigOptions o;
  o.context = "ctx2";
  auto c = parseKubeconfig(config("", "    token: t\n"), "/k", o);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->defaultNamespace, "default");
  o.context = "nope";
  auto missing = parseKubeconfig(config("", "    token: t\n"), "/k", o);
  expectError(missing, "--context \"nope\": no such context");
  expectError(missing, "ctx1, ctx2");
}

TEST(Kubeconfig, FilesRelativeToTheKubeconfig) {
  TempDir dir;
  dir.write("ca.pem", kCaPem);
  dir.write("client.crt", "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n");
  dir.write("client.key", "-----BEGIN PRIVATE KEY-----\nY\n-----END PRIVATE KEY-----\n");
  dir.write("token", "from-file\n");
  auto path = dir.write("config", config("    certificate-authority: ca.pem\n",
                                         "    client-certificate: client.crt\n    client-key: client.key\n"
                                         "    token: ignored-when-a-file-is-set\n    tokenFile: token\n"));
  auto c = loadKubeconfig(path);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->caPem, kCaPem);
  EXPECT_NE(c->clientCertificatePem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(c->clientKeyPem.find("BEGIN PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(*c->token->token(), "from-file");
}

TEST(Kubeconfig, ClientCertificateAndKeyData) {
  auto c = parseKubeconfig(config("    insecure-skip-tls-verify: true\n",
                                  "    client-certificate-data: " + b64("-----BEGIN CERTIFICATE-----\nA\n") +
                                      "\n    client-key-data: " + b64("-----BEGIN EC PRIVATE KEY-----\nB\n") + "\n"),
                           "/k");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->insecureSkipTlsVerify);
  EXPECT_EQ(c->clientKeyPem, "-----BEGIN EC PRIVATE KEY-----\nB\n");
  EXPECT_FALSE(c->token);
}

TEST(Kubeconfig, BadInputNamesTheField) {
  expectError(parseKubeconfig("clusters: [", "/k"), "kubeconfig /k");
  expectError(parseKubeconfig("- a\n- b\n", "/k"), "not a mapping");
  expectError(parseKubeconfig("clusters: {}\n", "/k"), "clusters: must be a list");
  expectError(parseKubeconfig("apiVersion: v1\nclusters: []\ncontexts: []\n", "/k"), "current-context: not set");
  // server missing
  expectError(parseKubeconfig("clusters:\n- name: c1\n  cluster: {}\nusers: []\ncontexts:\n- name: x\n  context: {cluster: c1}\n"
                              "current-context: x\n", "/k"),
              "clusters[\"c1\"].cluster.server: required");
  expectError(parseKubeconfig("clusters:\n- name: c1\n  cluster: {server: ftp://x}\ncontexts:\n- name: x\n  context: {cluster: c1}\n"
                              "current-context: x\n", "/k"),
              "clusters[\"c1\"].cluster.server: must start with https://");
  expectError(parseKubeconfig("clusters: []\ncontexts:\n- name: x\n  context: {cluster: gone}\ncurrent-context: x\n", "/k"),
              "contexts[\"x\"].context.cluster: no cluster named \"gone\"");
  expectError(parseKubeconfig("clusters: []\ncontexts:\n- name: x\n  context: {}\ncurrent-context: x\n", "/k"),
              "contexts[\"x\"].context.cluster: required");
  expectError(parseKubeconfig("clusters:\n- cluster: {server: https://a}\n", "/k"), "clusters[0].name: required");
  expectError(parseKubeconfig(config("    certificate-authority-data: '@@@'\n", ""), "/k"),
              "clusters[\"c1\"].cluster.certificate-authority-data: not base64");
  expectError(parseKubeconfig(config("    certificate-authority-data: " + b64("hello") + "\n", ""), "/k"),
              "certificate-authority-data: no PEM block");
  expectError(parseKubeconfig(config("    certificate-authority: /nonexistent/ca.pem\n", ""), "/k"),
              "clusters[\"c1\"].cluster.certificate-authority: cannot read /nonexistent/ca.pem");
  expectError(parseKubeconfig(config("    certificate-authority: /x\n    certificate-authority-data: " + b64(kCaPem) + "\n", ""), "/k"),
              "both set");
  expectError(parseKubeconfig(config("    insecure-skip-tls-verify: true\n    certificate-authority-data: " + b64(kCaPem) + "\n", ""), "/k"),
              "insecure-skip-tls-verify: cannot be combined");
  expectError(parseKubeconfig(config("    insecure-skip-tls-verify: maybe\n", ""), "/k"),
              "insecure-skip-tls-verify: must be true or false");
  expectError(parseKubeconfig(config("", "    client-certificate-data: " + b64("-----BEGIN CERTIFICATE-----\n") + "\n"), "/k"),
              "users[\"u1\"].user.client-key: required when client-certificate is set");
  expectError(parseKubeconfig(config("", "    tokenFile: /nonexistent/token\n"), "/k"), "users[\"u1\"].user.tokenFile");
  expectError(parseKubeconfig(config("", "    exec:\n      command: aws\n"), "/k"), "users[\"u1\"].user.exec: not supported");
  expectError(parseKubeconfig(config("", "    token: 5\n    username: admin\n"), "/k"), "users[\"u1\"].user.username: not supported");
  expectError(parseKubeconfig(config("", "    token: [1]\n"), "/k"), "users[\"u1\"].user.token: must be a string");
  expectError(parseKubeconfig("clusters:\n- name: c\n  cluster: {server: https://a}\ncontexts:\n- name: x\n  context: {cluster: c, user: who}\n"
                              "current-context: x\n", "/k"),
              "contexts[\"x\"].context.user: no user named \"who\"");
}

TEST(Kubeconfig, KubeconfigListMergesFirstDefinitionWins) {
  TempDir dir;
  auto a = dir.write("a", "clusters:\n- name: c1\n  cluster: {server: 'https://first:1'}\ncurrent-context: ''\n");
  auto b = dir.write("b", config("", "    token: t\n"));  // c1 again (server 127.0.0.1), ctx1 current
  auto c = loadKubeconfig(a + ":" + dir.path() + "/missing:" + b);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->server, "https://first:1");
  EXPECT_EQ(c->defaultNamespace, "team-a");
  expectError(loadKubeconfig(dir.path() + "/missing"), "cannot read the file");
}

TEST(InClusterConfig, ReadsServiceAccountFilesAndRereadsTheRotatedToken) {
  TempDir dir;
  dir.write("ca.crt", kCaPem);
  dir.write("token", "first\n");
  dir.write("namespace", "ops\n");
  FakeClock clock;
  InClusterOptions o;
  o.serviceAccountDir = dir.path();
  o.env = {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}};
  o.clock = &clock;
  auto c = loadInClusterConfig(o);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->server, "https://10.0.0.1:443");
  EXPECT_EQ(c->defaultNamespace, "ops");
  EXPECT_EQ(c->caPem, kCaPem);
  EXPECT_EQ(*c->token->token(), "first");
  // The kubelet rotates the projected token by swapping the file: a new inode and size.
  dir.write("token.new", "second-token\n");
  fs::rename(dir.path() + "/token.new", dir.path() + "/token");
  EXPECT_EQ(*c->token->token(), "second-token") << "a changed file is re-read at once";
  o.env = {{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}};
  EXPECT_EQ(loadInClusterConfig(o)->server, "https://[fd00::1]:6443");
}

TEST(InClusterConfig, TokenIsRereadEveryMinuteEvenIfTheFileLooksUnchanged) {
  TempDir dir;
  auto path = dir.write("token", "aaaa");
  FakeClock clock;
  BearerToken token(path, clock, std::chrono::minutes(1));
  EXPECT_EQ(*token.token(), "aaaa");
  // Same size, and the mtime restored: only the periodic re-read can notice.
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  {
    std::fstream f(path, std::ios::in | std::ios::out);
    f << "bbbb";
  }
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  clock.advance(std::chrono::seconds(30));
  EXPECT_EQ(*token.token(), "aaaa");
  clock.advance(std::chrono::seconds(31));
  EXPECT_EQ(*token.token(), "bbbb");
  // A missing file keeps the last good token; invalidate() forces a re-read.
  {
    std::fstream f(path, std::ios::in | std::ios::out);
    f << "cccc";
  }
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  EXPECT_TRUE(token.invalidate());
  EXPECT_EQ(*token.token(), "cccc");
  fs::remove(path);
  EXPECT_EQ(*token.token(), "cccc");
  EXPECT_FALSE(BearerToken("fixed").invalidate());
}

TEST(InClusterConfig, BadEnvironmentOrFilesNameWhatIsMissing) {
  TempDir dir;
  InClusterOptions o;
  o.serviceAccountDir = dir.path();
  o.env = {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}};
  expectError(loadInClusterConfig(o), "KUBERNETES_SERVICE_PORT must both be set");
  o.env["KUBERNETES_SERVICE_PORT"] = "https";
  expectError(loadInClusterConfig(o), "KUBERNETES_SERVICE_PORT: not a port");
  o.env["KUBERNETES_SERVICE_PORT"] = "443";
  expectError(loadInClusterConfig(o), dir.path() + "/ca.crt");
  dir.write("ca.crt", "garbage");
  expectError(loadInClusterConfig(o), "ca.crt: no PEM certificate");
  dir.write("ca.crt", kCaPem);
  expectError(loadInClusterConfig(o), dir.path() + "/token");
  dir.write("token", "\n");
  expectError(loadInClusterConfig(o), "is empty");
}

TEST(RestConfigOrder, FlagThenKubeconfigEnvThenInCluster) {
  TempDir dir;
  auto a = dir.write("a", config("", "    token: from-a\n"));
  auto b = dir.write("b", config("", "    token: from-b\n"));
  ::setenv("KUBECONFIG", b.c_str(), 1);
  ::setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto flag = loadRestConfig(a, "");
  ASSERT_TRUE(flag.ok()) << flag.error().message;
  EXPECT_EQ(*flag->token->token(), "from-a") << "--kubeconfig wins";
  auto env = loadRestConfig("", "ctx2");
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(*env->token->token(), "from-b") << "then $KUBECONFIG (with --context)";
  EXPECT_EQ(env->defaultNamespace, "default");
  ::unsetenv("KUBECONFIG");
  auto inCluster = loadRestConfig("", "");
  ASSERT_FALSE(inCluster.ok()) << "then the in-cluster config (no service-account files here)";
  EXPECT_NE(inCluster.error().message.find("in-cluster config"), std::string::npos) << inCluster.error().message;
  auto contextWithoutKubeconfig = loadRestConfig("", "ctx1");
  ASSERT_FALSE(contextWithoutKubeconfig.ok());
  EXPECT_NE(contextWithoutKubeconfig.error().message.find("--context"), std::string::npos);
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
}
