// Update rules of built-in kinds as kube-apiserver enforces them, with its error texts, through
// every write path (update, patch, server-side apply).
#include <gtest/gtest.h>

#include "e2e/apimachinery/builtin_rules.h"
#include "e2e/apimachinery/store.h"
#include "operator/schema/yaml_json.h"

namespace sdb::apimachinery {
namespace {

using kube::ApiErrorReason;
using kube::PatchType;
namespace res = kube::resources;

class BuiltinRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = Store::open({}).value();
    ASSERT_TRUE(store_->create(res::kNamespaces, "", {{"metadata", {{"name", "a"}}}}).ok());
  }
  Json create(const kube::ResourceRef& r, const std::string& yaml) {
    auto c = store_->create(r, r.namespaced ? "a" : "", schema::yamlToJson(yaml).value());
    EXPECT_TRUE(c.ok()) << c.error().toString();
    return c.ok() ? *c : Json();
  }
  kube::KResult<Json> patch(const kube::ResourceRef& r, const std::string& name, const std::string& merge) {
    return store_->patch(r, "a", name, PatchType::kMerge, merge);
  }
  std::unique_ptr<Store> store_;
};

const char* kStatefulSet = R"(
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template: {metadata: {labels: {app: db}}, spec: {containers: [{name: pg, image: postgres:15}]}}
  volumeClaimTemplates: [{metadata: {name: data}, spec: {resources: {requests: {storage: 1Gi}}}}]
)";

TEST_F(BuiltinRulesTest, StatefulSetSpecIsImmutableButForItsListedFields) {
  create(res::kStatefulSets, kStatefulSet);
  const std::string forbidden =
      "StatefulSet.apps \"db\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', "
      "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";
  for (const char* change : {R"({"spec":{"serviceName":"other"}})", R"({"spec":{"selector":{"matchLabels":{"app":"x"}}}})",
                             R"({"spec":{"volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"resources":{"requests":{"storage":"2Gi"}}}}]}})",
                             R"({"spec":{"podManagementPolicy":"Parallel"}})"}) {
    auto refused = patch(res::kStatefulSets, "db", change);
    ASSERT_FALSE(refused.ok()) << change;
    EXPECT_EQ(refused.error().httpCode, 422);
    EXPECT_EQ(refused.error().message, forbidden);
    ASSERT_EQ(refused.error().causes.size(), 1u);
    EXPECT_EQ(refused.error().causes[0].reason, "FieldValueForbidden");
    EXPECT_EQ(refused.error().causes[0].field, "spec");
  }
  auto allowed = patch(res::kStatefulSets, "db",
                       R"({"spec":{"replicas":3,"minReadySeconds":5,"updateStrategy":{"type":"OnDelete"},
                           "persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Delete"},
                           "template":{"spec":{"containers":[{"name":"pg","image":"postgres:16"}]}}}})");
  ASSERT_TRUE(allowed.ok()) << allowed.error().toString();
  // Server-side apply meets the same rule.
  kube::PatchOptions o;
  o.fieldManager = "op";
  o.force = true;
  auto applied = store_->patch(res::kStatefulSets, "a", "db", PatchType::kApply,
                               "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec: {serviceName: renamed}\n", o);
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().message, forbidden);
  // Status is not the spec.
  auto status = store_->patch(res::kStatefulSets, "a", "db", PatchType::kMerge, R"({"status":{"replicas":3}})", {}, "status");
  EXPECT_TRUE(status.ok());
}

