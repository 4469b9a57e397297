// Typed Kubernetes API errors, shared by the client (decoding a server's metav1.Status) and by the
// local cluster's store (producing one). One definition, so the fake cannot drift from the server.
//
// Contract: plain value types; functions are pure and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "operator/core/json.h"
#include "operator/core/result.h"

namespace sdb::kube {

enum class ApiErrorReason {
  kNotFound,         // 404 NotFound
  kAlreadyExists,    // 409 AlreadyExists
  kConflict,         // 409 Conflict (stale resourceVersion, SSA field conflict)
  kGone,             // 410 Expired/Gone (resourceVersion too old)
  kInvalid,          // 422 Invalid, with field causes
  kBadRequest,       // 400 BadRequest
  kForbidden,        // 403 Forbidden
  kUnauthorized,     // 401 Unauthorized
  kMethodNotAllowed, // 405 MethodNotAllowed
  kUnsupportedMediaType,  // 415
  kTooManyRequests,  // 429 TooManyRequests (Retry-After honoured)
  kServerError,      // 5xx InternalError / ServiceUnavailable
  kTimeout,          // 504 or a client-side deadline
  kNetwork,          // no HTTP answer at all (refused, reset, TLS failure)
};

// One entry of metav1.StatusCause: {"reason":"FieldValueInvalid","message":"...","field":"spec.x"}.
struct StatusCause {
  std::string reason;
  std::string message;
  std::string field;
};

struct ApiError {
  ApiErrorReason reason = ApiErrorReason::kServerError;
  int httpCode = 500;
  std::string message;              // metav1.Status.message, as kube-apiserver words it
  std::vector<StatusCause> causes;  // metav1.Status.details.causes
  std::string kind, name, group;    // metav1.Status.details.{kind,name,group} when known
  std::optional<int> retryAfterSeconds;

  bool is(ApiErrorReason r) const { return reason == r; }
  // True for 429, 5xx, timeouts and network errors: worth retrying with backoff.
  bool retryable() const;
  std::string toString() const;
  // A core Error for layers that do not care about Kubernetes detail.
  Error toError() const;
};

template <class T>
using KResult = Result<T, ApiError>;
using KStatus = Result<void, ApiError>;

// metav1.Status `reason` strings ("NotFound", "AlreadyExists", "Conflict", "Expired", "Invalid", ...).
const char* statusReasonString(ApiErrorReason reason);
// The HTTP status code kube-apiserver uses for a reason.
int defaultHttpCode(ApiErrorReason reason);

// Encodes as a metav1.Status object {"kind":"Status","apiVersion":"v1","status":"Failure",...}.
Json toStatusJson(const ApiError& error);
// Decodes a server answer. `body` may be a metav1.Status or anything else (then the code decides).
ApiError fromHttpResponse(int httpCode, const std::string& body, std::optional<int> retryAfterSeconds = std::nullopt);

// Constructors worded as kube-apiserver words them, e.g.
//   notFoundError("servicedatabases", "servicedb.io", "orders")
//   -> servicedatabases.servicedb.io "orders" not found
ApiError notFoundError(const std::string& resource, const std::string& group, const std::string& name);
ApiError alreadyExistsError(const std::string& resource, const std::string& group, const std::string& name);
// "Operation cannot be fulfilled on servicedatabases.servicedb.io \"orders\": <detail>"
ApiError conflictError(const std::string& resource, const std::string& group, const std::string& name,
                       const std::string& detail);
// `kind` is the Kind ("ServiceDatabase"); message: `ServiceDatabase.servicedb.io "orders" is invalid: <causes joined>`
ApiError invalidError(const std::string& kind, const std::string& group, const std::string& name,
                      std::vector<StatusCause> causes);
ApiError goneError(const std::string& message);
ApiError badRequestError(const std::string& message);
ApiError networkError(const std::string& message);
ApiError timeoutError(const std::string& message);

}  // namespace sdb::kube
