// JSON merge patch (RFC 7386) and JSON patch (RFC 6902), as kube-apiserver applies them.
// Contract: pure functions. Errors are worded for a 422/400 answer.
#pragma once

#include "operator/core/json.h"
#include "operator/core/result.h"

namespace sdb::apimachinery {

Json applyMergePatch(const Json& target, const Json& patch);
Result<Json> applyJsonPatch(const Json& target, const Json& operations);

}  // namespace sdb::apimachinery