TEST_F(BuiltinRulesTest, JobTemplateAndSelectorAreImmutable) {
  create(res::kJobs, R"(
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  selector: {matchLabels: {job: migrate}}
  template: {metadata: {labels: {job: migrate}}, spec: {restartPolicy: Never, containers: [{name: m, image: app:1}]}}
)");
  auto template_ = patch(res::kJobs, "migrate", R"({"spec":{"template":{"spec":{"containers":[{"name":"m","image":"app:2"}]}}}})");
  ASSERT_FALSE(template_.ok());
  EXPECT_EQ(template_.error().httpCode, 422);
  ASSERT_EQ(template_.error().causes.size(), 1u);
  EXPECT_EQ(template_.error().causes[0].field, "spec.template");
  EXPECT_EQ(template_.error().message.rfind("Job.batch \"migrate\" is invalid: spec.template: Invalid value: {", 0), 0u)
      << template_.error().message;
  EXPECT_NE(template_.error().message.find("\"image\":\"app:2\""), std::string::npos);
  EXPECT_EQ(template_.error().message.substr(template_.error().message.size() - 20), ": field is immutable");
  auto selector = patch(res::kJobs, "migrate", R"({"spec":{"selector":{"matchLabels":{"job":"other"}}}})");
  ASSERT_FALSE(selector.ok());
  EXPECT_EQ(selector.error().message,
            "Job.batch \"migrate\" is invalid: spec.selector: Invalid value: {\"matchLabels\":{\"job\":\"other\"}}: field is immutable");
  EXPECT_TRUE(patch(res::kJobs, "migrate", R"({"spec":{"parallelism":2},"metadata":{"labels":{"x":"y"}}})").ok());
  // A suspended Job that never started may move its pods.
  create(res::kJobs, R"(
apiVersion: batch/v1
kind: Job
metadata: {name: later}
spec:
  suspend: true
  template: {spec: {restartPolicy: Never, containers: [{name: m, image: app:1}]}}
)");
  EXPECT_TRUE(patch(res::kJobs, "later", R"({"spec":{"template":{"spec":{"nodeSelector":{"disk":"ssd"}}}}})").ok());
  EXPECT_FALSE(patch(res::kJobs, "later", R"({"spec":{"template":{"spec":{"containers":[{"name":"m","image":"app:2"}]}}}})").ok());
}

TEST_F(BuiltinRulesTest, DeploymentSelectorIsImmutable) {
  create(res::kDeployments, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {selector: {matchLabels: {app: web}}}\n");
  auto refused = patch(res::kDeployments, "web", R"({"spec":{"selector":{"matchLabels":{"app":"other"}}}})");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().causes[0].field, "spec.selector");
}

TEST_F(BuiltinRulesTest, SecretsFoldStringDataAndHonourImmutable) {
  Json s = create(res::kSecrets, "apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData: {password: hunter2}\nimmutable: true\n");
  EXPECT_FALSE(s.contains("stringData")) << "stringData is write-only";
  EXPECT_EQ(s["data"]["password"], "aHVudGVyMg==");
  EXPECT_EQ(s["type"], "Opaque");
  auto changed = patch(res::kSecrets, "creds", R"({"stringData":{"password":"other"}})");
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.error().message, "Secret \"creds\" is invalid: data: Forbidden: field is immutable when `immutable` is set");
  auto unset = patch(res::kSecrets, "creds", R"({"immutable":false})");
  EXPECT_EQ(unset.error().message, "Secret \"creds\" is invalid: immutable: Forbidden: field is immutable when `immutable` is set");
  EXPECT_TRUE(patch(res::kSecrets, "creds", R"({"metadata":{"labels":{"ok":"yes"}}})").ok()) << "metadata may change";
  EXPECT_TRUE(patch(res::kSecrets, "creds", R"({"stringData":{"password":"hunter2"}})").ok()) << "the same data is no change";
  create(res::kSecrets, "apiVersion: v1\nkind: Secret\nmetadata: {name: tls}\ntype: kubernetes.io/tls\n");
  auto type = patch(res::kSecrets, "tls", R"({"type":"Opaque"})");
  EXPECT_EQ(type.error().message, "Secret \"tls\" is invalid: type: Invalid value: \"Opaque\": field is immutable");
}

