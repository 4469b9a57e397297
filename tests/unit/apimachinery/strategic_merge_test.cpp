// Strategic merge patch on built-in kinds, with cases from Kubernetes' documentation ("Update API
// Objects in Place Using kubectl patch") and the directives kubectl sends.
#include <gtest/gtest.h>

#include "e2e/apimachinery/registry.h"
#include "e2e/apimachinery/strategic_merge.h"
#include "operator/schema/yaml_json.h"

namespace sdb::apimachinery {
namespace {

Json y(const std::string& text) { return schema::yamlToJson(text).value(); }

TypeRef schemaOf(const std::string& group, const std::string& resource) {
  return schemaFor(*Registry().byResource(group, "v1", resource));
}

kube::KResult<Json> patchDeployment(const Json& live, const std::string& patch) {
  return applyStrategicMergePatch(live, y(patch), *schemaOf("apps", "deployments"));
}

std::vector<std::string> names(const Json& list, const std::string& key = "name") {
  std::vector<std::string> out;
  for (const auto& i : list) out.push_back(i.is_object() ? i.value(key, "") : i.get<std::string>());
  return out;
}

// The documentation's patch-demo Deployment.
const char* kDemo = R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: patch-demo}
spec:
  replicas: 2
  selector: {matchLabels: {app: nginx}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers:
      - name: patch-demo-ctr
        image: nginx
        env: [{name: A, value: "1"}]
        ports: [{containerPort: 80}]
      tolerations:
      - {effect: NoSchedule, key: dedicated, value: test-team}
)";

TEST(StrategicMergePatch, ContainersMergeByNameWhereAMergePatchWouldReplace) {
  auto out = patchDeployment(y(kDemo), R"({"spec": {"template": {"spec": {"containers": [{"name": "patch-demo-ctr-2", "image": "redis"}]}}}})");
  ASSERT_TRUE(out.ok()) << out.error().toString();
  const Json& c = (*out)["spec"]["template"]["spec"]["containers"];
  // As in the documentation's output: the new container comes first.
  EXPECT_EQ(names(c), (std::vector<std::string>{"patch-demo-ctr-2", "patch-demo-ctr"}));
  EXPECT_EQ(c[1]["image"], "nginx");
}

TEST(StrategicMergePatch, ListsWithoutAStrategyAreReplaced) {
  auto out = patchDeployment(y(kDemo), R"({"spec": {"template": {"spec": {"tolerations": [{"effect": "NoSchedule", "key": "disktype", "value": "ssd"}]}}}})");
  ASSERT_TRUE(out.ok());
  const Json& t = (*out)["spec"]["template"]["spec"]["tolerations"];
  ASSERT_EQ(t.size(), 1u) << "the documentation: the tolerations list is replaced, not merged";
  EXPECT_EQ(t[0]["key"], "disktype");
}

TEST(StrategicMergePatch, RetainKeysClearsWhatTheDirectiveDoesNotName) {
  // The documentation's retainKeys example: switching to Recreate drops rollingUpdate.
  auto out = patchDeployment(y(kDemo), R"({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})");
  ASSERT_TRUE(out.ok()) << out.error().toString();
  EXPECT_EQ((*out)["spec"]["strategy"], (Json{{"type", "Recreate"}}));
  auto plain = patchDeployment(y(kDemo), R"({"spec": {"strategy": {"type": "Recreate"}}})");
  EXPECT_TRUE((*plain)["spec"]["strategy"].contains("rollingUpdate")) << "without the directive the map merges";
  auto bad = patchDeployment(y(kDemo), R"({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 2}}}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().httpCode, 400);
  EXPECT_EQ(bad.error().message, "invalid patch format of retainKeys");
}

TEST(StrategicMergePatch, NestedListsMergeByTheirOwnKeys) {
  auto out = patchDeployment(y(kDemo), R"({"spec": {"template": {"spec": {"containers": [
      {"name": "patch-demo-ctr", "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "one"}],
       "ports": [{"containerPort": 443}], "volumeMounts": [{"mountPath": "/data", "name": "d"}]}]}}}})");
  ASSERT_TRUE(out.ok()) << out.error().toString();
  const Json& c = (*out)["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["image"], "nginx");
  ASSERT_EQ(c["env"].size(), 2u);
  EXPECT_EQ(c["env"][0], (Json{{"name", "B"}, {"value", "2"}})) << "the patch's order for the items it names";
  EXPECT_EQ(c["env"][1], (Json{{"name", "A"}, {"value", "one"}}));
  std::vector<int> ports;
  for (const auto& p : c["ports"]) ports.push_back(p["containerPort"]);
  EXPECT_EQ(ports, (std::vector<int>{443, 80})) << "a new item the live order cannot place goes first";
  EXPECT_EQ(c["volumeMounts"].size(), 1u);
}

