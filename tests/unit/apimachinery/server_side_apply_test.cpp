// Server-side apply and field ownership in the store, with cases from Kubernetes' documentation
// (https://kubernetes.io/docs/reference/using-api/server-side-apply/) and kube-apiserver's wording.
#include <gtest/gtest.h>

#include "e2e/apimachinery/store.h"
#include "e2e/apimachinery/typed_value.h"
#include "operator/schema/yaml_json.h"

namespace sdb::apimachinery {
namespace {

using kube::ApiErrorReason;
using kube::PatchType;
namespace res = kube::resources;

class ServerSideApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.clock = &clock_;
    o.random = &random_;
    auto s = Store::open(o);
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    ASSERT_TRUE(store_->create(res::kNamespaces, "", {{"metadata", {{"name", "a"}}}}).ok());
  }
  kube::KResult<Json> apply(const kube::ResourceRef& r, const std::string& name, const std::string& yaml,
                            const std::string& manager, bool force = false, const std::string& sub = "") {
    kube::PatchOptions o;
    o.fieldManager = manager;
    o.force = force;
    return store_->patch(r, "a", name, PatchType::kApply, yaml, o, sub);
  }
  kube::KResult<Json> mergePatch(const kube::ResourceRef& r, const std::string& name, const std::string& patch,
                                 const std::string& manager) {
    kube::PatchOptions o;
    o.fieldManager = manager;
    return store_->patch(r, "a", name, PatchType::kMerge, patch, o);
  }
  static const Json* entry(const Json& obj, const std::string& manager, const std::string& operation) {
    const Json* mf = jsonAt(obj, {"metadata", "managedFields"});
    if (!mf) return nullptr;
    for (const auto& e : *mf) {
      if (e.value("manager", "") == manager && e.value("operation", "") == operation) return &e;
    }
    return nullptr;
  }
  static Json yaml(const std::string& text) { return schema::yamlToJson(text).value(); }

  FakeClock clock_{std::chrono::system_clock::from_time_t(1764040000)};
  SeededRandom random_{7};
  std::unique_ptr<Store> store_;
};

const char* kConfigMap = R"(
apiVersion: v1
kind: ConfigMap
metadata:
  name: test-cm
  labels:
    test-label: test
data:
  key: some value
)";

TEST_F(ServerSideApplyTest, ApplyCreatesTheObjectAndRecordsTheAppliedFields) {
  auto created = apply(res::kConfigMaps, "test-cm", kConfigMap, "kubectl");
  ASSERT_TRUE(created.ok()) << created.error().toString();
  EXPECT_EQ((*created)["data"]["key"], "some value");
  EXPECT_EQ((*created)["metadata"]["uid"].get<std::string>().size(), 36u);
  const Json* e = entry(*created, "kubectl", "Apply");
  ASSERT_NE(e, nullptr) << (*created)["metadata"].dump();
  // The documentation's example, field for field.
  EXPECT_EQ(e->at("fieldsV1"), Json::parse(R"({"f:data":{"f:key":{}},"f:metadata":{"f:labels":{"f:test-label":{}}}})"));
  EXPECT_EQ(e->at("apiVersion"), "v1");
  EXPECT_EQ(e->at("fieldsType"), "FieldsV1");
  EXPECT_EQ(e->at("time"), formatRfc3339(clock_.now()));
  EXPECT_EQ((*created)["metadata"]["managedFields"].size(), 1u);
}

TEST_F(ServerSideApplyTest, FieldManagerIsRequiredAndTheTypeMustMatch) {
  auto missing = apply(res::kConfigMaps, "test-cm", kConfigMap, "");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().httpCode, 422);
  EXPECT_EQ(missing.error().message, "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");
  auto wrongKind = apply(res::kConfigMaps, "test-cm", "apiVersion: v1\nkind: Secret\nmetadata: {name: test-cm}\n", "m");
  EXPECT_EQ(wrongKind.error().httpCode, 400);
  EXPECT_EQ(wrongKind.error().message, "invalid object type: /v1, Kind=Secret");
  auto withManaged = apply(res::kConfigMaps, "test-cm",
                           "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: test-cm, managedFields: [{manager: x}]}\n", "m");
  EXPECT_EQ(withManaged.error().message, "metadata.managedFields must be nil");
  auto wrongName = apply(res::kConfigMaps, "other", kConfigMap, "m");
  EXPECT_EQ(wrongName.error().message, "the name of the object (test-cm) does not match the name on the URL (other)");
  kube::PatchOptions forced;
  forced.force = true;
  forced.fieldManager = "m";
  auto forceOnMerge = store_->patch(res::kConfigMaps, "a", "x", PatchType::kMerge, "{}", forced);
  EXPECT_EQ(forceOnMerge.error().message, "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch");
}

