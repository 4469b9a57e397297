#include "e2e/localcluster/request_attributes.h"

#include "e2e/localcluster/responses.h"

#include <algorithm>
#include <sstream>

namespace sdb::localcluster {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool truthy(const std::string& v) { return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True"; }

// "metadata.name=x" (or ==) among a field selector's terms.
std::string pinnedName(const std::string& selector) {
  std::stringstream ss(selector);
  std::string term;
  while (std::getline(ss, term, ',')) {
    for (const char* prefix : {"metadata.name==", "metadata.name="}) {
      if (term.rfind(prefix, 0) == 0) return term.substr(std::string(prefix).size());
    }
  }
  return "";
}

}  // namespace

apimachinery::RequestAttributes requestAttributes(const HttpRequest& req) {
  apimachinery::RequestAttributes a;
  a.path = req.path;
  a.resourceRequest = false;
  a.verb = lower(req.method);
  auto parts = responses::pathSegments(req.path);
  size_t first;
  if (parts.size() >= 3 && parts[0] == "api") {
    a.apiVersion = parts[1];
    first = 2;
  } else if (parts.size() >= 4 && parts[0] == "apis") {
    a.apiGroup = parts[1];
    a.apiVersion = parts[2];
    first = 3;
  } else {
    a.apiGroup.clear();
    return a;
  }
  std::vector<std::string> rest(parts.begin() + static_cast<long>(first), parts.end());
  bool watchPath = false;
  if (!rest.empty() && rest[0] == "watch") {  // the deprecated /watch/ prefix
    watchPath = true;
    rest.erase(rest.begin());
  }
  if (!rest.empty() && rest[0] == "namespaces" && rest.size() > 1) {
    a.ns = rest[1];
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize") rest.erase(rest.begin(), rest.begin() + 2);
  }
  if (rest.empty()) return a;
  a.resourceRequest = true;
  a.resource = rest[0];
  if (rest.size() >= 2) a.name = rest[1];
  if (rest.size() >= 3) a.subresource = rest[2];
  const std::string& m = req.method;
  if (m == "GET" || m == "HEAD") a.verb = "get";
  else if (m == "POST") a.verb = "create";
  else if (m == "PUT") a.verb = "update";
  else if (m == "PATCH") a.verb = "patch";
  else if (m == "DELETE") a.verb = "delete";
  if (watchPath) a.verb = "watch";
  if (a.verb == "get" && a.name.empty()) a.verb = truthy(req.param("watch")) ? "watch" : "list";
  if (a.verb == "delete" && a.name.empty()) a.verb = "deletecollection";
  if ((a.verb == "list" || a.verb == "watch") && a.name.empty()) a.name = pinnedName(req.param("fieldSelector"));
  return a;
}

}  // namespace sdb::localcluster
