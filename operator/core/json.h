// JSON helpers over nlohmann_json. Parsing never throws: errors come back as values.
//
// Contract: pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "operator/core/result.h"

namespace sdb {

using Json = nlohmann::json;

// Parses text; on failure the error names the byte offset, prefixed by `what` (e.g. "request body").
Result<Json> parseJson(std::string_view text, std::string_view what = "JSON");

// Follows object keys; returns nullptr when any step is missing or not an object.
const Json* jsonAt(const Json& root, const std::vector<std::string>& path);

// String at path, or fallback when missing or not a string.
std::string jsonString(const Json& root, const std::vector<std::string>& path, const std::string& fallback = "");

// Serialises without throwing on invalid UTF-8 (replaces it), for logs and wire output.
std::string dumpJson(const Json& j, int indent = -1);

}  // namespace sdb