TEST_F(ServerSideApplyTest, SameValueIsSharedDifferentValueConflictsAndForceTakesOver) {
  ASSERT_TRUE(apply(res::kConfigMaps, "test-cm", kConfigMap, "alice").ok());
  // Same value: no conflict, both own the field.
  auto shared = apply(res::kConfigMaps, "test-cm", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: test-cm}\ndata: {key: some value}\n", "bob");
  ASSERT_TRUE(shared.ok()) << shared.error().toString();
  EXPECT_EQ(entry(*shared, "bob", "Apply")->at("fieldsV1"), Json::parse(R"({"f:data":{"f:key":{}}})"));
  EXPECT_EQ(entry(*shared, "alice", "Apply")->at("fieldsV1")["f:data"], Json::parse(R"({"f:key":{}})"));
  // A different value conflicts with both owners.
  auto conflict = apply(res::kConfigMaps, "test-cm", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: test-cm}\ndata: {key: other}\n", "carol");
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().httpCode, 409);
  EXPECT_EQ(conflict.error().reason, ApiErrorReason::kConflict);
  EXPECT_EQ(conflict.error().message,
            "Apply failed with 2 conflicts: conflicts with \"alice\":\n- .data.key\nconflicts with \"bob\":\n- .data.key");
  ASSERT_EQ(conflict.error().causes.size(), 2u);
  EXPECT_EQ(conflict.error().causes[0].reason, "FieldManagerConflict");
  EXPECT_EQ(conflict.error().causes[0].message, "conflict with \"alice\"");
  EXPECT_EQ(conflict.error().causes[0].field, ".data.key");
  EXPECT_EQ((*store_->get(res::kConfigMaps, "a", "test-cm"))["data"]["key"], "some value") << "a conflict changes nothing";
  // Force: carol takes the field; the others lose it (alice keeps her label).
  auto forced = apply(res::kConfigMaps, "test-cm", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: test-cm}\ndata: {key: other}\n", "carol", true);
  ASSERT_TRUE(forced.ok()) << forced.error().toString();
  EXPECT_EQ((*forced)["data"]["key"], "other");
  EXPECT_EQ(entry(*forced, "bob", "Apply"), nullptr) << "bob owned nothing else";
  EXPECT_EQ(entry(*forced, "alice", "Apply")->at("fieldsV1"), Json::parse(R"({"f:metadata":{"f:labels":{"f:test-label":{}}}})"));
  EXPECT_EQ(entry(*forced, "carol", "Apply")->at("fieldsV1"), Json::parse(R"({"f:data":{"f:key":{}}})"));
}

TEST_F(ServerSideApplyTest, UpdatesTakeFieldsWithoutConflictAndApplyThenConflictsWithThem) {
  ASSERT_TRUE(apply(res::kConfigMaps, "test-cm", kConfigMap, "alice").ok());
  auto edited = mergePatch(res::kConfigMaps, "test-cm", R"({"data":{"key":"edited","extra":"x"},"metadata":{"annotations":{"a":"b"}}})", "kubectl-edit");
  ASSERT_TRUE(edited.ok()) << edited.error().toString();
  const Json* upd = entry(*edited, "kubectl-edit", "Update");
  ASSERT_NE(upd, nullptr);
  EXPECT_EQ(upd->at("apiVersion"), "v1");
  // A map that the update created is owned as a whole too ("."), as kube-apiserver records it.
  EXPECT_EQ(upd->at("fieldsV1"),
            Json::parse(R"({"f:data":{"f:extra":{},"f:key":{}},"f:metadata":{"f:annotations":{".":{},"f:a":{}}}})"));
  EXPECT_EQ(entry(*edited, "alice", "Apply")->at("fieldsV1"), Json::parse(R"({"f:metadata":{"f:labels":{"f:test-label":{}}}})"));
  // Entries are ordered Apply first, then Update.
  EXPECT_EQ((*edited)["metadata"]["managedFields"][0]["operation"], "Apply");
  auto conflict = apply(res::kConfigMaps, "test-cm", kConfigMap, "alice");
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().message, "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1: .data.key");
}

