// Request attributes as kube-apiserver's RequestInfoFactory reads them.
#include "e2e/localcluster/request_attributes.h"

#include <gtest/gtest.h>

namespace sdb::localcluster {
namespace {

HttpRequest req(const std::string& method, const std::string& path, std::map<std::string, std::string> query = {}) {
  HttpRequest r;
  r.method = method;
  r.path = path;
  r.query = std::move(query);
  return r;
}

std::string describe(const apimachinery::RequestAttributes& a) {
  if (!a.resourceRequest) return a.verb + " path " + a.path;
  return a.verb + " " + a.apiGroup + "/" + a.apiVersion + " " + a.resource + (a.subresource.empty() ? "" : "/" + a.subresource) +
         " ns=" + a.ns + " name=" + a.name;
}

TEST(RequestAttributes, Table) {
  struct Case {
    HttpRequest r;
    std::string want;
  } cases[] = {
      {req("GET", "/api/v1/namespaces/a/secrets/x"), "get /v1 secrets ns=a name=x"},
      {req("GET", "/api/v1/namespaces/a/secrets"), "list /v1 secrets ns=a name="},
      {req("GET", "/api/v1/secrets"), "list /v1 secrets ns= name="},
      {req("GET", "/api/v1/namespaces/a/secrets", {{"watch", "true"}}), "watch /v1 secrets ns=a name="},
      {req("GET", "/apis/servicedb.io/v1alpha1/namespaces/a/servicedatabases", {{"watch", "1"}, {"fieldSelector", "metadata.name=o"}}),
       "watch servicedb.io/v1alpha1 servicedatabases ns=a name=o"},
      {req("PUT", "/apis/servicedb.io/v1alpha1/namespaces/a/servicedatabases/o/status"),
       "update servicedb.io/v1alpha1 servicedatabases/status ns=a name=o"},
      {req("PATCH", "/api/v1/namespaces/a/secrets/x"), "patch /v1 secrets ns=a name=x"},
      {req("POST", "/api/v1/namespaces/a/serviceaccounts/sa/token"), "create /v1 serviceaccounts/token ns=a name=sa"},
      {req("POST", "/api/v1/namespaces/a/events"), "create /v1 events ns=a name="},
      {req("DELETE", "/api/v1/namespaces/a/pods/p"), "delete /v1 pods ns=a name=p"},
      {req("DELETE", "/api/v1/namespaces/a/pods"), "deletecollection /v1 pods ns=a name="},
      {req("GET", "/api/v1/namespaces/a/pods/p/log"), "get /v1 pods/log ns=a name=p"},
      {req("GET", "/api/v1/namespaces/a"), "get /v1 namespaces ns=a name=a"},
      {req("PUT", "/api/v1/namespaces/a/finalize"), "update /v1 namespaces/finalize ns=a name=a"},
      {req("GET", "/api/v1/namespaces"), "list /v1 namespaces ns= name="},
      {req("GET", "/apis/storage.k8s.io/v1/storageclasses/standard"), "get storage.k8s.io/v1 storageclasses ns= name=standard"},
      {req("GET", "/api"), "get path /api"},
      {req("GET", "/api/v1"), "get path /api/v1"},
      {req("GET", "/apis/apps/v1"), "get path /apis/apps/v1"},
      {req("GET", "/openapi/v3"), "get path /openapi/v3"},
      {req("POST", "/admin/faults"), "post path /admin/faults"},
  };
  for (const auto& c : cases) EXPECT_EQ(describe(requestAttributes(c.r)), c.want) << c.r.method << " " << c.r.path;
}

}  // namespace
}  // namespace sdb::localcluster