TEST_F(BuiltinRulesTest, ImmutableConfigMaps) {
  create(res::kConfigMaps, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\nimmutable: true\n");
  auto refused = patch(res::kConfigMaps, "c", R"({"data":{"a":"c"},"binaryData":{"x":"eHl6"}})");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message,
            "ConfigMap \"c\" is invalid: [data: Forbidden: field is immutable when `immutable` is set, binaryData: Forbidden: "
            "field is immutable when `immutable` is set]");
  create(res::kConfigMaps, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata: {a: b}\n");
  EXPECT_TRUE(patch(res::kConfigMaps, "m", R"({"data":{"a":"c"},"immutable":true})").ok()) << "becoming immutable is a change like any";
}

TEST_F(BuiltinRulesTest, PersistentVolumeClaimsGrowOnlyWhenBoundAndTheClassAllows) {
  create(res::kStorageClasses, "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: fixed}\nprovisioner: x\n");
  create(res::kStorageClasses, "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: growing}\nprovisioner: x\nallowVolumeExpansion: true\n");
  for (const char* pvc : {"fixed", "growing"}) {
    create(res::kPersistentVolumeClaims, std::string("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: ") + pvc +
                                             "}\nspec: {storageClassName: " + pvc +
                                             ", accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n");
  }
  auto unbound = patch(res::kPersistentVolumeClaims, "growing", R"({"spec":{"resources":{"requests":{"storage":"2Gi"}}}})");
  ASSERT_FALSE(unbound.ok());
  EXPECT_EQ(unbound.error().message,
            "PersistentVolumeClaim \"growing\" is invalid: spec: Forbidden: spec is immutable after creation except "
            "resources.requests for bound claims");
  for (const char* pvc : {"fixed", "growing"}) {
    ASSERT_TRUE(store_->patch(res::kPersistentVolumeClaims, "a", pvc, PatchType::kMerge,
                              R"({"status":{"phase":"Bound","capacity":{"storage":"1Gi"}}})", {}, "status").ok());
  }
  auto grown = patch(res::kPersistentVolumeClaims, "growing", R"({"spec":{"resources":{"requests":{"storage":"2Gi"}}}})");
  ASSERT_TRUE(grown.ok()) << grown.error().toString();
  auto fixed = patch(res::kPersistentVolumeClaims, "fixed", R"({"spec":{"resources":{"requests":{"storage":"2Gi"}}}})");
  ASSERT_FALSE(fixed.ok());
  EXPECT_EQ(fixed.error().httpCode, 403);
  EXPECT_EQ(fixed.error().message,
            "persistentvolumeclaims \"fixed\" is forbidden: only dynamically provisioned pvc can be resized and the "
            "storageclass that provisions the pvc must support resize");
  auto shrunk = patch(res::kPersistentVolumeClaims, "growing", R"({"spec":{"resources":{"requests":{"storage":"512Mi"}}}})");
  ASSERT_FALSE(shrunk.ok());
  EXPECT_EQ(shrunk.error().message,
            "PersistentVolumeClaim \"growing\" is invalid: spec.resources.requests.storage: Forbidden: field can not be less "
            "than status.capacity");
  EXPECT_TRUE(patch(res::kPersistentVolumeClaims, "growing", R"({"spec":{"resources":{"requests":{"storage":"1536Mi"}}}})").ok())
      << "back down towards the capacity: a recovery from a failed expansion";
  auto mode = patch(res::kPersistentVolumeClaims, "growing", R"({"spec":{"accessModes":["ReadWriteMany"]}})");
  EXPECT_EQ(mode.error().causes[0].field, "spec");
}

TEST(Quantity, ParsesKubernetesSuffixes) {
  EXPECT_EQ(*parseQuantity("1Gi"), 1073741824.0L);
  EXPECT_EQ(*parseQuantity("1536Mi"), 1.5L * 1073741824.0L);
  EXPECT_EQ(*parseQuantity("2G"), 2e9L);
  EXPECT_NEAR(static_cast<double>(*parseQuantity("500m")), 0.5, 1e-12);
  EXPECT_EQ(*parseQuantity("1e3"), 1000.0L);
  EXPECT_EQ(*parseQuantity("1.5Ki"), 1536.0L);
  EXPECT_FALSE(parseQuantity("lots").has_value());
  EXPECT_FALSE(parseQuantity("1Xi").has_value());
}

}  // namespace
}  // namespace sdb::apimachinery