TEST_F(ServerSideApplyTest, FieldsNoLongerAppliedAreRemovedUnlessSomeoneElseOwnsThem) {
  ASSERT_TRUE(apply(res::kConfigMaps, "test-cm", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: test-cm}\ndata: {a: '1', b: '2', c: '3'}\n", "alice").ok());
  ASSERT_TRUE(apply(res::kConfigMaps, "test-cm", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: test-cm}\ndata: {b: '2'}\n", "bob").ok());
  ASSERT_TRUE(mergePatch(res::kConfigMaps, "test-cm", R"({"data":{"c":"30"}})", "editor").ok());
  // alice stops applying a, b and c: a goes; b stays (bob applies it); c stays (editor's).
  auto pruned = apply(res::kConfigMaps, "test-cm", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: test-cm}\ndata: {d: '4'}\n", "alice");
  ASSERT_TRUE(pruned.ok()) << pruned.error().toString();
  EXPECT_EQ((*pruned)["data"], (Json{{"b", "2"}, {"c", "30"}, {"d", "4"}}));
  // bob stops applying anything: b goes, and bob's entry with it.
  auto empty = apply(res::kConfigMaps, "test-cm", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: test-cm}\n", "bob");
  ASSERT_TRUE(empty.ok()) << empty.error().toString();
  EXPECT_EQ((*empty)["data"], (Json{{"c", "30"}, {"d", "4"}}));
  EXPECT_EQ(entry(*empty, "bob", "Apply"), nullptr);
}

const char* kDeployment = R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: app:1
        ports: [{containerPort: 80}]
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
      - name: sidecar
        image: proxy:1
)";

TEST_F(ServerSideApplyTest, ListItemsAreOwnedByTheirMergeKeys) {
  auto d = apply(res::kDeployments, "web", kDeployment, "operator");
  ASSERT_TRUE(d.ok()) << d.error().toString();
  const Json f = entry(*d, "operator", "Apply")->at("fieldsV1");
  // The selector is atomic; containers are keyed by name, ports by containerPort and protocol (TCP by default).
  EXPECT_EQ(f["f:spec"]["f:selector"], Json::object());
  const Json& app = f["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"];
  EXPECT_TRUE(app.contains("."));
  EXPECT_TRUE(app["f:ports"].contains("k:{\"containerPort\":80,\"protocol\":\"TCP\"}"));
  EXPECT_TRUE(app["f:env"].contains("k:{\"name\":\"A\"}"));
  // Another manager adds a container and an env var: items merge by key, nothing is replaced.
  auto other = apply(res::kDeployments, "web", R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        env: [{name: C, value: "3"}]
      - name: logger
        image: log:1
)", "injector");
  ASSERT_TRUE(other.ok()) << other.error().toString();
  const Json& containers = (*other)["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(containers.size(), 3u);
  EXPECT_EQ(containers[0]["name"], "app");
  EXPECT_EQ(containers[0]["env"].size(), 3u);
  EXPECT_EQ(containers[0]["image"], "app:1");
  // The operator drops its sidecar and env B: they go; the injector's logger and env C stay.
  std::string smaller = kDeployment;
  smaller.replace(smaller.find("      - name: sidecar\n        image: proxy:1\n"), std::string("      - name: sidecar\n        image: proxy:1\n").size(), "");
  smaller.replace(smaller.find(", {name: B, value: \"2\"}"), std::string(", {name: B, value: \"2\"}").size(), "");
  auto pruned = apply(res::kDeployments, "web", smaller, "operator");
  ASSERT_TRUE(pruned.ok()) << pruned.error().toString();
  const Json& after = (*pruned)["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(after.size(), 2u) << after.dump();
  EXPECT_EQ(after[0]["name"], "app");
  EXPECT_EQ(after[1]["name"], "logger");
  std::vector<std::string> env;
  for (const auto& e : after[0]["env"]) env.push_back(e["name"]);
  EXPECT_EQ(env, (std::vector<std::string>{"A", "C"}));
  // An atomic field conflicts as a whole.
  auto sel = apply(res::kDeployments, "web", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {selector: {matchLabels: {app: other}}}\n", "intruder");
  ASSERT_FALSE(sel.ok());
  EXPECT_EQ(sel.error().message, "Apply failed with 1 conflict: conflict with \"operator\": .spec.selector");
  auto port = apply(res::kDeployments, "web", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: {spec: {containers: [{name: app, ports: [{containerPort: 80, name: http}]}]}}}\n", "intruder");
  ASSERT_TRUE(port.ok()) << "a new field of a shared item is not a conflict: " << port.error().toString();
}

TEST_F(ServerSideApplyTest, BadConfigurationsAreRejectedAsKubeApiserverDoes) {
  auto dup = apply(res::kDeployments, "web", R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec: {template: {spec: {containers: [{name: a, image: x}, {name: a, image: y}]}}}
)", "m");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().httpCode, 500);
  EXPECT_EQ(dup.error().message,
            "failed to create typed patch object (a/web; apps/v1, Kind=Deployment): .spec.template.spec.containers: "
            "duplicate entries for key [name=\"a\"]");
  auto keyless = apply(res::kPods, "p", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{image: x}]}\n", "m");
  ASSERT_FALSE(keyless.ok());
  EXPECT_EQ(keyless.error().message,
            "failed to create typed patch object (a/p; /v1, Kind=Pod): .spec.containers: element 0: associative list with "
            "keys has an element that omits all key fields [\"name\"] (and doesn't have default values for any key fields)");
  EXPECT_EQ(apply(res::kServices, "svc", "apiVersion: v1\nkind: Service\nmetadata: {name: svc}\nspec: {ports: [{port: 80}]}\n", "m").ok(), true)
      << "protocol defaults to TCP in the key";
}

TEST_F(ServerSideApplyTest, NoOpApplyWritesNothingAndResourceVersionIsAPrecondition) {
  auto first = apply(res::kConfigMaps, "test-cm", kConfigMap, "alice");
  clock_.advance(std::chrono::seconds(30));
  auto again = apply(res::kConfigMaps, "test-cm", kConfigMap, "alice");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)["metadata"]["resourceVersion"], (*first)["metadata"]["resourceVersion"]);
  EXPECT_EQ(entry(*again, "alice", "Apply")->at("time"), entry(*first, "alice", "Apply")->at("time"));
  std::string stale = kConfigMap;
  stale.replace(stale.find("name: test-cm"), 13, "name: test-cm\n  resourceVersion: \"1\"");
  auto refused = apply(res::kConfigMaps, "test-cm", stale, "alice");
  EXPECT_EQ(refused.error().reason, ApiErrorReason::kConflict);
  // dryRun computes but stores nothing.
  kube::PatchOptions dry;
  dry.fieldManager = "alice";
  dry.dryRun = true;
  auto d = store_->patch(res::kConfigMaps, "a", "test-cm", PatchType::kApply,
                         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: test-cm}\ndata: {key: dry}\n", dry);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ((*d)["data"]["key"], "dry");
  EXPECT_EQ((*store_->get(res::kConfigMaps, "a", "test-cm"))["data"]["key"], "some value");
}

TEST_F(ServerSideApplyTest, StatusIsAppliedThroughItsSubresourceOnly) {
  const char* sts = R"(
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template: {metadata: {labels: {app: db}}, spec: {containers: [{name: pg, image: postgres:15}]}}
status: {replicas: 9}
)";
  auto created = apply(res::kStatefulSets, "db", sts, "operator");
  ASSERT_TRUE(created.ok()) << created.error().toString();
  EXPECT_FALSE((*created).contains("status") && (*created)["status"].contains("replicas")) << "status ignored on the main resource";
  EXPECT_FALSE(entry(*created, "operator", "Apply")->at("fieldsV1").contains("f:status"));
  auto status = apply(res::kStatefulSets, "db",
                      "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nstatus: {replicas: 1, readyReplicas: 1}\n",
                      "controller", false, "status");
  ASSERT_TRUE(status.ok()) << status.error().toString();
  EXPECT_EQ((*status)["status"]["readyReplicas"], 1);
  EXPECT_EQ((*status)["spec"]["replicas"], 1);
  const Json* e = nullptr;
  for (const auto& m : (*status)["metadata"]["managedFields"]) {
    if (m["manager"] == "controller") e = &m;
  }
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->at("subresource"), "status");
  EXPECT_EQ(e->at("fieldsV1"), Json::parse(R"({"f:status":{"f:readyReplicas":{},"f:replicas":{}}})"));
  EXPECT_EQ((*status)["metadata"]["generation"], 1) << "status does not move the generation";
  auto missing = apply(res::kStatefulSets, "nope", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: nope}\nstatus: {replicas: 1}\n",
                       "controller", false, "status");
  EXPECT_EQ(missing.error().reason, ApiErrorReason::kNotFound);
}

