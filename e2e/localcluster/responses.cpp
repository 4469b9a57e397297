#include "e2e/localcluster/responses.h"

#include <sstream>

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

std::vector<std::string> pathSegments(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream ss(path);
  std::string s;
  while (std::getline(ss, s, '/')) {
    if (!s.empty()) out.push_back(s);
  }
  return out;
}

}  // namespace sdb::localcluster::responses
