#include <gtest/gtest.h>

#include "operator/schema/yaml_json.h"

namespace sdb::schema {
namespace {

TEST(YamlJson, TypesPlainScalarsAsYaml12CoreAndKeepsQuotedStrings) {
  auto j = yamlToJson(R"(
a: 15
b: "15"
c: 1.5
d: true
e: "true"
f: ~
g: 0x1F
h: 1Gi
i: '0o17'
j: 0o17
k: -3
l: 1e3
m: ""
n:
)");
  ASSERT_TRUE(j.ok()) << j.error().message;
  EXPECT_EQ((*j)["a"], 15);
  EXPECT_EQ((*j)["b"], "15");
  EXPECT_EQ((*j)["c"], 1.5);
  EXPECT_EQ((*j)["d"], true);
  EXPECT_EQ((*j)["e"], "true");
  EXPECT_TRUE((*j)["f"].is_null());
  EXPECT_EQ((*j)["g"], 31);
  EXPECT_EQ((*j)["h"], "1Gi");
  EXPECT_EQ((*j)["i"], "0o17");
  EXPECT_EQ((*j)["j"], 15);
  EXPECT_EQ((*j)["k"], -3);
  EXPECT_EQ((*j)["l"], 1000.0);
  EXPECT_EQ((*j)["m"], "");
  EXPECT_TRUE((*j)["n"].is_null());
}

TEST(YamlJson, ErrorsNameLineAndDuplicateKeys) {
  auto bad = yamlToJson("a: [1, 2\nb: 3\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("line "), std::string::npos);
  auto dup = yamlToJson("a: 1\na: 2\n");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().message, "line 2, column 1: duplicate key \"a\"");
}

TEST(YamlJson, MultiDocumentStreamsSkipEmptyDocuments) {
  auto docs = yamlDocumentsToJson("---\na: 1\n---\n---\nb: [x]\n");
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[1]["b"][0], "x");
}

TEST(YamlJson, JsonToYamlRoundTripsAmbiguousStrings) {
  Json v = {{"version", "15"}, {"flag", "true"}, {"n", 3}, {"list", {"a", "null", ""}}, {"nested", {{"k", nullptr}}}};
  auto back = yamlToJson(jsonToYaml(v));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, v);
}

}  // namespace
}  // namespace sdb::schema