TEST_F(ServerSideApplyTest, ObjectsWithoutManagedFieldsGetBeforeFirstApply) {
  ASSERT_TRUE(store_->create(res::kConfigMaps, "a", {{"metadata", {{"name", "old"}}}, {"data", {{"k", "v"}}}}).ok());
  // Resetting managedFields (an empty list) leaves the object untracked, as a pre-SSA object is.
  Json reset = *store_->get(res::kConfigMaps, "a", "old");
  reset["metadata"]["managedFields"] = Json::array();
  auto untracked = store_->update(res::kConfigMaps, "a", "old", reset);
  ASSERT_TRUE(untracked.ok());
  EXPECT_FALSE((*untracked)["metadata"].contains("managedFields"));
  auto conflict = apply(res::kConfigMaps, "old", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: old}\ndata: {k: w}\n", "m");
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().message, "Apply failed with 1 conflict: conflict with \"before-first-apply\" using v1: .data.k");
}

TEST_F(ServerSideApplyTest, KubectlUpgradesFromClientSideApplyWithoutConflicts) {
  // What `kubectl apply` (client-side) leaves behind: the object and its last-applied annotation,
  // owned by kubectl-client-side-apply.
  Json cm = yaml(kConfigMap);
  Json lastApplied = cm;
  cm["metadata"]["annotations"] = {{"kubectl.kubernetes.io/last-applied-configuration", lastApplied.dump() + "\n"}};
  kube::WriteOptions csa;
  csa.fieldManager = "kubectl-client-side-apply";
  ASSERT_TRUE(store_->create(res::kConfigMaps, "a", cm, csa).ok());
  const std::string changed = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: test-cm}\ndata: {key: new value}\n";
  auto other = apply(res::kConfigMaps, "test-cm", changed, "someone-else");
  ASSERT_FALSE(other.ok()) << "other managers conflict";
  EXPECT_EQ(other.error().message, "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: .data.key");
  auto upgraded = apply(res::kConfigMaps, "test-cm", changed, "kubectl");
  ASSERT_TRUE(upgraded.ok()) << upgraded.error().toString();
  EXPECT_EQ((*upgraded)["data"]["key"], "new value");
  auto ann = parseJson((*upgraded)["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"].get<std::string>());
  ASSERT_TRUE(ann.ok());
  EXPECT_EQ((*ann)["data"]["key"], "new value") << "kubectl's server-side apply keeps the annotation in step";
}

