// Structural-schema checks, pruning, defaulting and JSONPath lookup of schema nodes.
#include <regex>
#include <set>

#include "operator/schema/structural_schema.h"

namespace sdb::schema {
namespace {

std::string child(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

bool preservesUnknown(const Json& s) { return s.value("x-kubernetes-preserve-unknown-fields", false); }

void checkNode(const Json& s, const std::string& path, bool isRoot, bool isItems, std::vector<FieldError>* errors) {
  if (!s.is_object()) {
    errors->push_back({"FieldValueInvalid", path, "Invalid value: a schema must be an object"});
    return;
  }
  static const std::set<std::string> kKeywords = {
      "id", "$schema", "$ref", "description", "type", "format", "title", "default", "maximum", "exclusiveMaximum",
      "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
      "multipleOf", "enum", "maxProperties", "minProperties", "required", "items", "allOf", "oneOf", "anyOf", "not",
      "properties", "additionalProperties", "patternProperties", "dependencies", "additionalItems", "definitions",
      "externalDocs", "example", "nullable", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
      "x-kubernetes-int-or-string", "x-kubernetes-list-map-keys", "x-kubernetes-list-type", "x-kubernetes-map-type",
      "x-kubernetes-validations"};
  for (const auto& [key, _] : s.items()) {
    if (!kKeywords.count(key)) {
      // kube-apiserver decodes JSONSchemaProps strictly: a stray key is a typo or a YAML slip.
      errors->push_back({"FieldValueNotSupported", path, "unknown field \"" + key + "\""});
    }
  }
  const bool intOrString = s.value("x-kubernetes-int-or-string", false);
  if (!s.contains("type") && !intOrString && !preservesUnknown(s)) {
    errors->push_back({"FieldValueRequired", child(path, "type"),
                       std::string("Required value: must not be empty for specified ") +
                           (isItems ? "array items" : isRoot ? "root" : "object fields")});
  }
  if (intOrString && s.contains("type")) {
    errors->push_back({"FieldValueForbidden", child(path, "type"),
                       "Forbidden: must be empty if x-kubernetes-int-or-string is true"});
  }
  if (s.contains("properties") && s.contains("additionalProperties")) {
    errors->push_back({"FieldValueForbidden", child(path, "additionalProperties"),
                       "Forbidden: additionalProperties and properties are mutual exclusive"});
  }
  if (s.contains("additionalProperties") && s["additionalProperties"].is_boolean() && !s["additionalProperties"].get<bool>()) {
    errors->push_back({"FieldValueForbidden", child(path, "additionalProperties"),
                       "Forbidden: must not be false (unknown fields are pruned instead)"});
  }
  if (s.value("type", "") == "array" && (!s.contains("items") || !s["items"].is_object())) {
    errors->push_back({"FieldValueRequired", child(path, "items"), "Required value: must be specified"});
  }
  if (s.value("type", "") == "object" && s.contains("items")) {
    errors->push_back({"FieldValueForbidden", child(path, "items"), "Forbidden: must not be specified for objects"});
  }
  // Logical junctors hold value validations only.
  for (const char* junctor : {"allOf", "anyOf", "oneOf"}) {
    if (!s.contains(junctor)) continue;
    size_t i = 0;
    for (const auto& sub : s[junctor]) {
      for (const char* forbidden : {"description", "default", "nullable", "x-kubernetes-preserve-unknown-fields",
                                    "additionalProperties", "properties"}) {
        if (sub.is_object() && sub.contains(forbidden)) {
          errors->push_back({"FieldValueForbidden",
                             path + "." + junctor + "[" + std::to_string(i) + "]." + forbidden,
                             "Forbidden: must be empty to be structural"});
        }
      }
      if (sub.is_object() && sub.contains("type") && !intOrString) {
        errors->push_back({"FieldValueForbidden", path + "." + junctor + "[" + std::to_string(i) + "].type",
                           "Forbidden: must be empty to be structural"});
      }
      ++i;
    }
  }
  if (s.contains("properties") && s["properties"].is_object()) {
    for (const auto& [k, sub] : s["properties"].items()) {
      const std::string subPath = path + ".properties[" + k + "]";
      if (isRoot && k == "metadata") {
        // Only metadata.name and metadata.generateName may be restricted, and only as strings.
        if (sub.contains("properties")) {
          for (const auto& [mk, _] : sub["properties"].items()) {
            if (mk != "name" && mk != "generateName") {
              errors->push_back({"FieldValueForbidden", subPath + ".properties[" + mk + "]",
                                 "Forbidden: must not be specified in the metadata of the root"});
            }
          }
        }
        if (sub.contains("type") && sub["type"] != "object") {
          errors->push_back({"FieldValueInvalid", subPath + ".type", "Invalid value: must be object at the root"});
        }
        continue;
      }
      checkNode(sub, subPath, false, false, errors);
    }
  }
  if (s.contains("additionalProperties") && s["additionalProperties"].is_object()) {
    checkNode(s["additionalProperties"], path + ".additionalProperties", false, false, errors);
  }
  if (s.contains("items") && s["items"].is_object()) checkNode(s["items"], path + ".items", false, true, errors);
  if (s.contains("default")) {
    std::vector<FieldError> defaultErrors;
    validateValue(s, s["default"], path + ".default", &defaultErrors);
    for (auto& e : defaultErrors) errors->push_back(std::move(e));
  }
}

void pruneValue(const Json& s, Json& v, const std::string& path, std::vector<std::string>* pruned, bool isRoot) {
  if (!s.is_object() || s.value("x-kubernetes-int-or-string", false)) return;
  if (v.is_object()) {
    const Json* props = s.contains("properties") ? &s["properties"] : nullptr;
    const Json* additional =
        s.contains("additionalProperties") && s["additionalProperties"].is_object() ? &s["additionalProperties"] : nullptr;
    const bool keepUnknown = preservesUnknown(s) || (s.contains("additionalProperties") && s["additionalProperties"] == true);
    const bool embedded = s.value("x-kubernetes-embedded-resource", false);
    for (auto it = v.begin(); it != v.end();) {
      const std::string key = it.key();
      const std::string sub = child(path, key);
      if ((isRoot || embedded) && (key == "apiVersion" || key == "kind" || key == "metadata")) {
        if (props && props->contains(key) && key != "metadata") pruneValue((*props)[key], it.value(), sub, pruned, false);
        ++it;
        continue;
      }
      const Json* subSchema = props && props->contains(key) ? &(*props)[key] : additional;
      if (!subSchema) {
        if (keepUnknown) {
          ++it;
          continue;
        }
        if (pruned) pruned->push_back(sub);
        it = v.erase(it);
        continue;
      }
      if (it.value().is_null() && !subSchema->value("nullable", false)) {
        it = v.erase(it);  // kube-apiserver drops nulls of non-nullable fields
        continue;
      }
      pruneValue(*subSchema, it.value(), additional == subSchema ? path + "[" + key + "]" : sub, pruned, false);
      ++it;
    }
  } else if (v.is_array() && s.contains("items") && s["items"].is_object()) {
    for (size_t i = 0; i < v.size(); ++i) {
      pruneValue(s["items"], v[i], path + "[" + std::to_string(i) + "]", pruned, false);
    }
  }
}

void defaultValue(const Json& s, Json& v) {
  if (!s.is_object()) return;
  if (v.is_object()) {
    if (s.contains("properties")) {
      for (const auto& [k, sub] : s["properties"].items()) {
        if (!v.contains(k) && sub.contains("default")) v[k] = sub["default"];
        if (v.contains(k)) defaultValue(sub, v[k]);
      }
    }
    if (s.contains("additionalProperties") && s["additionalProperties"].is_object()) {
      for (auto& [k, x] : v.items()) {
        (void)k;
        defaultValue(s["additionalProperties"], x);
      }
    }
  } else if (v.is_array() && s.contains("items")) {
    for (auto& x : v) defaultValue(s["items"], x);
  }
}

}  // namespace

StructuralSchema::StructuralSchema(Json schema) : schema_(std::move(schema)), rootWithoutMetadata_(schema_) {
  if (rootWithoutMetadata_.contains("properties")) rootWithoutMetadata_["properties"].erase("metadata");
}

std::vector<FieldError> StructuralSchema::structuralErrors(const Json& schema, const std::string& pathPrefix) {
  std::vector<FieldError> errors;
  checkNode(schema, pathPrefix, true, false, &errors);
  return errors;
}

Result<StructuralSchema> StructuralSchema::fromJson(const Json& schema, const std::string& pathPrefix) {
  auto errors = structuralErrors(schema, pathPrefix);
  if (!errors.empty()) {
    std::string msg = "schema is not structural: ";
    for (size_t i = 0; i < errors.size(); ++i) msg += (i ? "; " : "") + errors[i].toString();
    return invalidArgument(msg);
  }
  return StructuralSchema(schema);
}

void StructuralSchema::prune(Json& object, std::vector<std::string>* pruned) const {
  pruneValue(schema_, object, "", pruned, true);
}

void StructuralSchema::applyDefaults(Json& object) const { defaultValue(schema_, object); }

const Json* StructuralSchema::nodeAtJsonPath(const std::string& jsonPath) const {
  // Steps: ".name", "[N]", "[*]", "[?(...)]" (a filter keeps the element schema).
  static const std::regex step(R"(^(\.([A-Za-z0-9_\-]+)|\[[^\]]*\]))");
  const Json* node = &schema_;
  std::string rest = jsonPath;
  if (rest.size() >= 2 && rest.front() == '{' && rest.back() == '}') rest = rest.substr(1, rest.size() - 2);
  while (!rest.empty()) {
    std::smatch m;
    if (!std::regex_search(rest, m, step)) return nullptr;
    if (m[2].matched) {
      const std::string key = m[2].str();
      static const Json kObjectMeta = Json{{"x-kubernetes-preserve-unknown-fields", true}};
      if (node == &schema_ && key == "metadata") {
        node = &kObjectMeta;  // ObjectMeta: every field of it exists
      } else if (node->contains("properties") && (*node)["properties"].contains(key)) {
        node = &(*node)["properties"][key];
      } else if (node->contains("additionalProperties") && (*node)["additionalProperties"].is_object()) {
        node = &(*node)["additionalProperties"];
      } else if (preservesUnknown(*node)) {
        return node;
      } else {
        return nullptr;
      }
    } else {
      if (!node->contains("items")) return nullptr;
      node = &(*node)["items"];
    }
    rest = m.suffix();
  }
  return node;
}

}  // namespace sdb::schema
