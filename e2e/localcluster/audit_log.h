// The audit log: one JSON line per API request, shaped after kube-apiserver's audit.k8s.io/v1 Event at
// level Metadata (no request or response bodies, so no Secret data): verb, user {username, groups},
// userAgent, requestURI, objectRef {apiGroup, apiVersion, resource, subresource, namespace, name},
// responseStatus {code, and reason and message on failures}, annotations (the authorization
// decision and its reason, as kube writes them), stage (ResponseComplete; watches and
// streamed logs are logged when they start, as ResponseStarted), requestReceivedTimestamp and
// stageTimestamp. Each line is flushed as it is written, so tests can read the file at any time.
// Benchmarks count API calls from it.
//
// Contract: record() is thread-safe; lines are never interleaved.
#pragma once

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "e2e/apimachinery/rbac_authorizer.h"
#include "e2e/localcluster/http_server.h"
#include "operator/core/json.h"
#include "operator/core/result.h"

namespace sdb::localcluster {

// The event for one request, answered with `resp` (status, and the Status body of a failure).
// `decision` (null when the request was not authenticated) becomes kube's annotations
// authorization.k8s.io/decision (allow|forbid) and authorization.k8s.io/reason.
Json auditEvent(const HttpRequest& req, const apimachinery::AuthUser& user, const apimachinery::RequestAttributes& attrs,
                const apimachinery::AuthorizationDecision* decision, const HttpResponse& resp,
                std::chrono::system_clock::time_point received);

class AuditLog {
 public:
  // Appends to `path` (created 0600 when missing).
  static Result<std::unique_ptr<AuditLog>> open(const std::string& path);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  void record(const Json& event);

 private:
  explicit AuditLog(std::FILE* file) : file_(file) {}
  std::mutex mu_;
  std::FILE* file_;
};

}  // namespace sdb::localcluster