TEST_F(ServerSideApplyTest, AtMostTenUpdateManagers) {
  ASSERT_TRUE(apply(res::kConfigMaps, "test-cm", kConfigMap, "alice").ok());
  for (int i = 0; i < 12; ++i) {
    clock_.advance(std::chrono::seconds(1));
    ASSERT_TRUE(mergePatch(res::kConfigMaps, "test-cm", R"({"data":{"k)" + std::to_string(i) + R"(":"v"}})", "m" + std::to_string(i)).ok());
  }
  auto obj = store_->get(res::kConfigMaps, "a", "test-cm");
  size_t updates = 0;
  bool ancient = false;
  for (const auto& e : (*obj)["metadata"]["managedFields"]) {
    if (e["operation"] == "Update") ++updates;
    if (e["manager"] == "ancient-changes") ancient = true;
  }
  EXPECT_EQ(updates, 10u);
  EXPECT_TRUE(ancient);
}

TEST_F(ServerSideApplyTest, CustomResourceListTypesFromTheSchema) {
  const char* crd = R"(
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.io}
spec:
  group: example.io
  scope: Namespaced
  names: {kind: Gadget, plural: gadgets, singular: gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items: {type: object, properties: {name: {type: string}, port: {type: integer}}}
              tags: {type: array, x-kubernetes-list-type: set, items: {type: string}}
              args: {type: array, items: {type: string}}
              labels: {type: object, additionalProperties: {type: string}}
)";
  ASSERT_TRUE(store_->create(res::kCustomResourceDefinitions, "", yaml(crd)).ok());
  const kube::ResourceRef gadgets{"example.io", "v1", "gadgets", "Gadget", true};
  auto g = apply(gadgets, "g", R"(
apiVersion: example.io/v1
kind: Gadget
metadata: {name: g}
spec: {ports: [{name: http, port: 80}], tags: [a, b], args: [x], labels: {k: v}}
)", "one");
  ASSERT_TRUE(g.ok()) << g.error().toString();
  EXPECT_EQ(entry(*g, "one", "Apply")->at("fieldsV1"), Json::parse(R"({"f:spec":{
    "f:args":{}, "f:labels":{"f:k":{}}, "f:ports":{"k:{\"name\":\"http\"}":{".":{},"f:name":{},"f:port":{}}},
    "f:tags":{"v:\"a\"":{},"v:\"b\"":{}}}})"));
  auto two = apply(gadgets, "g", R"(
apiVersion: example.io/v1
kind: Gadget
metadata: {name: g}
spec: {ports: [{name: https, port: 443}], tags: [c]}
)", "two");
  ASSERT_TRUE(two.ok()) << two.error().toString();
  EXPECT_EQ((*two)["spec"]["ports"].size(), 2u) << "a map list merges by key";
  EXPECT_EQ((*two)["spec"]["tags"], (Json{"a", "b", "c"})) << "a set merges by value";
  auto atomic = apply(gadgets, "g", "apiVersion: example.io/v1\nkind: Gadget\nmetadata: {name: g}\nspec: {args: [y]}\n", "two");
  ASSERT_FALSE(atomic.ok()) << "an atomic list is one field";
  EXPECT_EQ(atomic.error().causes[0].field, ".spec.args");
}

