// Helpers over unstructured objects: finalizers, owner references (controller refs), keys, and the
// writes that use them.
//
// Finalizer writes are JSON patches that first `test` metadata.resourceVersion, so a patch built from
// a stale copy fails with Conflict instead of clobbering someone else's finalizer list.
//
// Contract: pure functions are thread-safe; the write helpers call the given client (thread-safe).
#pragma once

#include <optional>
#include <string>

#include "operator/core/json.h"
#include "operator/kube/client.h"

namespace sdb::runtime {

// "ns/name", or "name" for cluster-scoped objects.
std::string objectKey(const Json& obj);
std::string objectKey(const std::string& ns, const std::string& name);
// Splits a key back into namespace and name.
std::pair<std::string, std::string> splitKey(const std::string& key);

bool hasFinalizer(const Json& obj, const std::string& finalizer);
// Adds / removes the finalizer on the server (no-op when already in the wanted state). Returns the
// object as the server answered, or `obj` unchanged when nothing had to be written.
kube::KResult<Json> ensureFinalizer(kube::KubeClient& client, const kube::ResourceRef& ref, const Json& obj,
                                    const std::string& finalizer, const std::string& fieldManager);
kube::KResult<Json> removeFinalizer(kube::KubeClient& client, const kube::ResourceRef& ref, const Json& obj,
                                    const std::string& finalizer, const std::string& fieldManager);

// An ownerReference naming `owner` as the controller (controller=true, blockOwnerDeletion=true).
Json controllerReference(const Json& owner);
// Sets the controller ref on `child` (replacing an existing one for the same UID). Fails (returns
// false) if another object is already its controller.
bool setControllerReference(const Json& owner, Json& child);
// The ownerReference with controller=true, if any.
std::optional<Json> controllerOf(const Json& obj);

}  // namespace sdb::runtime
