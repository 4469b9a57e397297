// RestConfig: where the API server is and how to authenticate to it, loaded from a kubeconfig or from
// the in-cluster service-account files (after client-go's clientcmd and rest.InClusterConfig).
//
// Loading order of loadRestConfig(): the --kubeconfig flag, else $KUBECONFIG (a ':'-separated list,
// merged: the first file to define a name or current-context wins), else the in-cluster config when
// KUBERNETES_SERVICE_HOST is set, else ~/.kube/config.
//
// Every error names the file and the field (e.g. `users["admin"].user.client-key: ...`).
// Unsupported kubeconfig features (exec and auth-provider plugins, username/password) are errors
// naming the field rather than silently ignored.
//
// BearerToken serves the token of a request. A token read from a file (in-cluster, or kubeconfig
// `tokenFile`) is re-read when the file changes (mtime, size or inode) and at least every minute, so
// projected service-account tokens keep working as the kubelet rotates them.
//
// Contract: loaders are pure apart from reading files and the environment passed in; RestConfig is a
// value. BearerToken is thread-safe; its clock is injected.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "operator/core/clock.h"
#include "operator/core/result.h"

namespace sdb::kube {

class BearerToken {
 public:
  // A fixed token (kubeconfig `token`).
  explicit BearerToken(std::string token);
  // A token file, re-read when it changes and every `refresh`.
  BearerToken(std::string path, Clock& clock, std::chrono::milliseconds refresh = std::chrono::minutes(1));

  // The current token ("" when there is none). Errors name the file.
  Result<std::string> token();
  // Forces a re-read at the next token() (after a 401); returns true when the token is file-backed.
  bool invalidate();
  const std::string& path() const { return path_; }

 private:
  Status reload();

  std::mutex mu_;
  std::string token_;
  std::string path_;
  Clock* clock_ = nullptr;
  std::chrono::milliseconds refresh_{0};
  std::chrono::steady_clock::time_point loadedAt_{};
  struct FileStamp {
    int64_t mtimeNs = -1, size = -1;
    uint64_t inode = 0;
    bool operator==(const FileStamp&) const = default;
  } stamp_;
  bool loaded_ = false;
};

struct RestConfig {
  std::string server;               // "https://127.0.0.1:6443" (scheme, host, port, optional path)
  std::string caPem;                // trusted CAs; "" means the system's trust store
  bool insecureSkipTlsVerify = false;
  std::string clientCertificatePem, clientKeyPem;
  std::shared_ptr<BearerToken> token;  // null: no bearer token
  std::string defaultNamespace;     // the context's namespace, or the service account's
  std::string source;               // "kubeconfig /path (context x)" or "in-cluster", for messages
};

struct KubeconfigOptions {
  std::string context;  // "" means current-context
  Clock* clock = nullptr;  // for token files; default SystemClock
};

// Parses kubeconfig YAML text. `path` names the file in errors and anchors relative file references.
Result<RestConfig> parseKubeconfig(const std::string& text, const std::string& path, const KubeconfigOptions& options = {});
// Loads one file or a ':'-separated list merged as kubectl merges $KUBECONFIG.
Result<RestConfig> loadKubeconfig(const std::string& pathList, const KubeconfigOptions& options = {});

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

struct InClusterOptions {
  std::string serviceAccountDir = kServiceAccountDir;  // token, ca.crt, namespace
  std::map<std::string, std::string> env;  // KUBERNETES_SERVICE_HOST and _PORT; empty: the process's
  Clock* clock = nullptr;
};
Result<RestConfig> loadInClusterConfig(const InClusterOptions& options = {});

// The flag, $KUBECONFIG, in-cluster, ~/.kube/config: the first that applies (see above).
Result<RestConfig> loadRestConfig(const std::string& kubeconfigFlag, const std::string& context);

}  // namespace sdb::kube
