#include "operator/core/json.h"

namespace sdb {

Result<Json> parseJson(std::string_view text, std::string_view what) {
  Json out = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded()) {
    // Re-parse with exceptions only on the error path, for the position in the message.
    try {
      Json unused = Json::parse(text);
      (void)unused;
    } catch (const Json::parse_error& e) {
      return invalidArgument(std::string(what) + ": " + e.what());
    }
    return invalidArgument(std::string(what) + ": invalid JSON");
  }
  return out;
}

const Json* jsonAt(const Json& root, const std::vector<std::string>& path) {
  const Json* cur = &root;
  for (const auto& key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string jsonString(const Json& root, const std::vector<std::string>& path, const std::string& fallback) {
  const Json* j = jsonAt(root, path);
  return j && j->is_string() ? j->get<std::string>() : fallback;
}

std::string dumpJson(const Json& j, int indent) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace sdb
