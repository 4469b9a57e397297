#include "operator/schema/crd.h"

#include <fstream>
#include <regex>
#include <sstream>

#include "operator/schema/yaml_json.h"

namespace sdb::schema {
namespace {

std::vector<std::string> strings(const Json& j) {
  std::vector<std::string> out;
  if (j.is_array()) {
    for (const auto& x : j) {
      if (x.is_string()) out.push_back(x.get<std::string>());
    }
  }
  return out;
}

bool dnsLabel(const std::string& s) {
  static const std::regex re("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
  return s.size() <= 63 && std::regex_match(s, re);
}

}  // namespace

const CrdVersion* Crd::version(const std::string& v) const {
  for (const auto& x : versions) {
    if (x.name == v) return &x;
  }
  return nullptr;
}

const CrdVersion* Crd::storageVersion() const {
  for (const auto& x : versions) {
    if (x.storage) return &x;
  }
  return nullptr;
}

Result<Crd> Crd::fromJson(const Json& j) {
  std::vector<std::string> problems;
  Crd crd;
  crd.raw = j;
  crd.name = jsonString(j, {"metadata", "name"});
  crd.group = jsonString(j, {"spec", "group"});
  crd.scope = jsonString(j, {"spec", "scope"});
  crd.kind = jsonString(j, {"spec", "names", "kind"});
  crd.plural = jsonString(j, {"spec", "names", "plural"});
  crd.singular = jsonString(j, {"spec", "names", "singular"});
  crd.listKind = jsonString(j, {"spec", "names", "listKind"});
  if (crd.singular.empty()) {
    crd.singular = crd.kind;
    for (auto& c : crd.singular) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (crd.listKind.empty()) crd.listKind = crd.kind + "List";
  if (const Json* n = jsonAt(j, {"spec", "names"})) {
    crd.shortNames = strings(n->value("shortNames", Json::array()));
    crd.categories = strings(n->value("categories", Json::array()));
  }
  if (j.value("apiVersion", "") != "apiextensions.k8s.io/v1" || j.value("kind", "") != "CustomResourceDefinition") {
    problems.push_back("apiVersion/kind: must be apiextensions.k8s.io/v1 CustomResourceDefinition");
  }
  if (crd.group.empty() || crd.group.find('.') == std::string::npos) {
    problems.push_back("spec.group: Invalid value: \"" + crd.group + "\": should be a domain with at least one dot");
  }
  if (!dnsLabel(crd.plural)) problems.push_back("spec.names.plural: Invalid value: \"" + crd.plural + "\": a lowercase RFC 1123 label");
  if (crd.kind.empty()) problems.push_back("spec.names.kind: Required value");
  if (crd.name != crd.plural + "." + crd.group) {
    problems.push_back("metadata.name: Invalid value: \"" + crd.name + "\": must be spec.names.plural+\".\"+spec.group");
  }
  if (crd.scope != "Namespaced" && crd.scope != "Cluster") {
    problems.push_back("spec.scope: Unsupported value: \"" + crd.scope + "\": supported values: \"Cluster\", \"Namespaced\"");
  }
  const Json* versions = jsonAt(j, {"spec", "versions"});
  if (!versions || !versions->is_array() || versions->empty()) {
    problems.push_back("spec.versions: Required value: must have exactly one version marked as storage version");
  } else {
    int storageCount = 0;
    for (size_t i = 0; i < versions->size(); ++i) {
      const Json& v = (*versions)[i];
      const std::string at = "spec.versions[" + std::to_string(i) + "]";
      CrdVersion cv;
      cv.name = v.value("name", "");
      cv.served = v.value("served", false);
      cv.storage = v.value("storage", false);
      storageCount += cv.storage;
      const Json* schema = jsonAt(v, {"schema", "openAPIV3Schema"});
      if (!schema) {
        problems.push_back(at + ".schema.openAPIV3Schema: Required value: schemas are required");
        continue;
      }
      auto loaded = StructuralSchema::fromJson(*schema, at + ".schema.openAPIV3Schema");
      if (!loaded.ok()) {
        problems.push_back(loaded.error().message);
        continue;
      }
      cv.schema = std::make_shared<const StructuralSchema>(std::move(*loaded));
      if (const Json* sub = jsonAt(v, {"subresources"})) {
        cv.statusSubresource = sub->contains("status");
        if (sub->contains("scale")) cv.scaleSubresource = (*sub)["scale"];
      }
      if (v.contains("additionalPrinterColumns")) {
        cv.printerColumns = v["additionalPrinterColumns"];
        size_t c = 0;
        for (const auto& col : cv.printerColumns) {
          for (const auto& [key, _] : col.items()) {
            if (key != "name" && key != "type" && key != "format" && key != "description" && key != "priority" &&
                key != "jsonPath") {
              problems.push_back(at + ".additionalPrinterColumns[" + std::to_string(c) + "]: unknown field \"" + key + "\"");
            }
          }
          const std::string path = col.value("jsonPath", "");
          if (!cv.schema->nodeAtJsonPath(path)) {
            problems.push_back(at + ".additionalPrinterColumns[" + std::to_string(c) + "].jsonPath: Invalid value: \"" +
                               path + "\": no such field in the schema");
          }
          ++c;
        }
      }
      crd.versions.push_back(std::move(cv));
    }
    if (storageCount != 1) problems.push_back("spec.versions: Invalid value: must have exactly one version marked as storage version");
  }
  if (!problems.empty()) {
    std::string msg = "CustomResourceDefinition \"" + crd.name + "\" is invalid: ";
    for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
    return invalidArgument(msg);
  }
  return crd;
}

Result<std::vector<Crd>> loadCrdFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ioError("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto docs = yamlDocumentsToJson(ss.str());
  if (!docs.ok()) return docs.error().wrap(path);
  std::vector<Crd> out;
  for (const auto& d : *docs) {
    auto crd = Crd::fromJson(d);
    if (!crd.ok()) return crd.error().wrap(path);
    out.push_back(std::move(*crd));
  }
  return out;
}

AdmissionResult admitCustomResource(const Crd& crd, const CrdVersion& version, Json object) {
  AdmissionResult r;
  (void)crd;
  version.schema->prune(object, &r.pruned);
  version.schema->applyDefaults(object);
  r.errors = version.schema->validate(object);
  r.object = std::move(object);
  return r;
}

}  // namespace sdb::schema
