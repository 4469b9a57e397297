// HttpKubeClient: KubeClient over HTTP(S), for real clusters and the local cluster.
//
// - URLs: /api/v1/... for the core group, /apis/<group>/<version>/... otherwise; namespaced paths
//   when the resource is namespaced and a namespace is given (for create/update/patch/delete the
//   object's metadata.namespace is used when `ns` is empty).
// - Errors: a non-2xx answer becomes the ApiError its metav1.Status describes (reason, message,
//   details.causes for 422 Invalid, retryAfterSeconds); no answer is kNetwork or kTimeout.
// - Retries: retry_policy.h (429 for every verb; 5xx and lost answers only when a replay cannot apply
//   a write twice), with jittered backoff honouring Retry-After. A 401 makes a file-backed token be
//   re-read, and the request is sent once more if the token changed.
// - Deadlines: every request has options.requestTimeout in total per attempt. A watch has no total
//   deadline, but an idle timeout above its timeoutSeconds (plus watchIdleMargin), so a stream that
//   stays silent longer than the server could legally keep it silent is treated as dead.
// - Watches read incrementally (as bytes arrive, never a full buffer), ask for bookmarks, report 410
//   as kGone (HTTP status or ERROR event), report a stream cut mid-event as kNetwork naming the
//   bytes lost, and stop promptly when stop() is called from another thread.
//
// Contract: thread-safe; the transport is owned. Watch streams hold a reference to the client's
// transport: destroy them before the client.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "operator/core/clock.h"
#include "operator/core/random.h"
#include "operator/kube/client.h"
#include "operator/kube/rest_config.h"
#include "operator/kube/retry_policy.h"
#include "operator/kube/transport.h"

namespace sdb::kube {

struct HttpClientOptions {
  std::chrono::milliseconds requestTimeout{std::chrono::seconds(30)};
  RetryOptions retry;
  // A watch with timeoutSeconds T is declared dead after T + margin without a byte; a watch without
  // timeoutSeconds after defaultWatchIdle.
  std::chrono::seconds watchIdleMargin{30};
  std::chrono::seconds defaultWatchIdle{330};
  std::string userAgent = std::string("servicedb-operator/") + SERVICEDB_VERSION;
  Clock* clock = nullptr;    // retry sleeps; default SystemClock
  Random* random = nullptr;  // jitter; default CryptoRandom
};

class HttpKubeClient final : public KubeClient {
 public:
  HttpKubeClient(std::unique_ptr<Transport> transport, std::shared_ptr<BearerToken> token, HttpClientOptions options = {});
  ~HttpKubeClient() override;

  // The production client: cpprestsdk transport configured from `config` (TLS, client certificate).
  static Result<std::unique_ptr<HttpKubeClient>> fromConfig(const RestConfig& config, HttpClientOptions options = {});

  KResult<Json> get(const ResourceRef& r, const std::string& ns, const std::string& name,
                    const std::string& subresource = "") override;
  KResult<Json> list(const ResourceRef& r, const std::string& ns, const ListOptions& opts = {}) override;
  KResult<std::unique_ptr<WatchStream>> watch(const ResourceRef& r, const std::string& ns,
                                              const WatchOptions& opts = {}) override;
  KResult<Json> create(const ResourceRef& r, const std::string& ns, const Json& obj, const WriteOptions& opts = {},
                       const std::string& name = "", const std::string& subresource = "") override;
  KResult<Json> update(const ResourceRef& r, const std::string& ns, const Json& obj, const WriteOptions& opts = {},
                       const std::string& subresource = "") override;
  KResult<Json> patch(const ResourceRef& r, const std::string& ns, const std::string& name, PatchType type,
                      const std::string& body, const PatchOptions& opts = {},
                      const std::string& subresource = "") override;
  KResult<Json> remove(const ResourceRef& r, const std::string& ns, const std::string& name,
                       const DeleteOptions& opts = {}) override;

  // A raw request (method, path and query) with the client's auth, retries and error decoding; for
  // callers outside the resource model (e.g. /version, admin endpoints of the local cluster).
  KResult<Json> raw(const std::string& method, const std::string& target, const std::string& contentType = "",
                    const std::string& body = "");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes a path segment or query value (RFC 3986 unreserved characters pass through).
std::string percentEncode(const std::string& s);
// "/api/v1/namespaces/a/pods/x/status", "/apis/apps/v1/statefulsets", ...
std::string resourcePath(const ResourceRef& r, const std::string& ns, const std::string& name = "",
                         const std::string& subresource = "");

}  // namespace sdb::kube
