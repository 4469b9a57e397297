// A table of invalid objects with the field paths and kube-apiserver-worded messages we expect,
// plus pruning, defaulting and structural-schema checks.
#include <gtest/gtest.h>

#include "operator/schema/structural_schema.h"
#include "operator/schema/yaml_json.h"

namespace sdb::schema {
namespace {

const char* kSchema = R"(
type: object
properties:
  apiVersion: {type: string}
  kind: {type: string}
  metadata: {type: object}
  spec:
    type: object
    required: [engine, service]
    properties:
      engine: {type: string, enum: [postgres, mongodb, redis]}
      service: {type: string, minLength: 1, maxLength: 10, pattern: '^[a-z]+$'}
      replicas: {type: integer, minimum: 1, maximum: 5, default: 1}
      ratio: {type: number, minimum: 0, maximum: 1, exclusiveMaximum: true}
      size:
        x-kubernetes-int-or-string: true
        anyOf: [{type: integer}, {type: string}]
      tags:
        type: array
        maxItems: 2
        x-kubernetes-list-type: set
        items: {type: string}
      limits:
        type: object
        maxProperties: 2
        additionalProperties: {type: string, maxLength: 4}
      when: {type: string, format: date-time}
      tls:
        type: object
        default: {}
        properties:
          enabled: {type: boolean, default: true}
      free:
        type: object
        x-kubernetes-preserve-unknown-fields: true
        properties:
          known: {type: integer}
      conditions:
        type: array
        x-kubernetes-list-type: map
        x-kubernetes-list-map-keys: [type]
        items:
          type: object
          required: [type]
          properties:
            type: {type: string}
            status: {type: string}
  status:
    type: object
    properties:
      phase: {type: string}
)";

StructuralSchema load() {
  auto j = yamlToJson(kSchema);
  EXPECT_TRUE(j.ok());
  auto s = StructuralSchema::fromJson(*j);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return std::move(*s);
}

Json obj(const std::string& specYaml) {
  auto spec = yamlToJson(specYaml);
  EXPECT_TRUE(spec.ok()) << specYaml;
  return Json{{"apiVersion", "x.io/v1"}, {"kind", "X"}, {"metadata", {{"name", "a"}}}, {"spec", *spec}};
}

struct Case {
  const char* name;
  const char* spec;
  std::vector<std::string> want;  // "field: message"
};

TEST(Validation, TableOfInvalidObjects) {
  auto schema = load();
  const std::vector<Case> cases = {
      {"valid", "{engine: postgres, service: orders}", {}},
      {"enum", "{engine: mysql, service: orders}",
       {R"(spec.engine: Unsupported value: "mysql": supported values: "postgres", "mongodb", "redis")"}},
      {"required", "{service: orders}", {"spec.engine: Required value"}},
      {"two required", "{}", {"spec.engine: Required value", "spec.service: Required value"}},
      {"type", "{engine: postgres, service: orders, replicas: two}",
       {R"(spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string")"}},
      {"minimum", "{engine: postgres, service: orders, replicas: 0}",
       {"spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1"}},
      {"maximum", "{engine: postgres, service: orders, replicas: 9}",
       {"spec.replicas: Invalid value: 9: spec.replicas in body should be less than or equal to 5"}},
      {"exclusive maximum", "{engine: postgres, service: orders, ratio: 1}",
       {"spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1"}},
      {"pattern", "{engine: postgres, service: Orders}",
       {R"(spec.service: Invalid value: "Orders": spec.service in body should match '^[a-z]+$')"}},
      {"maxLength", "{engine: postgres, service: abcdefghijk}", {"spec.service: Too long: may not be more than 10 bytes"}},
      {"minLength", "{engine: postgres, service: ''}",
       {R"(spec.service: Invalid value: "": spec.service in body should be at least 1 chars long)",
        R"(spec.service: Invalid value: "": spec.service in body should match '^[a-z]+$')"}},
      {"maxItems", "{engine: postgres, service: a, tags: [x, y, z]}", {"spec.tags: Too many: 3: must have at most 2 items"}},
      {"set duplicate", "{engine: postgres, service: a, tags: [x, x]}", {R"(spec.tags[1]: Duplicate value: "x")"}},
      {"map list duplicate", "{engine: postgres, service: a, conditions: [{type: Ready}, {type: Ready, status: 'True'}]}",
       {R"(spec.conditions[1]: Duplicate value: {"type":"Ready"})"}},
      {"item required", "{engine: postgres, service: a, conditions: [{status: x}]}", {"spec.conditions[0].type: Required value"}},
      {"additionalProperties value", "{engine: postgres, service: a, limits: {cpu: '12345'}}",
       {"spec.limits[cpu]: Too long: may not be more than 4 bytes"}},
      {"maxProperties", "{engine: postgres, service: a, limits: {a: x, b: y, c: z}}",
       {"spec.limits: Too many: 3: must have at most 2 items"}},
      {"int-or-string accepts both", "{engine: postgres, service: a, size: 5}", {}},
      {"int-or-string refuses bool", "{engine: postgres, service: a, size: true}",
       {R"(spec.size: Invalid value: "boolean": spec.size in body must be of type integer,string: "boolean")"}},
      {"date-time", "{engine: postgres, service: a, when: yesterday}",
       {R"(spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday")"}},
      {"preserve unknown keeps checking known", "{engine: postgres, service: a, free: {known: x, other: 1}}",
       {R"(spec.free.known: Invalid value: "string": spec.free.known in body must be of type integer: "string")"}},
  };
  for (const auto& c : cases) {
    Json o = obj(c.spec);
    schema.prune(o);
    schema.applyDefaults(o);
    std::vector<std::string> got;
    for (const auto& e : schema.validate(o)) got.push_back(e.toString());
    EXPECT_EQ(got, c.want) << c.name;
  }
}

TEST(Validation, CauseTypesFollowKubernetes) {
  auto schema = load();
  auto errors = schema.validate(obj("{engine: mysql}"));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].type, "FieldValueRequired");
  EXPECT_EQ(errors[0].field, "spec.service");
  EXPECT_EQ(errors[1].type, "FieldValueNotSupported");
}

TEST(Pruning, DropsUnknownFieldsInSpecStatusAndRootAndReportsThem) {
  auto schema = load();
  Json o = obj("{engine: postgres, service: a, bogus: 1, tls: {enabled: false, extra: x}, free: {anything: [1]}}");
  o["status"] = {{"phase", "Ready"}, {"junk", true}};
  o["topLevel"] = 1;
  o["metadata"]["labels"] = {{"a", "b"}};
  std::vector<std::string> pruned;
  schema.prune(o, &pruned);
  EXPECT_EQ(pruned, (std::vector<std::string>{"spec.bogus", "spec.tls.extra", "status.junk", "topLevel"}));
  EXPECT_FALSE(o["spec"].contains("bogus"));
  EXPECT_EQ(o["spec"]["free"]["anything"][0], 1);  // preserved
  EXPECT_EQ(o["metadata"]["labels"]["a"], "b");     // metadata untouched
  EXPECT_EQ(o["apiVersion"], "x.io/v1");
}

TEST(Pruning, DropsNullsOfNonNullableFields) {
  auto schema = load();
  Json o = obj("{engine: postgres, service: a, replicas: null}");
  schema.prune(o);
  schema.applyDefaults(o);
  EXPECT_EQ(o["spec"]["replicas"], 1);  // null dropped, then defaulted
}

TEST(Defaulting, FillsNestedDefaultsTopDown) {
  auto schema = load();
  Json o = obj("{engine: postgres, service: a}");
  schema.applyDefaults(o);
  EXPECT_EQ(o["spec"]["replicas"], 1);
  EXPECT_EQ(o["spec"]["tls"], (Json{{"enabled", true}}));  // {} default, then its own default inside
  Json explicitOff = obj("{engine: postgres, service: a, tls: {enabled: false}}");
  schema.applyDefaults(explicitOff);
  EXPECT_EQ(explicitOff["spec"]["tls"]["enabled"], false);
  EXPECT_FALSE(o.contains("status"));  // no default, no parent: nothing invented
}

TEST(Structural, ReportsEveryViolationWithItsPath) {
  auto j = yamlToJson(R"(
type: object
properties:
  metadata:
    type: object
    properties:
      labels: {type: object}
  spec:
    properties:
      a: {type: string}
      list: {type: array}
      both:
        type: object
        properties: {x: {type: string}}
        additionalProperties: {type: string}
      alt:
        anyOf: [{type: string, description: no}]
      d: {type: integer, minimum: 3, default: 1}
      e: {type: string, description: A slip, in flow style}
)");
  ASSERT_TRUE(j.ok());
  std::vector<std::string> got;
  for (const auto& e : StructuralSchema::structuralErrors(*j, "spec.versions[0].schema.openAPIV3Schema")) {
    got.push_back(e.toString());
  }
  const std::string p = "spec.versions[0].schema.openAPIV3Schema";
  EXPECT_EQ(got, (std::vector<std::string>{
                     p + ".properties[metadata].properties[labels]: Forbidden: must not be specified in the metadata of the root",
                     p + ".properties[spec].type: Required value: must not be empty for specified object fields",
                     p + ".properties[spec].properties[alt].type: Required value: must not be empty for specified object fields",
                     p + ".properties[spec].properties[alt].anyOf[0].description: Forbidden: must be empty to be structural",
                     p + ".properties[spec].properties[alt].anyOf[0].type: Forbidden: must be empty to be structural",
                     p + ".properties[spec].properties[both].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive",
                     p + ".properties[spec].properties[d].default: Invalid value: 1: " + p +
                         ".properties[spec].properties[d].default in body should be greater than or equal to 3",
                     p + ".properties[spec].properties[e]: unknown field \"in flow style\"",
                     p + ".properties[spec].properties[list].items: Required value: must be specified",
                 }));
  EXPECT_FALSE(StructuralSchema::fromJson(*j).ok());
}

TEST(JsonPath, FindsPrinterColumnNodes) {
  auto schema = load();
  EXPECT_NE(schema.nodeAtJsonPath(".spec.engine"), nullptr);
  EXPECT_NE(schema.nodeAtJsonPath(R"(.spec.conditions[?(@.type=="Ready")].status)"), nullptr);
  EXPECT_NE(schema.nodeAtJsonPath(".metadata.creationTimestamp"), nullptr);
  EXPECT_NE(schema.nodeAtJsonPath(".spec.limits.cpu"), nullptr);
  EXPECT_EQ(schema.nodeAtJsonPath(".spec.nope"), nullptr);
  EXPECT_EQ(schema.nodeAtJsonPath(".status.phase.deeper"), nullptr);
}

}  // namespace
}  // namespace sdb::schema
