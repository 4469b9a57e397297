// Our own CRDs: each loads and is structural, printer columns resolve, every example validates with
// nothing pruned, and invalid edits of the examples are refused with the expected paths.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "operator/schema/crd.h"
#include "operator/schema/yaml_json.h"

namespace sdb::schema {
namespace {

namespace fs = std::filesystem;

fs::path sourceDir() {
  const char* env = std::getenv("SERVICEDB_SOURCE_DIR");
  return env ? fs::path(env) : fs::current_path();
}

std::map<std::string, Crd> loadAll() {
  std::map<std::string, Crd> out;
  for (const auto& entry : fs::directory_iterator(sourceDir() / "crds")) {
    if (entry.path().extension() != ".yaml") continue;
    auto crds = loadCrdFile(entry.path().string());
    EXPECT_TRUE(crds.ok()) << crds.error().message;
    if (!crds.ok()) continue;
    for (auto& c : *crds) out.emplace(c.kind, std::move(c));
  }
  return out;
}

TEST(OurCrds, AllFourLoadAsStructuralWithStatusAndResolvablePrinterColumns) {
  auto crds = loadAll();
  ASSERT_EQ(crds.size(), 4u) << "crds/ must hold ServiceDatabase, BackupPolicy, ReadReplica and AuditStore";
  for (const char* kind : {"ServiceDatabase", "BackupPolicy", "ReadReplica", "AuditStore"}) {
    ASSERT_TRUE(crds.count(kind)) << kind;
    const Crd& c = crds.at(kind);
    EXPECT_EQ(c.group, "servicedb.io");
    ASSERT_NE(c.storageVersion(), nullptr);
    EXPECT_EQ(c.storageVersion()->name, "v1alpha1");
    EXPECT_TRUE(c.storageVersion()->statusSubresource) << kind;
    EXPECT_FALSE(c.shortNames.empty()) << kind;
    EXPECT_FALSE(c.categories.empty()) << kind;
    const Json& status = c.storageVersion()->schema->raw()["properties"]["status"]["properties"];
    EXPECT_TRUE(status.contains("observedGeneration")) << kind;
    EXPECT_TRUE(status.contains("conditions")) << kind;
  }
}

// Every property in every schema has a description, so `kubectl explain` works.
void expectDescriptions(const Json& s, const std::string& path, std::vector<std::string>* missing) {
  if (s.contains("properties")) {
    for (const auto& [k, sub] : s["properties"].items()) {
      const std::string p = path + "." + k;
      if (k != "metadata" && !sub.contains("description")) missing->push_back(p);
      expectDescriptions(sub, p, missing);
    }
  }
  if (s.contains("items")) expectDescriptions(s["items"], path + "[]", missing);
  if (s.contains("additionalProperties") && s["additionalProperties"].is_object()) {
    expectDescriptions(s["additionalProperties"], path + "{}", missing);
  }
}

TEST(OurCrds, EveryFieldHasADescription) {
  for (const auto& [kind, crd] : loadAll()) {
    std::vector<std::string> missing;
    expectDescriptions(crd.storageVersion()->schema->raw(), kind, &missing);
    EXPECT_TRUE(missing.empty()) << kind << " fields without description: " << ::testing::PrintToString(missing);
  }
}

TEST(OurCrds, EveryExampleValidatesAndNothingIsPruned) {
  auto crds = loadAll();
  int examples = 0;
  for (const auto& entry : fs::directory_iterator(sourceDir() / "crds" / "examples")) {
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    auto docs = yamlDocumentsToJson(ss.str());
    ASSERT_TRUE(docs.ok()) << entry.path() << ": " << docs.error().message;
    for (const auto& doc : *docs) {
      const std::string kind = doc.value("kind", "");
      ASSERT_TRUE(crds.count(kind)) << entry.path() << ": unknown kind " << kind;
      const Crd& crd = crds.at(kind);
      auto r = admitCustomResource(crd, *crd.storageVersion(), doc);
      EXPECT_TRUE(r.pruned.empty()) << entry.path() << " has unknown fields: " << ::testing::PrintToString(r.pruned);
      std::vector<std::string> errors;
      for (const auto& e : r.errors) errors.push_back(e.toString());
      EXPECT_TRUE(errors.empty()) << entry.path() << ": " << ::testing::PrintToString(errors);
      ++examples;
    }
  }
  EXPECT_GE(examples, 10);
}

TEST(OurCrds, InvalidServiceDatabasesAreRefusedWithTheirPaths) {
  auto crds = loadAll();
  const Crd& sdb = crds.at("ServiceDatabase");
  struct C {
    const char* spec;
    std::string want;
  };
  const std::vector<C> cases = {
      {"{service: orders, engine: mysql}",
       R"(spec.engine: Unsupported value: "mysql": supported values: "postgres", "mongodb", "redis")"},
      {"{engine: postgres}", "spec.service: Required value"},
      {"{service: Orders_1, engine: postgres}",
       R"(spec.service: Invalid value: "Orders_1": spec.service in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')"},
      {"{service: o, engine: redis, mode: sometimes}",
       R"(spec.mode: Unsupported value: "sometimes": supported values: "dedicated", "shared")"},
      {"{service: o, engine: redis, deletionPolicy: Drop}",
       R"(spec.deletionPolicy: Unsupported value: "Drop": supported values: "Retain", "Delete", "Snapshot")"},
      {"{service: o, engine: postgres, credentials: {passwordLength: 8}}",
       "spec.credentials.passwordLength: Invalid value: 8: spec.credentials.passwordLength in body should be greater "
       "than or equal to 16"},
      {"{service: o, engine: postgres, storage: {size: lots}}",
       "spec.storage.size: Invalid value: \"lots\": spec.storage.size in body should match "
       "'^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$'"},
      {"{service: o, engine: postgres, migrations: {image: x}}", "spec.migrations.version: Required value"},
  };
  for (const auto& c : cases) {
    auto spec = yamlToJson(c.spec);
    ASSERT_TRUE(spec.ok());
    Json o = {{"apiVersion", "servicedb.io/v1alpha1"}, {"kind", "ServiceDatabase"}, {"metadata", {{"name", "x"}}}, {"spec", *spec}};
    auto r = admitCustomResource(sdb, *sdb.storageVersion(), o);
    ASSERT_EQ(r.errors.size(), 1u) << c.spec;
    EXPECT_EQ(r.errors[0].toString(), c.want) << c.spec;
  }
}

TEST(OurCrds, DefaultsAreAppliedAsDocumented) {
  auto crds = loadAll();
  const Crd& sdb = crds.at("ServiceDatabase");
  Json o = {{"apiVersion", "servicedb.io/v1alpha1"}, {"kind", "ServiceDatabase"}, {"metadata", {{"name", "x"}}},
            {"spec", {{"service", "orders"}, {"engine", "postgres"}, {"tls", Json::object()}, {"credentials", Json::object()}}}};
  auto r = admitCustomResource(sdb, *sdb.storageVersion(), o);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.object["spec"]["mode"], "dedicated");
  EXPECT_EQ(r.object["spec"]["deletionPolicy"], "Retain");
  EXPECT_EQ(r.object["spec"]["tls"]["enabled"], true);
  EXPECT_EQ(r.object["spec"]["credentials"]["passwordLength"], 32);
}

}  // namespace
}  // namespace sdb::schema