TEST(StrategicMergePatch, DeleteAndReplaceDirectives) {
  Json live = y(kDemo);
  live["spec"]["template"]["spec"]["containers"].push_back({{"name", "sidecar"}, {"image", "proxy"}});
  auto deleted = patchDeployment(live, R"({"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}})");
  ASSERT_TRUE(deleted.ok()) << deleted.error().toString();
  EXPECT_EQ(names((*deleted)["spec"]["template"]["spec"]["containers"]), (std::vector<std::string>{"patch-demo-ctr"}));
  auto replaced = patchDeployment(live, R"({"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "x"}]}}}})");
  ASSERT_TRUE(replaced.ok()) << replaced.error().toString();
  EXPECT_EQ(names((*replaced)["spec"]["template"]["spec"]["containers"]), (std::vector<std::string>{"only"}));
  auto mapReplaced = patchDeployment(live, R"({"spec": {"template": {"metadata": {"labels": {"$patch": "replace", "tier": "web"}}}}})");
  ASSERT_TRUE(mapReplaced.ok());
  EXPECT_EQ((*mapReplaced)["spec"]["template"]["metadata"]["labels"], (Json{{"tier", "web"}}));
  auto mapDeleted = patchDeployment(live, R"({"spec": {"strategy": {"$patch": "delete"}}})");
  EXPECT_EQ((*mapDeleted)["spec"]["strategy"], Json::object());
  auto unknown = patchDeployment(live, R"({"spec": {"strategy": {"$patch": "shuffle"}}})");
  EXPECT_EQ(unknown.error().httpCode, 500);
  EXPECT_EQ(unknown.error().message, "unknown patch type: shuffle in map: map[$patch:shuffle]");
}

// Pod volumes: patchMergeKey name, patchStrategy merge,retainKeys (k8s.io/api core/v1).
TEST(StrategicMergePatch, VolumesMergeByNameAndSwitchSourceWithRetainKeys) {
  Json live = y(kDemo);
  live["spec"]["template"]["spec"]["volumes"] = y(R"([{name: data, configMap: {name: cfg}}, {name: tmp, emptyDir: {}}])");
  auto added = patchDeployment(live, R"({"spec": {"template": {"spec": {"volumes": [{"name": "cache", "emptyDir": {"medium": "Memory"}}]}}}})");
  ASSERT_TRUE(added.ok()) << added.error().toString();
  const Json& v = (*added)["spec"]["template"]["spec"]["volumes"];
  EXPECT_EQ(names(v), (std::vector<std::string>{"cache", "data", "tmp"})) << "merged by name, not replaced";
  EXPECT_EQ(v[1]["configMap"]["name"], "cfg");

  auto changed = patchDeployment(live, R"({"spec": {"template": {"spec": {"volumes": [{"name": "data", "configMap": {"name": "cfg2"}}]}}}})");
  ASSERT_TRUE(changed.ok()) << changed.error().toString();
  const Json& c = (*changed)["spec"]["template"]["spec"]["volumes"];
  EXPECT_EQ(names(c), (std::vector<std::string>{"data", "tmp"}));
  EXPECT_EQ(c[0], y("{name: data, configMap: {name: cfg2}}"));

  // Switching a volume's source: kubectl sends $retainKeys so the old source goes.
  auto switched = patchDeployment(live, R"({"spec": {"template": {"spec": {"volumes": [
      {"name": "data", "$retainKeys": ["name", "secret"], "secret": {"secretName": "s"}}]}}}})");
  ASSERT_TRUE(switched.ok()) << switched.error().toString();
  EXPECT_EQ((*switched)["spec"]["template"]["spec"]["volumes"][0], y("{name: data, secret: {secretName: s}}"));
  auto merged = patchDeployment(live, R"({"spec": {"template": {"spec": {"volumes": [{"name": "data", "secret": {"secretName": "s"}}]}}}})");
  ASSERT_TRUE(merged.ok());
  EXPECT_TRUE((*merged)["spec"]["template"]["spec"]["volumes"][0].contains("configMap")) << "without the directive both stay";

  auto removed = patchDeployment(live, R"({"spec": {"template": {"spec": {"volumes": [{"name": "tmp", "$patch": "delete"}]}}}})");
  ASSERT_TRUE(removed.ok()) << removed.error().toString();
  EXPECT_EQ(names((*removed)["spec"]["template"]["spec"]["volumes"]), (std::vector<std::string>{"data"}));
}

