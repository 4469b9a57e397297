#include "operator/kube/rest_config.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sdb::kube {

namespace {

Result<std::string> readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ioError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return ioError("cannot read " + path);
  return ss.str();
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t start = 0;
  while (start < s.size() && (s[start] == ' ' || s[start] == '\t' || s[start] == '\n')) ++start;
  return s.substr(start);
}

}  // namespace

BearerToken::BearerToken(std::string token) : token_(std::move(token)), loaded_(true) {}

BearerToken::BearerToken(std::string path, Clock& clock, std::chrono::milliseconds refresh)
    : path_(std::move(path)), clock_(&clock), refresh_(refresh) {}

Status BearerToken::reload() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return ioError("bearer token file " + path_ + ": cannot stat it");
  FileStamp stamp{static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                  static_cast<int64_t>(st.st_size), static_cast<uint64_t>(st.st_ino)};
  const auto now = clock_->monotonic();
  if (loaded_ && stamp == stamp_ && now - loadedAt_ < refresh_) return okStatus();
  auto text = readWholeFile(path_);
  if (!text.ok()) return ioError("bearer token file " + path_ + ": " + text.error().message);
  std::string t = trimmed(*text);
  if (t.empty()) return ioError("bearer token file " + path_ + " is empty");
  token_ = std::move(t);
  stamp_ = stamp;
  loadedAt_ = now;
  loaded_ = true;
  return okStatus();
}

Result<std::string> BearerToken::token() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!path_.empty()) {
    auto s = reload();
    // A token that was readable once stays in use while the file is briefly missing mid-rotation.
    if (!s.ok() && !loaded_) return s.error();
  }
  return token_;
}

bool BearerToken::invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  if (path_.empty()) return false;
  stamp_ = FileStamp{};
  return true;
}

Result<RestConfig> loadInClusterConfig(const InClusterOptions& options) {
  auto env = [&](const char* name) -> std::string {
    if (!options.env.empty()) {
      auto it = options.env.find(name);
      return it == options.env.end() ? "" : it->second;
    }
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  const std::string host = env("KUBERNETES_SERVICE_HOST"), port = env("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    return invalidArgument(
        "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set (not running in a "
        "pod?); pass --kubeconfig");
  }
  for (char c : port) {
    if (c < '0' || c > '9') return invalidArgument("in-cluster config: KUBERNETES_SERVICE_PORT: not a port: \"" + port + "\"");
  }
  RestConfig c;
  c.server = "https://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
  c.source = "in-cluster (" + options.serviceAccountDir + ")";
  const std::string dir = options.serviceAccountDir;
  auto ca = readWholeFile(dir + "/ca.crt");
  if (!ca.ok()) return invalidArgument("in-cluster config: " + dir + "/ca.crt: cannot read the cluster CA");
  if (ca->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return invalidArgument("in-cluster config: " + dir + "/ca.crt: no PEM certificate in it");
  }
  c.caPem = *ca;
  Clock& clock = options.clock ? *options.clock : SystemClock::instance();
  c.token = std::make_shared<BearerToken>(dir + "/token", clock);
  auto first = c.token->token();
  if (!first.ok()) return invalidArgument("in-cluster config: " + first.error().message);
  if (auto ns = readWholeFile(dir + "/namespace"); ns.ok()) c.defaultNamespace = trimmed(*ns);
  return c;
}

Result<RestConfig> loadRestConfig(const std::string& kubeconfigFlag, const std::string& context) {
  KubeconfigOptions ko;
  ko.context = context;
  if (!kubeconfigFlag.empty()) return loadKubeconfig(kubeconfigFlag, ko);
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) return loadKubeconfig(env, ko);
  if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST"); host && *host) {
    if (!context.empty()) return invalidArgument("--context: needs a kubeconfig (--kubeconfig or $KUBECONFIG)");
    return loadInClusterConfig();
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    std::string path = std::string(home) + "/.kube/config";
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return loadKubeconfig(path, ko);
  }
  return invalidArgument(
      "no Kubernetes configuration: pass --kubeconfig, set $KUBECONFIG, run in a pod (KUBERNETES_SERVICE_HOST), or "
      "create ~/.kube/config");
}

}  // namespace sdb::kube
