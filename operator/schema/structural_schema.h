// Validation, pruning and defaulting of objects against a structural OpenAPI v3 schema, as
// kube-apiserver does for custom resources (apiextensions.k8s.io/v1).
//
// Contract: a StructuralSchema is immutable after fromJson() and safe to share across threads.
// Errors name field paths the way kube-apiserver does ("spec.items[0].name", "spec.labels[key]") and
// use its wording, e.g.
//   spec.engine: Unsupported value: "mysql": supported values: "postgres", "mongodb", "redis"
// Differences from kube-apiserver: `pattern` uses std::regex (ECMAScript) rather than Go's RE2; the
// patterns we use behave the same in both. CEL rules (x-kubernetes-validations) are not evaluated here;
// tests check them with an independent CEL implementation (tools/cel).
#pragma once

#include <string>
#include <vector>

#include "operator/core/json.h"
#include "operator/core/result.h"

namespace sdb::schema {

// One field error. `type` is the metav1.CauseType ("FieldValueRequired", "FieldValueNotSupported",
// "FieldValueInvalid", "FieldValueTooLong", "FieldValueTooMany", "FieldValueDuplicate",
// "FieldValueForbidden", "FieldValueTypeInvalid"); `message` is the body after the field, e.g.
// `Required value`.
struct FieldError {
  std::string type;
  std::string field;
  std::string message;
  // "spec.engine: Required value"
  std::string toString() const { return field.empty() ? message : field + ": " + message; }
  bool operator==(const FieldError& o) const { return type == o.type && field == o.field && message == o.message; }
};

class StructuralSchema {
 public:
  // Checks that the schema is structural and that its defaults validate; fails listing every
  // violation with its path below `pathPrefix` (e.g. "spec.versions[0].schema.openAPIV3Schema").
  static Result<StructuralSchema> fromJson(const Json& openAPIV3Schema,
                                           const std::string& pathPrefix = "openAPIV3Schema");
  // The violations fromJson() would report, without failing.
  static std::vector<FieldError> structuralErrors(const Json& openAPIV3Schema, const std::string& pathPrefix);

  // Validates a whole object (root schema at the object). Call after prune() and applyDefaults(),
  // as kube-apiserver does. `metadata` is not validated here beyond its type.
  std::vector<FieldError> validate(const Json& object) const;
  // Removes fields the schema does not know (honouring x-kubernetes-preserve-unknown-fields and
  // embedded resources) and nulls in non-nullable fields. apiVersion, kind and metadata survive at
  // the root. The removed paths ("spec.foo") are appended to `pruned` when given.
  void prune(Json& object, std::vector<std::string>* pruned = nullptr) const;
  // Fills in defaults where the parent exists, top down, as kube-apiserver does.
  void applyDefaults(Json& object) const;

  // The schema node a printer-column or field path reaches (".spec.engine",
  // ".status.conditions[?(@.type==\"Ready\")].status"), or nullptr.
  const Json* nodeAtJsonPath(const std::string& jsonPath) const;
  const Json& raw() const { return schema_; }

 private:
  explicit StructuralSchema(Json schema);
  Json schema_;
  Json rootWithoutMetadata_;  // schema_ minus properties.metadata, for validate()
};

// Validates `value` against one schema node (not the object root), appending errors. Exposed for the
// validator of defaults and for tests.
void validateValue(const Json& schema, const Json& value, const std::string& path, std::vector<FieldError>* errors);

}  // namespace sdb::schema