TEST(StrategicMergePatch, MissingMergeKeyIsAnError) {
  auto out = patchDeployment(y(kDemo), R"({"spec": {"template": {"spec": {"containers": [{"image": "redis"}]}}}})");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().httpCode, 500);
  EXPECT_EQ(out.error().message, "map: map[image:redis] does not contain declared merge key: name");
}

TEST(StrategicMergePatch, PrimitiveListsMergeAsSetsWithParallelDeletions) {
  Json cm = y("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: [a, b]}\n");
  const auto& t = *schemaOf("", "configmaps");
  auto added = applyStrategicMergePatch(cm, y(R"({"metadata": {"finalizers": ["c", "a"]}})"), t);
  ASSERT_TRUE(added.ok());
  EXPECT_EQ((*added)["metadata"]["finalizers"], (Json{"c", "a", "b"})) << "a union: the patch's items in its order, then b";
  auto removed = applyStrategicMergePatch(cm, y(R"({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})"), t);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ((*removed)["metadata"]["finalizers"], (Json{"b"}));
  auto badPrefix = applyStrategicMergePatch(cm, y(R"({"metadata": {"$deleteFromPrimitiveList": ["a"]}})"), t);
  EXPECT_EQ(badPrefix.error().message, "invalid patch format of primitive list");
  // Nulls delete keys; nulls below new keys are dropped.
  auto nulls = applyStrategicMergePatch(cm, y(R"({"metadata": {"finalizers": null, "labels": {"a": "x", "b": null}}})"), t);
  EXPECT_FALSE((*nulls)["metadata"].contains("finalizers"));
  EXPECT_EQ((*nulls)["metadata"]["labels"], (Json{{"a", "x"}}));
}

TEST(StrategicMergePatch, SetElementOrderOrdersTheMergedList) {
  Json live = y(kDemo);
  live["spec"]["template"]["spec"]["containers"].push_back({{"name", "b"}, {"image", "b"}});
  // kubectl's client-side apply after reordering and adding: the order directive names every item.
  auto out = patchDeployment(live, R"({"spec": {"template": {"spec": {
      "$setElementOrder/containers": [{"name": "c"}, {"name": "b"}, {"name": "patch-demo-ctr"}],
      "containers": [{"name": "c", "image": "c"}]}}}})");
  ASSERT_TRUE(out.ok()) << out.error().toString();
  EXPECT_EQ(names((*out)["spec"]["template"]["spec"]["containers"]), (std::vector<std::string>{"c", "b", "patch-demo-ctr"}));
  auto mismatch = patchDeployment(live, R"({"spec": {"template": {"spec": {
      "$setElementOrder/containers": [{"name": "b"}], "containers": [{"name": "c", "image": "c"}]}}}})");
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("doesn't match $setElementOrder list"), std::string::npos) << mismatch.error().message;
}

TEST(StrategicMergePatch, ServicePortsByPortConditionsByTypeOwnersByUid) {
  Json svc = y("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, name: http}, {port: 443, name: https}]}\n"
               "status: {conditions: [{type: A, status: 'True'}]}\n");
  auto out = applyStrategicMergePatch(svc, y(R"({"spec": {"ports": [{"port": 443, "targetPort": 8443}]},
      "status": {"conditions": [{"type": "B", "status": "False"}, {"type": "A", "status": "False"}]},
      "metadata": {"ownerReferences": [{"uid": "u1", "name": "o"}]}})"), *schemaOf("", "services"));
  ASSERT_TRUE(out.ok()) << out.error().toString();
  EXPECT_EQ((*out)["spec"]["ports"].size(), 2u);
  EXPECT_EQ((*out)["spec"]["ports"][1]["targetPort"], 8443);
  EXPECT_EQ((*out)["spec"]["ports"][1]["name"], "https");
  EXPECT_EQ(names((*out)["status"]["conditions"], "type"), (std::vector<std::string>{"B", "A"}));
  auto owners = applyStrategicMergePatch(*out, y(R"({"metadata": {"ownerReferences": [{"uid": "u2", "name": "p"}]}})"),
                                         *schemaOf("", "services"));
  EXPECT_EQ(names((*owners)["metadata"]["ownerReferences"], "uid"), (std::vector<std::string>{"u2", "u1"}));
}

TEST(StrategicMergePatch, StatefulSetVolumeClaimTemplatesAreReplaced) {
  Json sts = y("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\n"
               "spec: {volumeClaimTemplates: [{metadata: {name: data}}, {metadata: {name: wal}}]}\n");
  auto out = applyStrategicMergePatch(sts, y(R"({"spec": {"volumeClaimTemplates": [{"metadata": {"name": "other"}}]}})"),
                                      *schemaOf("apps", "statefulsets"));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)["spec"]["volumeClaimTemplates"].size(), 1u);
}

}  // namespace
}  // namespace sdb::apimachinery
