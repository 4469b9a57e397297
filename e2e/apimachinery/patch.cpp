#include "e2e/apimachinery/patch.h"

namespace sdb::apimachinery {

Json applyMergePatch(const Json& target, const Json& patch) {
  if (!patch.is_object()) return patch;
  Json out = target.is_object() ? target : Json::object();
  for (const auto& [k, v] : patch.items()) {
    if (v.is_null()) {
      out.erase(k);
    } else {
      out[k] = applyMergePatch(out.contains(k) ? out[k] : Json(nullptr), v);
    }
  }
  return out;
}

Result<Json> applyJsonPatch(const Json& target, const Json& operations) {
  if (!operations.is_array()) return invalidArgument("a JSON patch must be an array of operations");
  // nlohmann implements RFC 6902 (add, remove, replace, move, copy, test).
  try {
    return target.patch(operations);
  } catch (const Json::exception& e) {
    return invalidArgument(std::string("the JSON patch could not be applied: ") + e.what());
  }
}

}  // namespace sdb::apimachinery