// structured-merge-diff's own cases (merge/set_test.go "apply_update_apply_no_overlap"): a merged
// set keeps the applier's order for its items and the live positions of the others.
TEST(TypedValue, MergedSetsKeepBothOrders) {
  TypeNode set;
  set.listType = ListType::kSet;
  TypeNode root;
  root.fields["list"] = std::make_shared<TypeNode>(set);
  const Json live = {{"list", {"a", "b", "c", "d"}}};
  const Json config = {{"list", {"a", "aprime", "c", "cprime"}}};
  auto merged = mergeObjects(live, config, root);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ((*merged)["list"], (Json{"a", "b", "aprime", "c", "d", "cprime"}));
  auto fields = toFieldSet(config, root, false);
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(fields->toFieldsV1(), Json::parse(R"({"f:list":{"v:\"a\"":{},"v:\"aprime\"":{},"v:\"c\"":{},"v:\"cprime\"":{}}})"));
  auto cmp = compareObjects(live, *merged, root);
  ASSERT_TRUE(cmp.ok());
  EXPECT_EQ(cmp->added.toFieldsV1(), Json::parse(R"({"f:list":{"v:\"aprime\"":{},"v:\"cprime\"":{}}})"));
  EXPECT_TRUE(cmp->removed.empty() && cmp->modified.empty());
  const Json dup = {{"list", {"a", "a"}}};
  EXPECT_EQ(toFieldSet(dup, root, false).error().message, ".list: duplicate entries for key [=\"a\"]");
  EXPECT_TRUE(toFieldSet(dup, root, true).ok()) << "live objects may hold duplicates";
}

TEST(TypedValue, FieldsV1RoundTripsAndPrintsPathsAsKubeDoes) {
  const Json v1 = Json::parse(R"({"f:metadata":{"f:labels":{".":{},"f:app":{}}},
      "f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{}}},"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{}}}})");
  auto set = FieldSet::fromFieldsV1(v1);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->toFieldsV1(), v1);
  std::vector<std::string> printed;
  for (const auto& p : set->paths()) printed.push_back(pathString(p));
  EXPECT_EQ(printed, (std::vector<std::string>{".metadata.labels", ".metadata.labels.app", ".spec.containers[name=\"app\"]",
                                               ".spec.containers[name=\"app\"].image", ".spec.ports[port=80,protocol=\"TCP\"]"}));
  EXPECT_FALSE(FieldSet::fromFieldsV1(Json::parse(R"({"x:y":{}})")).ok());
}

}  // namespace
}  // namespace sdb::apimachinery
