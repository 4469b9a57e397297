#include "e2e/localcluster/responses.h"

namespace sdb::localcluster::responses {

HttpResponse json(int status, const Json& body, const std::string& contentType) {
  HttpResponse r;
  r.status = status;
  r.headers = {{"Content-Type", contentType}, {"Cache-Control", "no-cache, private"}};
  r.body = dumpJson(body);
  return r;
}

HttpResponse error(const kube::ApiError& e) { return json(e.httpCode ? e.httpCode : 500, kube::toStatusJson(e)); }

HttpResponse errorOf(int code, const std::string& reason, const std::string& message) {
  kube::ApiError e = kube::fromHttpResponse(code, "");
  e.message = message;
  (void)reason;
  return error(e);
}

bool boolParam(const HttpRequest& req, const std::string& name) {
  const std::string v = req.param(name);
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}

}  // namespace sdb::localcluster::responses
