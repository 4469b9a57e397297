// PersistentVolumeClaim binding, StorageClasses, expansion, and the scheduler's volume binding.
#include "e2e/workloads/volume_binder.h"
#include "tests/unit/workloads/fixture.h"

namespace sdb::workloads::testing {
namespace {

class VolumesTest : public WorkloadsTest {
 protected:
  Json claim(const std::string& name, const std::string& size = "1Gi") {
    return {{"metadata", {{"name", name}}},
            {"spec", {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", size}}}}}}}};
  }
  std::string phase(const std::string& name) {
    auto c = get(res::kPersistentVolumeClaims, name);
    return c ? jsonString(*c, {"status", "phase"}) : "";
  }
  Json podUsing(const std::string& name, const std::string& claimName) {
    return {{"metadata", {{"name", name}}},
            {"spec", {{"containers", {container()}},
                      {"volumes", {{{"name", "data"}, {"persistentVolumeClaim", {{"claimName", claimName}}}}}}}}};
  }
  Json scheduled(const std::string& pod) {
    auto p = get(res::kPods, pod);
    if (!p) return Json::object();
    for (const auto& c : (*p)["status"].value("conditions", Json::array())) {
      if (c["type"] == "PodScheduled") return c;
    }
    return Json::object();
  }
};

TEST_F(VolumesTest, AFreshClusterHasTheDefaultExpandableClass) {
  auto sc = client_->get(res::kStorageClasses, "", "standard");
  ASSERT_TRUE(sc.ok());
  EXPECT_EQ((*sc)["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"], "true");
  EXPECT_EQ((*sc)["allowVolumeExpansion"], true);
  EXPECT_EQ((*sc)["volumeBindingMode"], "Immediate");
  EXPECT_EQ((*sc)["reclaimPolicy"], "Delete");
}

TEST_F(VolumesTest, ClaimsBindWithCapacityAndExpand) {
  const Json c = create(res::kPersistentVolumeClaims, claim("data"));
  ASSERT_TRUE(eventually([&] { return phase("data") == "Bound"; }));
  Json bound = *get(res::kPersistentVolumeClaims, "data");
  EXPECT_EQ(bound["spec"]["storageClassName"], "standard");  // retroactive default class
  EXPECT_EQ(bound["spec"]["volumeName"], "pvc-" + c["metadata"]["uid"].get<std::string>());
  EXPECT_EQ(bound["status"]["capacity"]["storage"], "1Gi");
  EXPECT_EQ(bound["status"]["accessModes"], (Json{"ReadWriteOnce"}));
  EXPECT_EQ(bound["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"], "yes");
  patch(res::kPersistentVolumeClaims, "data", {{"spec", {{"resources", {{"requests", {{"storage", "3Gi"}}}}}}}});
  ASSERT_TRUE(eventually([&] { return jsonString(*get(res::kPersistentVolumeClaims, "data"), {"status", "capacity", "storage"}) == "3Gi"; }));
}

TEST_F(VolumesTest, ClassesThatDoNotAllowExpansionKeepTheCapacity) {
  create(res::kStorageClasses, {{"metadata", {{"name", "fixed"}}}, {"provisioner", "x"}});
  Json c = claim("fixed");
  c["spec"]["storageClassName"] = "fixed";
  create(res::kPersistentVolumeClaims, c);
  ASSERT_TRUE(eventually([&] { return phase("fixed") == "Bound"; }));
  // The API refuses it (the PersistentVolumeClaimResize admission plugin), and nothing moves.
  auto refused = client_->patch(res::kPersistentVolumeClaims, "default", "fixed", kube::PatchType::kMerge,
                                Json{{"spec", {{"resources", {{"requests", {{"storage", "2Gi"}}}}}}}}.dump());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().httpCode, 403);
  settle();
  EXPECT_EQ(jsonString(*get(res::kPersistentVolumeClaims, "fixed"), {"status", "capacity", "storage"}), "1Gi");
}

TEST_F(VolumesTest, AMissingClassOrTheEmptyClassStaysPending) {
  Json missing = claim("missing"), none = claim("none");
  missing["spec"]["storageClassName"] = "fast";
  none["spec"]["storageClassName"] = "";
  create(res::kPersistentVolumeClaims, missing);
  create(res::kPersistentVolumeClaims, none);
  settle();
  EXPECT_EQ(phase("missing"), "Pending");
  EXPECT_EQ(phase("none"), "Pending");
  // The class appearing later binds the waiting claim.
  create(res::kStorageClasses, {{"metadata", {{"name", "fast"}}}, {"provisioner", "x"}});
  ASSERT_TRUE(eventually([&] { return phase("missing") == "Bound"; }));
  EXPECT_EQ(phase("none"), "Pending");
}

TEST_F(VolumesTest, SchedulerBindsPodsAndWaitsForTheirClaims) {
  create(res::kPods, {{"metadata", {{"name", "bare"}}}, {"spec", {{"containers", {container()}}}}});
  ASSERT_TRUE(eventually([&] { return jsonString(*get(res::kPods, "bare"), {"spec", "nodeName"}) == kDefaultNodeName; }));
  EXPECT_EQ(scheduled("bare")["status"], "True");
  // A pod whose claim does not exist is Unschedulable until it does.
  create(res::kPods, podUsing("user", "later"));
  ASSERT_TRUE(eventually([&] { return scheduled("user").value("reason", "") == "Unschedulable"; }));
  EXPECT_EQ(scheduled("user")["message"], "0/1 nodes are available: persistentvolumeclaim \"later\" not found.");
  EXPECT_EQ(jsonString(*get(res::kPods, "user"), {"spec", "nodeName"}), "");
  create(res::kPersistentVolumeClaims, claim("later"));
  ASSERT_TRUE(eventually([&] { return jsonString(*get(res::kPods, "user"), {"spec", "nodeName"}) == kDefaultNodeName; }));
  EXPECT_EQ(scheduled("user")["status"], "True");
  EXPECT_EQ(phase("later"), "Bound");
  // Another scheduler's pods are not ours.
  create(res::kPods, {{"metadata", {{"name", "theirs"}}}, {"spec", {{"schedulerName", "custom"}, {"containers", {container()}}}}});
  settle();
  EXPECT_EQ(jsonString(*get(res::kPods, "theirs"), {"spec", "nodeName"}), "");
}

TEST_F(VolumesTest, WaitForFirstConsumerBindsWhenAPodIsScheduled) {
  create(res::kStorageClasses, {{"metadata", {{"name", "local"}}}, {"provisioner", "x"}, {"volumeBindingMode", "WaitForFirstConsumer"}});
  Json c = claim("late");
  c["spec"]["storageClassName"] = "local";
  create(res::kPersistentVolumeClaims, c);
  settle();
  EXPECT_EQ(phase("late"), "Pending");
  create(res::kPods, podUsing("consumer", "late"));
  ASSERT_TRUE(eventually([&] { return phase("late") == "Bound"; }));
  EXPECT_EQ(jsonString(*get(res::kPersistentVolumeClaims, "late"), {"metadata", "annotations", "volume.kubernetes.io/selected-node"}),
            kDefaultNodeName);
  ASSERT_TRUE(eventually([&] { return jsonString(*get(res::kPods, "consumer"), {"spec", "nodeName"}) == kDefaultNodeName; }));
}

TEST(Quantity, ParsesKubernetesSuffixes) {
  EXPECT_EQ(*parseQuantity("1Gi"), 1073741824.0L);
  EXPECT_EQ(*parseQuantity("500M"), 5e8L);
  EXPECT_EQ(*parseQuantity("1.5Ki"), 1536.0L);
  EXPECT_EQ(*parseQuantity("1e3"), 1000.0L);
  EXPECT_GT(*parseQuantity("2Gi"), *parseQuantity("2G"));
  EXPECT_FALSE(parseQuantity("lots").has_value());
  EXPECT_FALSE(parseQuantity("1Zi").has_value());
}

}  // namespace
}  // namespace sdb::workloads::testing
