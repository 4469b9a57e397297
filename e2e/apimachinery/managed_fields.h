// Field ownership as kube-apiserver tracks it in metadata.managedFields, and server-side apply.
//
// Every write records which manager set which fields:
// - create, update and non-apply patches are "Update" operations: the manager (fieldManager, or the
//   client's user agent up to the first '/', or "unknown") gains the fields it added or changed,
//   and other managers lose them; an object that has no managedFields keeps none on update;
// - server-side apply is an "Apply" operation: the applier owns exactly the fields of its
//   configuration. Fields it applied before and no longer applies are removed from the object
//   unless another manager owns them. A field another manager owns with a different value is a
//   conflict (409, kube-apiserver's wording) unless `force`, which takes the field over.
// Entries are keyed by manager, operation, subresource and (for Update) apiVersion; at most 10
// Update entries are kept (older ones merge into "ancient-changes"). Fields of the other half of a
// status subresource split are not tracked (status on the main resource, the rest on /status).
// Applies by the manager "kubectl" keep the kubectl.kubernetes.io/last-applied-configuration
// annotation in step and may take fields that client-side apply set, as kube-apiserver does.
//
// Contract: pure functions (time comes in as a string); thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "e2e/apimachinery/field_set.h"
#include "e2e/apimachinery/type_schema.h"
#include "operator/kube/api_error.h"

namespace sdb::apimachinery {

// What one write operation needs to know about the object's kind and the request.
struct FieldManagerScope {
  TypeRef type;
  std::string apiVersion;      // "apps/v1"
  std::string kind;            // "Deployment"
  std::string subresource;     // "" or "status"
  bool statusSubresource = false;
  std::string now;             // RFC 3339, for entry times
  std::string objectName;      // "ns/name", for error messages
  Json emptyObject;            // emptyObjectFor() the kind
};

// Records an Update by `manager` from `live` to `next` (create: `live` is emptyObjectFor()). Returns
// the managedFields `next` gets (null for none). `next` may carry managedFields sent by the client:
// they are used as the starting point (unless this is a subresource), an empty list resets them.
// Never fails: on an ill-formed object the live managedFields are kept, as kube-apiserver does.
Json trackUpdate(const Json& live, const Json& next, const std::string& manager, const FieldManagerScope& scope,
                 bool creating);

// Server-side apply of `config` by `manager` onto `live` (emptyObjectFor() when the object does not
// exist yet). Returns the new object with its managedFields (unchanged content when the apply
// changes nothing), or 400 (bad configuration), 409 (conflicts) or 500 (schema errors, worded as
// kube-apiserver words them).
kube::KResult<Json> applyConfiguration(const Json& live, const Json& config, const std::string& manager, bool force,
                                       const FieldManagerScope& scope);

// Validates fieldManager as kube-apiserver does (at most 128 printable characters; required for
// apply). Returns the field errors (empty when valid).
std::vector<kube::StatusCause> validateFieldManager(const std::string& fieldManager, bool apply);

// The manager name kube-apiserver derives from a User-Agent: everything before the first '/'.
std::string managerFromUserAgent(const std::string& userAgent);

// True when two managedFields lists differ only in their entries' times.
bool sameOwnership(const Json& a, const Json& b);

}  // namespace sdb::apimachinery
