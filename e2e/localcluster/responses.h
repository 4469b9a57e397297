// The HTTP face's small response and request helpers (api_server, api_streams, request attributes, the
// admin endpoints): JSON bodies, metav1.Status errors, query booleans as Go's strconv.ParseBool reads them,
// path segments, Table's content type.
//
// Contract: pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "e2e/localcluster/http_server.h"
#include "operator/core/json.h"
#include "operator/kube/api_error.h"

namespace sdb::localcluster::responses {

HttpResponse json(int status, const Json& body, const std::string& contentType = "application/json");
HttpResponse error(const kube::ApiError& e);
// An error with kube-apiserver's reason for the code and `message`.
HttpResponse errorOf(int code, const std::string& reason, const std::string& message);
// Query booleans as Go's strconv.ParseBool reads them (the Python client sends "True").
bool boolParam(const HttpRequest& req, const std::string& name);
// A request path's non-empty segments: "/api/v1/pods" -> {"api", "v1", "pods"}.
std::vector<std::string> pathSegments(const std::string& path);

inline const char* const kTableType = "application/json;as=Table;v=v1;g=meta.k8s.io";

}  // namespace sdb::localcluster::responses
