// CustomResourceDefinition (apiextensions.k8s.io/v1) loaded into a form the validator and the local
// API server use: names, scope, versions with their structural schema, subresources and printer
// columns.
//
// Contract: immutable values after construction; thread-safe to share.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "operator/core/json.h"
#include "operator/core/result.h"
#include "operator/schema/structural_schema.h"

namespace sdb::schema {

struct CrdVersion {
  std::string name;
  bool served = true;
  bool storage = false;
  std::shared_ptr<const StructuralSchema> schema;
  bool statusSubresource = false;
  Json scaleSubresource;  // null when absent
  Json printerColumns = Json::array();
};

struct Crd {
  std::string name;  // <plural>.<group>
  std::string group, kind, listKind, plural, singular, scope;
  std::vector<std::string> shortNames, categories;
  std::vector<CrdVersion> versions;
  Json raw;

  bool namespaced() const { return scope == "Namespaced"; }
  const CrdVersion* version(const std::string& name) const;
  const CrdVersion* storageVersion() const;

  // Validates the CRD object itself (names, scope, versions, structural schemas, printer-column
  // paths) and loads it. Errors name the CRD's fields: "spec.versions[0].schema.openAPIV3Schema...".
  static Result<Crd> fromJson(const Json& crd);
};

// Loads every CustomResourceDefinition of a YAML file (other kinds in the file are an error).
Result<std::vector<Crd>> loadCrdFile(const std::string& path);

// Validates a custom resource as kube-apiserver does on create and update: prune, default, validate.
// Returns the cleaned object, or the field errors; `pruned` receives unknown-field paths.
struct AdmissionResult {
  Json object;
  std::vector<FieldError> errors;
  std::vector<std::string> pruned;
};
AdmissionResult admitCustomResource(const Crd& crd, const CrdVersion& version, Json object);

}  // namespace sdb::schema
