// KubeClient: the one interface through which the operator talks to a Kubernetes API server.
//
// Two implementations exist: HttpKubeClient (cpprestsdk, real clusters and the local cluster over
// HTTPS) and the in-process client over the local cluster's store library (tests). There is no third,
// hand-written fake: fault injection wraps one of these.
//
// Objects are unstructured JSON (sdb::Json) exactly as the API serves them. `ns` is ignored for
// cluster-scoped resources; an empty `ns` on list/watch of a namespaced resource means all namespaces.
//
// Contract: implementations are thread-safe; every call has a deadline (the implementation's request
// timeout) and returns a typed ApiError rather than throwing. 429 and 5xx answers are retried with
// jittered backoff (honouring Retry-After) inside the HTTP implementation before an error surfaces.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "operator/core/json.h"
#include "operator/kube/api_error.h"
#include "operator/kube/resource.h"

namespace sdb::kube {

struct ListOptions {
  std::string labelSelector;    // "app=x,tier in (a,b),!legacy"
  std::string fieldSelector;    // "metadata.name=x"
  int64_t limit = 0;            // 0: no limit
  std::string continueToken;
  std::string resourceVersion;  // "" (most recent, quorum), "0" (any), or a version
};

struct WatchOptions {
  std::string labelSelector;
  std::string fieldSelector;
  std::string resourceVersion;  // start after this version ("" = now, sending synthetic ADDED first)
  int timeoutSeconds = 0;       // server-side end of the watch; 0 = the server's default
  bool allowWatchBookmarks = true;
};

struct WriteOptions {
  std::string fieldManager;     // required for apply; recommended always
  bool dryRun = false;          // dryRun=All
  std::string fieldValidation;  // "", "Ignore", "Warn" or "Strict"
};

enum class PatchType {
  kMerge,           // application/merge-patch+json
  kJson,            // application/json-patch+json
  kStrategicMerge,  // application/strategic-merge-patch+json (built-in kinds only)
  kApply,           // application/apply-patch+yaml (server-side apply; JSON is valid YAML)
};
const char* patchContentType(PatchType type);

struct PatchOptions : WriteOptions {
  bool force = false;  // server-side apply: take over conflicting fields
};

struct DeleteOptions {
  std::string propagationPolicy;  // "", "Background", "Foreground" or "Orphan"
  std::optional<std::string> preconditionUid;
  std::optional<std::string> preconditionResourceVersion;
  std::optional<int64_t> gracePeriodSeconds;
  bool dryRun = false;
};

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark, kError };
  Type type = Type::kAdded;
  Json object;  // for kError: a metav1.Status
};
const char* watchEventTypeName(WatchEvent::Type type);  // "ADDED", ...

// One open watch. next() blocks until an event arrives, the stream ends (nullopt) or fails (error;
// a 410 arrives as ApiErrorReason::kGone, from the HTTP status or an ERROR event). stop() may be
// called from any thread and makes a blocked next() return nullopt promptly.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  virtual KResult<std::optional<WatchEvent>> next() = 0;
  virtual void stop() = 0;
};

class KubeClient {
 public:
  virtual ~KubeClient() = default;

  // `subresource` is "" or e.g. "status", "scale", "log" (get only).
  virtual KResult<Json> get(const ResourceRef& r, const std::string& ns, const std::string& name,
                            const std::string& subresource = "") = 0;
  // Returns the List object: {"kind":"<Kind>List","metadata":{"resourceVersion","continue"},"items":[...]}.
  virtual KResult<Json> list(const ResourceRef& r, const std::string& ns, const ListOptions& opts = {}) = 0;
  virtual KResult<std::unique_ptr<WatchStream>> watch(const ResourceRef& r, const std::string& ns,
                                                      const WatchOptions& opts = {}) = 0;
  // `subresource` allows e.g. serviceaccounts/<name>/token (TokenRequest); then `name` is the parent.
  virtual KResult<Json> create(const ResourceRef& r, const std::string& ns, const Json& obj,
                               const WriteOptions& opts = {}, const std::string& name = "",
                               const std::string& subresource = "") = 0;
  // PUT. obj.metadata.resourceVersion, when set, must match or the answer is kConflict.
  virtual KResult<Json> update(const ResourceRef& r, const std::string& ns, const Json& obj,
                               const WriteOptions& opts = {}, const std::string& subresource = "") = 0;
  KResult<Json> updateStatus(const ResourceRef& r, const std::string& ns, const Json& obj,
                             const WriteOptions& opts = {}) {
    return update(r, ns, obj, opts, "status");
  }
  virtual KResult<Json> patch(const ResourceRef& r, const std::string& ns, const std::string& name, PatchType type,
                              const std::string& body, const PatchOptions& opts = {},
                              const std::string& subresource = "") = 0;
  // Returns the object as it stands after the call (with deletionTimestamp while finalizers remain)
  // or a metav1.Status of success, as the server answered.
  virtual KResult<Json> remove(const ResourceRef& r, const std::string& ns, const std::string& name,
                               const DeleteOptions& opts = {}) = 0;
};

}  // namespace sdb::kube
