// What kube-apiserver's RequestInfoFactory reads from a request, for authorization and the audit log:
// resource requests under /api/v1/... and /apis/<group>/<version>/... get the verb (get or list by
// whether a name is given; watch with ?watch=true; create, update, patch, delete, deletecollection),
// group, version, resource, subresource, namespace and name; a list or watch whose fieldSelector pins
// metadata.name carries that name (so resourceNames rules can allow `kubectl wait`). Everything else
// (/api, /apis/<group>/<version>, /openapi/v3, /version, ...) is a non-resource request whose verb
// is the lower-case method.
//
// Contract: pure; thread-safe.
#pragma once

#include "e2e/apimachinery/rbac_authorizer.h"
#include "e2e/localcluster/http_server.h"

namespace sdb::localcluster {

apimachinery::RequestAttributes requestAttributes(const HttpRequest& request);

}  // namespace sdb::localcluster
