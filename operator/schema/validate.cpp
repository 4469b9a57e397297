// Value validation: types, enum, formats, bounds, lists and maps, with kube-apiserver's wording.
#include <cmath>
#include <regex>
#include <set>

#include "operator/core/clock.h"
#include "operator/schema/structural_schema.h"

namespace sdb::schema {
namespace {

std::string child(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
std::string index(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }
std::string mapKey(const std::string& path, const std::string& key) { return path + "[" + key + "]"; }

// How Go's %#v / %q print a value inside a field error.
std::string show(const Json& v) {
  if (v.is_string()) return Json(v.get<std::string>()).dump();
  if (v.is_null()) return "null";
  return dumpJson(v);
}

std::string typeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: return "object";
    case Json::value_t::array: return "array";
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "integer";
    case Json::value_t::number_float: return "number";
    case Json::value_t::null: return "null";
    default: return "unknown";
  }
}

bool isInteger(const Json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return true;
  if (v.is_number_float()) {
    double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
  }
  return false;
}

bool typeMatches(const std::string& type, const Json& v) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "integer") return isInteger(v);
  if (type == "number") return v.is_number();
  return true;
}

size_t codePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string number(double d) {
  if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  std::string s = std::to_string(d);
  while (s.back() == '0') s.pop_back();
  return s;
}

void invalid(std::vector<FieldError>* errors, const std::string& path, const Json& value, const std::string& detail) {
  errors->push_back({"FieldValueInvalid", path, "Invalid value: " + show(value) + ": " + detail});
}

bool validBase64(const std::string& s) {
  static const std::regex re("^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$");
  return std::regex_match(s, re);
}

void validateString(const Json& schema, const std::string& s, const Json& value, const std::string& path,
                    std::vector<FieldError>* errors) {
  if (schema.contains("maxLength") && codePoints(s) > schema["maxLength"].get<size_t>()) {
    size_t max = schema["maxLength"].get<size_t>();
    errors->push_back({"FieldValueTooLong", path,
                       "Too long: may not be more than " + std::to_string(max) + (max == 1 ? " byte" : " bytes")});
  }
  if (schema.contains("minLength") && codePoints(s) < schema["minLength"].get<size_t>()) {
    invalid(errors, path, value,
            path + " in body should be at least " + std::to_string(schema["minLength"].get<size_t>()) + " chars long");
  }
  if (schema.contains("pattern")) {
    const std::string pattern = schema["pattern"].get<std::string>();
    try {
      if (!std::regex_search(s, std::regex(pattern, std::regex::ECMAScript))) {
        invalid(errors, path, value, path + " in body should match '" + pattern + "'");
      }
    } catch (const std::regex_error&) {
      errors->push_back({"FieldValueInvalid", path, "Invalid value: the schema's pattern does not compile"});
    }
  }
  const std::string format = schema.value("format", "");
  if (format == "date-time") {
    std::chrono::system_clock::time_point t;
    if (!parseRfc3339(s, &t)) invalid(errors, path, value, path + " in body must be of type date-time: " + show(value));
  } else if (format == "byte" && !validBase64(s)) {
    invalid(errors, path, value, path + " in body must be of type byte: " + show(value));
  }
}

void validateNumber(const Json& schema, const Json& value, const std::string& path, std::vector<FieldError>* errors) {
  const double d = value.get<double>();
  if (schema.contains("minimum")) {
    double min = schema["minimum"].get<double>();
    bool exclusive = schema.value("exclusiveMinimum", false);
    if (exclusive ? d <= min : d < min) {
      invalid(errors, path, value,
              path + " in body should be greater than " + (exclusive ? "" : "or equal to ") + number(min));
    }
  }
  if (schema.contains("maximum")) {
    double max = schema["maximum"].get<double>();
    bool exclusive = schema.value("exclusiveMaximum", false);
    if (exclusive ? d >= max : d > max) {
      invalid(errors, path, value, path + " in body should be less than " + (exclusive ? "" : "or equal to ") + number(max));
    }
  }
  if (schema.contains("multipleOf")) {
    double m = schema["multipleOf"].get<double>();
    if (m > 0 && std::fmod(d, m) != 0) invalid(errors, path, value, path + " in body should be a multiple of " + number(m));
  }
  const std::string format = schema.value("format", "");
  if (format == "int32" && isInteger(value) && (d < -2147483648.0 || d > 2147483647.0)) {
    invalid(errors, path, value, path + " in body must be of type int32: " + show(value));
  }
}

