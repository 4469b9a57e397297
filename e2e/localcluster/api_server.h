// The Kubernetes REST face of the store: authentication, authorization (RBAC, rbac_authorizer.h),
// the audit log, routing of /api and /apis paths to the store, discovery (legacy and aggregated),
// OpenAPI v3, Table output for kubectl, and chunked watches.
//
// Identities: the admin token is user "admin" in group system:masters and bypasses authorization (as
// kube's system:masters does); a ServiceAccount token is system:serviceaccount:<ns>:<name> and is
// authorized by the RBAC objects in the store. /admin/* is for the admin token alone.
//
// Contract: handle() is thread-safe (it runs on each connection's thread); watch responses stream
// from that thread until the watch ends, the client leaves or the server stops.
#pragma once

#include <atomic>
#include <string>

#include "e2e/apimachinery/pod_logs.h"
#include "e2e/apimachinery/rbac_authorizer.h"
#include "e2e/apimachinery/service_account_tokens.h"
#include "e2e/apimachinery/store.h"
#include "e2e/localcluster/audit_log.h"
#include "e2e/localcluster/faults.h"
#include "e2e/localcluster/http_server.h"

namespace sdb::localcluster {

struct ApiServerOptions {
  std::string adminToken;          // bearer token that may do everything
  // ServiceAccount tokens (TokenRequest and their authentication); null: admin token only.
  const apimachinery::ServiceAccountTokens* serviceAccountTokens = nullptr;
  AuditLog* audit = nullptr;       // one line per request (audit_log.h); null: none
  apimachinery::PodLogSource* podLogs = nullptr;  // pods/log (the local node); null: 404
  std::string serverAddress;       // "127.0.0.1:6443", for /api's serverAddressByClientCIDRs
  int bookmarkIntervalSeconds = 5;
  int defaultWatchTimeoutSeconds = 1800;
  FaultInjector* faults = nullptr;  // faults on demand (faults.h); null: none, and no /admin/faults
  HttpHandler restart;              // /admin/restart (restart.h); null: 404
};

class ApiServer {
 public:
  ApiServer(apimachinery::Store& store, ApiServerOptions options) : store_(store), options_(std::move(options)) {}
  HttpResponse handle(const HttpRequest& request);
  void stop() { stopping_ = true; }

 private:
  HttpResponse serve(const HttpRequest& req, bool admin);
  HttpResponse serveResource(const HttpRequest& req, const std::vector<std::string>& segs, size_t versionIndex);
  HttpResponse watch(const HttpRequest& req, const apimachinery::ResourceInfo& info, const std::string& ns, bool table);
  HttpResponse podLog(const HttpRequest& req, const std::string& ns, const std::string& name);

  apimachinery::Store& store_;
  ApiServerOptions options_;
  std::atomic<bool> stopping_{false};
};

// Discovery and OpenAPI documents (discovery.cpp, openapi.cpp) and tables (table.cpp).
Json legacyApiVersions(const std::string& serverAddress);
Json legacyGroupList(const apimachinery::Registry& registry);
Json legacyResourceList(const apimachinery::Registry& registry, const std::string& group, const std::string& version);
Json aggregatedDiscovery(const apimachinery::Registry& registry, bool coreGroup, const std::string& apiVersion);
Json openApiRoot(const apimachinery::Registry& registry);
Json openApiGroupVersion(const apimachinery::Registry& registry, const std::string& group, const std::string& version);
Json toTable(const apimachinery::ResourceInfo& info, const Json& objectOrList, bool includeObject);

}  // namespace sdb::localcluster
