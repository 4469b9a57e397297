// YAML <-> JSON over yaml-cpp, typed as Kubernetes reads YAML (sigs.k8s.io/yaml: YAML 1.2 core
// schema for plain scalars; quoted scalars stay strings).
//
// Contract: pure functions, thread-safe. Errors name the line and column (1-based).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "operator/core/json.h"
#include "operator/core/result.h"

namespace sdb::schema {

// One document. An empty document is JSON null.
Result<Json> yamlToJson(std::string_view text);
// Every document of a stream ("---" separated); empty documents are skipped.
Result<std::vector<Json>> yamlDocumentsToJson(std::string_view text);
// Block-style YAML of a JSON value (strings that would read back as another type are quoted).
std::string jsonToYaml(const Json& value);

}  // namespace sdb::schema