void validateArray(const Json& schema, const Json& value, const std::string& path, std::vector<FieldError>* errors) {
  const size_t n = value.size();
  if (schema.contains("maxItems") && n > schema["maxItems"].get<size_t>()) {
    errors->push_back({"FieldValueTooMany", path,
                       "Too many: " + std::to_string(n) + ": must have at most " +
                           std::to_string(schema["maxItems"].get<size_t>()) + " items"});
  }
  if (schema.contains("minItems") && n < schema["minItems"].get<size_t>()) {
    invalid(errors, path, value,
            path + " in body should have at least " + std::to_string(schema["minItems"].get<size_t>()) + " items");
  }
  const std::string listType = schema.value("x-kubernetes-list-type", "");
  if (listType == "set" || schema.value("uniqueItems", false)) {
    std::set<std::string> seen;
    for (size_t i = 0; i < n; ++i) {
      if (!seen.insert(dumpJson(value[i])).second) {
        errors->push_back({"FieldValueDuplicate", index(path, i), "Duplicate value: " + show(value[i])});
      }
    }
  } else if (listType == "map" && schema.contains("x-kubernetes-list-map-keys")) {
    std::set<std::string> seen;
    for (size_t i = 0; i < n; ++i) {
      if (!value[i].is_object()) continue;
      Json key = Json::object();
      for (const auto& k : schema["x-kubernetes-list-map-keys"]) {
        const std::string name = k.get<std::string>();
        if (value[i].contains(name)) key[name] = value[i][name];
      }
      if (!seen.insert(dumpJson(key)).second) {
        errors->push_back({"FieldValueDuplicate", index(path, i), "Duplicate value: " + dumpJson(key)});
      }
    }
  }
  if (schema.contains("items") && schema["items"].is_object()) {
    for (size_t i = 0; i < n; ++i) validateValue(schema["items"], value[i], index(path, i), errors);
  }
}

void validateObject(const Json& schema, const Json& value, const std::string& path, std::vector<FieldError>* errors) {
  if (schema.contains("required")) {
    for (const auto& r : schema["required"]) {
      const std::string name = r.get<std::string>();
      if (!value.contains(name)) errors->push_back({"FieldValueRequired", child(path, name), "Required value"});
    }
  }
  if (schema.contains("maxProperties") && value.size() > schema["maxProperties"].get<size_t>()) {
    errors->push_back({"FieldValueTooMany", path,
                       "Too many: " + std::to_string(value.size()) + ": must have at most " +
                           std::to_string(schema["maxProperties"].get<size_t>()) + " items"});
  }
  if (schema.contains("minProperties") && value.size() < schema["minProperties"].get<size_t>()) {
    invalid(errors, path, value,
            path + " in body should have at least " + std::to_string(schema["minProperties"].get<size_t>()) +
                " properties");
  }
  const Json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
  const Json* additional = schema.contains("additionalProperties") ? &schema["additionalProperties"] : nullptr;
  for (const auto& [k, v] : value.items()) {
    if (props && props->contains(k)) {
      validateValue((*props)[k], v, child(path, k), errors);
    } else if (additional && additional->is_object()) {
      validateValue(*additional, v, mapKey(path, k), errors);
    } else if (additional && additional->is_boolean() && !additional->get<bool>()) {
      errors->push_back({"FieldValueForbidden", child(path, k), "Forbidden: additional properties are not allowed"});
    }
  }
}

}  // namespace

void validateValue(const Json& schema, const Json& value, const std::string& path, std::vector<FieldError>* errors) {
  if (!schema.is_object()) return;
  if (value.is_null()) {
    if (!schema.value("nullable", false) && schema.contains("type")) {
      invalid(errors, path, value, path + " in body must be of type " + schema["type"].get<std::string>() + ": \"null\"");
    }
    return;
  }
  const bool intOrString = schema.value("x-kubernetes-int-or-string", false);
  if (intOrString) {
    if (!value.is_string() && !isInteger(value)) {
      invalid(errors, path, Json(typeName(value)),
              path + " in body must be of type integer,string: " + Json(typeName(value)).dump());
      return;
    }
  } else if (schema.contains("type")) {
    const std::string type = schema["type"].get<std::string>();
    if (!typeMatches(type, value)) {
      invalid(errors, path, Json(typeName(value)), path + " in body must be of type " + type + ": " + Json(typeName(value)).dump());
      return;
    }
  }
  if (schema.contains("enum")) {
    bool found = false;
    std::string supported;
    for (const auto& e : schema["enum"]) {
      if (e == value) found = true;
      supported += (supported.empty() ? "" : ", ") + show(e);
    }
    if (!found) {
      errors->push_back({"FieldValueNotSupported", path, "Unsupported value: " + show(value) + ": supported values: " + supported});
      return;
    }
  }
  if (value.is_string()) validateString(schema, value.get<std::string>(), value, path, errors);
  if (value.is_number()) validateNumber(schema, value, path, errors);
  if (value.is_array()) validateArray(schema, value, path, errors);
  if (value.is_object()) validateObject(schema, value, path, errors);
  // Value validations under anyOf/allOf/oneOf/not (structural schemas allow only those).
  if (schema.contains("allOf")) {
    for (const auto& s : schema["allOf"]) validateValue(s, value, path, errors);
  }
  if (schema.contains("anyOf") && !intOrString) {
    bool any = false;
    for (const auto& s : schema["anyOf"]) {
      std::vector<FieldError> sub;
      validateValue(s, value, path, &sub);
      if (sub.empty()) any = true;
    }
    if (!any) invalid(errors, path, value, path + " in body must match at least one schema in anyOf");
  }
}

std::vector<FieldError> StructuralSchema::validate(const Json& object) const {
  std::vector<FieldError> errors;
  if (!object.is_object()) {
    errors.push_back({"FieldValueTypeInvalid", "", "Invalid value: the object must be a JSON object"});
    return errors;
  }
  // metadata is ObjectMeta, validated by the API machinery itself; here only the rest.
  Json rest = object;
  rest.erase("metadata");
  validateValue(rootWithoutMetadata_, rest, "", &errors);
  return errors;
}

}  // namespace sdb::schema
