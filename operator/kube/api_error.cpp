#include "operator/kube/api_error.h"

namespace sdb::kube {

bool ApiError::retryable() const {
  switch (reason) {
    case ApiErrorReason::kTooManyRequests:
    case ApiErrorReason::kServerError:
    case ApiErrorReason::kTimeout:
    case ApiErrorReason::kNetwork:
      return true;
    default:
      return false;
  }
}

std::string ApiError::toString() const {
  return std::string(statusReasonString(reason)) + " (" + std::to_string(httpCode) + "): " + message;
}

Error ApiError::toError() const {
  ErrorCode code = ErrorCode::kInternal;
  switch (reason) {
    case ApiErrorReason::kNotFound: code = ErrorCode::kNotFound; break;
    case ApiErrorReason::kAlreadyExists: code = ErrorCode::kAlreadyExists; break;
    case ApiErrorReason::kConflict: code = ErrorCode::kConflict; break;
    case ApiErrorReason::kInvalid:
    case ApiErrorReason::kBadRequest: code = ErrorCode::kInvalidArgument; break;
    case ApiErrorReason::kForbidden:
    case ApiErrorReason::kUnauthorized: code = ErrorCode::kPermissionDenied; break;
    case ApiErrorReason::kTimeout: code = ErrorCode::kTimeout; break;
    case ApiErrorReason::kNetwork:
    case ApiErrorReason::kTooManyRequests:
    case ApiErrorReason::kServerError: code = ErrorCode::kUnavailable; break;
    case ApiErrorReason::kGone: code = ErrorCode::kFailedPrecondition; break;
    default: break;
  }
  return Error(code, toString());
}

const char* statusReasonString(ApiErrorReason reason) {
  switch (reason) {
    case ApiErrorReason::kNotFound: return "NotFound";
    case ApiErrorReason::kAlreadyExists: return "AlreadyExists";
    case ApiErrorReason::kConflict: return "Conflict";
    case ApiErrorReason::kGone: return "Expired";
    case ApiErrorReason::kInvalid: return "Invalid";
    case ApiErrorReason::kBadRequest: return "BadRequest";
    case ApiErrorReason::kForbidden: return "Forbidden";
    case ApiErrorReason::kUnauthorized: return "Unauthorized";
    case ApiErrorReason::kMethodNotAllowed: return "MethodNotAllowed";
    case ApiErrorReason::kUnsupportedMediaType: return "UnsupportedMediaType";
    case ApiErrorReason::kTooManyRequests: return "TooManyRequests";
    case ApiErrorReason::kServerError: return "InternalError";
    case ApiErrorReason::kTimeout: return "Timeout";
    case ApiErrorReason::kNetwork: return "NetworkError";
  }
  return "Unknown";
}

int defaultHttpCode(ApiErrorReason reason) {
  switch (reason) {
    case ApiErrorReason::kNotFound: return 404;
    case ApiErrorReason::kAlreadyExists:
    case ApiErrorReason::kConflict: return 409;
    case ApiErrorReason::kGone: return 410;
    case ApiErrorReason::kInvalid: return 422;
    case ApiErrorReason::kBadRequest: return 400;
    case ApiErrorReason::kForbidden: return 403;
    case ApiErrorReason::kUnauthorized: return 401;
    case ApiErrorReason::kMethodNotAllowed: return 405;
    case ApiErrorReason::kUnsupportedMediaType: return 415;
    case ApiErrorReason::kTooManyRequests: return 429;
    case ApiErrorReason::kServerError: return 500;
    case ApiErrorReason::kTimeout: return 504;
    case ApiErrorReason::kNetwork: return 0;
  }
  return 500;
}

Json toStatusJson(const ApiError& e) {
  Json status = {{"kind", "Status"},     {"apiVersion", "v1"},          {"metadata", Json::object()},
                 {"status", "Failure"},  {"message", e.message},        {"reason", statusReasonString(e.reason)},
                 {"code", e.httpCode}};
  Json details = Json::object();
  if (!e.name.empty()) details["name"] = e.name;
  if (!e.group.empty()) details["group"] = e.group;
  if (!e.kind.empty()) details["kind"] = e.kind;
  if (!e.causes.empty()) {
    Json causes = Json::array();
    for (const auto& c : e.causes) causes.push_back({{"reason", c.reason}, {"message", c.message}, {"field", c.field}});
    details["causes"] = causes;
  }
  if (e.retryAfterSeconds) details["retryAfterSeconds"] = *e.retryAfterSeconds;
  if (!details.empty()) status["details"] = details;
  return status;
}

namespace {

ApiErrorReason reasonFromCode(int code) {
  switch (code) {
    case 400: return ApiErrorReason::kBadRequest;
    case 401: return ApiErrorReason::kUnauthorized;
    case 403: return ApiErrorReason::kForbidden;
    case 404: return ApiErrorReason::kNotFound;
    case 405: return ApiErrorReason::kMethodNotAllowed;
    case 409: return ApiErrorReason::kConflict;
    case 410: return ApiErrorReason::kGone;
    case 415: return ApiErrorReason::kUnsupportedMediaType;
    case 422: return ApiErrorReason::kInvalid;
    case 429: return ApiErrorReason::kTooManyRequests;
    case 504: return ApiErrorReason::kTimeout;
    default: return code >= 500 ? ApiErrorReason::kServerError : ApiErrorReason::kBadRequest;
  }
}

}  // namespace

ApiError fromHttpResponse(int httpCode, const std::string& body, std::optional<int> retryAfterSeconds) {
  ApiError e;
  e.httpCode = httpCode;
  e.reason = reasonFromCode(httpCode);
  e.retryAfterSeconds = retryAfterSeconds;
  auto parsed = parseJson(body);
  if (parsed.ok() && parsed->is_object() && parsed->value("kind", "") == "Status") {
    const Json& s = *parsed;
    e.message = s.value("message", "");
    std::string reason = s.value("reason", "");
    if (reason == "AlreadyExists") e.reason = ApiErrorReason::kAlreadyExists;
    if (reason == "Expired" || reason == "Gone") e.reason = ApiErrorReason::kGone;
    if (const Json* d = jsonAt(s, {"details"}); d && d->is_object()) {
      e.name = d->value("name", "");
      e.group = d->value("group", "");
      e.kind = d->value("kind", "");
      if (d->contains("retryAfterSeconds") && (*d)["retryAfterSeconds"].is_number_integer() && !e.retryAfterSeconds) {
        e.retryAfterSeconds = (*d)["retryAfterSeconds"].get<int>();
      }
      if (d->contains("causes") && (*d)["causes"].is_array()) {
        for (const auto& c : (*d)["causes"]) {
          if (c.is_object()) e.causes.push_back({c.value("reason", ""), c.value("message", ""), c.value("field", "")});
        }
      }
    }
  } else {
    e.message = body.size() > 512 ? body.substr(0, 512) + "..." : body;
  }
  if (e.message.empty()) e.message = "the server responded with HTTP " + std::to_string(httpCode);
  return e;
}

namespace {

std::string qualified(const std::string& resource, const std::string& group) {
  return group.empty() ? resource : resource + "." + group;
}

ApiError make(ApiErrorReason r, std::string message) {
  ApiError e;
  e.reason = r;
  e.httpCode = defaultHttpCode(r);
  e.message = std::move(message);
  return e;
}

}  // namespace

ApiError notFoundError(const std::string& resource, const std::string& group, const std::string& name) {
  ApiError e = make(ApiErrorReason::kNotFound, qualified(resource, group) + " \"" + name + "\" not found");
  e.name = name;
  e.group = group;
  e.kind = resource;
  return e;
}

ApiError alreadyExistsError(const std::string& resource, const std::string& group, const std::string& name) {
  ApiError e = make(ApiErrorReason::kAlreadyExists, qualified(resource, group) + " \"" + name + "\" already exists");
  e.name = name;
  e.group = group;
  e.kind = resource;
  return e;
}

ApiError conflictError(const std::string& resource, const std::string& group, const std::string& name,
                       const std::string& detail) {
  ApiError e = make(ApiErrorReason::kConflict,
                    "Operation cannot be fulfilled on " + qualified(resource, group) + " \"" + name + "\": " + detail);
  e.name = name;
  e.group = group;
  e.kind = resource;
  return e;
}

ApiError invalidError(const std::string& kind, const std::string& group, const std::string& name,
                      std::vector<StatusCause> causes) {
  std::string joined;
  for (size_t i = 0; i < causes.size(); ++i) {
    if (i) joined += ", ";
    joined += causes[i].field.empty() ? causes[i].message : causes[i].field + ": " + causes[i].message;
  }
  std::string head = qualified(kind, group) + " \"" + name + "\" is invalid: ";
  if (causes.size() > 1) joined = "[" + joined + "]";
  ApiError e = make(ApiErrorReason::kInvalid, head + joined);
  e.name = name;
  e.group = group;
  e.kind = kind;
  e.causes = std::move(causes);
  return e;
}

ApiError goneError(const std::string& message) { return make(ApiErrorReason::kGone, message); }
ApiError badRequestError(const std::string& message) { return make(ApiErrorReason::kBadRequest, message); }
ApiError networkError(const std::string& message) { return make(ApiErrorReason::kNetwork, message); }
ApiError timeoutError(const std::string& message) { return make(ApiErrorReason::kTimeout, message); }

}  // namespace sdb::kube
