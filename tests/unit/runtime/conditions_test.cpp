#include "operator/runtime/conditions.h"

#include <gtest/gtest.h>

#include "operator/core/clock.h"
#include "operator/runtime/object_helpers.h"
#include "operator/runtime/status_writer.h"

using namespace std::chrono_literals;
using namespace sdb::runtime;
using sdb::Json;

TEST(Conditions, TransitionTimeKeptUnlessStatusFlips) {
  sdb::FakeClock clock(std::chrono::system_clock::from_time_t(1'700'000'000));
  Json status;
  EXPECT_TRUE(setCondition(status, {"Ready", "False", "Creating", "creating", 1}, clock.now()));
  auto t0 = status["conditions"][0]["lastTransitionTime"];
  clock.advance(60s);
  EXPECT_FALSE(setCondition(status, {"Ready", "False", "Creating", "creating", 1}, clock.now()));
  EXPECT_TRUE(setCondition(status, {"Ready", "False", "Waiting", "waiting", 2}, clock.now()));
  EXPECT_EQ(status["conditions"][0]["lastTransitionTime"], t0) << "reason change is not a transition";
  EXPECT_EQ(findCondition(status, "Ready")->observedGeneration, 2);
  EXPECT_TRUE(setCondition(status, {"Ready", "True", "Ready", "ok", 2}, clock.now()));
  EXPECT_NE(status["conditions"][0]["lastTransitionTime"], t0);
  EXPECT_TRUE(isConditionTrue(status, "Ready"));
  EXPECT_FALSE(isConditionTrue(status, "Stalled"));
  EXPECT_TRUE(removeCondition(status, "Ready"));
  EXPECT_FALSE(findCondition(status, "Ready").has_value());
}

TEST(Conditions, SemanticEqualityIgnoresTransitionTimesOnly) {
  Json a = {{"observedGeneration", 1},
            {"conditions", {{{"type", "Ready"}, {"status", "False"}, {"lastTransitionTime", "2026-01-01T00:00:00Z"}}}}};
  Json b = a;
  b["conditions"][0]["lastTransitionTime"] = "2026-02-02T00:00:00Z";
  EXPECT_TRUE(statusSemanticallyEqual(a, b));
  b["conditions"][0]["status"] = "True";
  EXPECT_FALSE(statusSemanticallyEqual(a, b));
  EXPECT_TRUE(statusSemanticallyEqual(Json(), Json::object()));
}

TEST(ApplyNoOp, SubsetComparison) {
  Json live = {{"metadata", {{"name", "x"}, {"labels", {{"a", "1"}, {"b", "2"}}}, {"resourceVersion", "7"}}},
               {"spec", {{"replicas", 1}, {"ports", {{{"port", 5432}, {"protocol", "TCP"}}}}}}};
  Json desired = {{"metadata", {{"name", "x"}, {"labels", {{"a", "1"}}}}},
                  {"spec", {{"replicas", 1}, {"ports", {{{"port", 5432}}}}}}};
  EXPECT_TRUE(isJsonSubset(desired, live));
  desired["spec"]["replicas"] = 2;
  EXPECT_FALSE(isJsonSubset(desired, live));
  desired["spec"]["replicas"] = 1.0;
  EXPECT_TRUE(isJsonSubset(desired, live)) << "numbers compare by value";
  desired["spec"]["ports"].push_back({{"port", 1}});
  EXPECT_FALSE(isJsonSubset(desired, live)) << "a list of a different length differs";
}

TEST(OwnerRefs, ControllerReferenceAndConflicts) {
  Json owner = {{"apiVersion", "servicedb.io/v1alpha1"},
                {"kind", "ServiceDatabase"},
                {"metadata", {{"name", "orders"}, {"uid", "u1"}}}};
  Json child = {{"metadata", {{"name", "orders-pg"}, {"namespace", "shop"}}}};
  EXPECT_TRUE(setControllerReference(owner, child));
  EXPECT_TRUE(setControllerReference(owner, child)) << "idempotent";
  EXPECT_EQ(child["metadata"]["ownerReferences"].size(), 1u);
  auto ref = controllerOf(child);
  ASSERT_TRUE(ref);
  EXPECT_EQ((*ref)["uid"], "u1");
  EXPECT_EQ((*ref)["blockOwnerDeletion"], true);
  Json other = owner;
  other["metadata"]["uid"] = "u2";
  EXPECT_FALSE(setControllerReference(other, child)) << "an object has at most one controller";
  EXPECT_EQ(objectKey(child), "shop/orders-pg");
  EXPECT_EQ(splitKey("shop/orders-pg").second, "orders-pg");
  EXPECT_EQ(splitKey("cluster-thing").first, "");
}

TEST(Finalizers, HasFinalizer) {
  Json obj = {{"metadata", {{"finalizers", {"servicedb.io/cleanup"}}}}};
  EXPECT_TRUE(hasFinalizer(obj, "servicedb.io/cleanup"));
  EXPECT_FALSE(hasFinalizer(obj, "other"));
  EXPECT_FALSE(hasFinalizer(Json::object(), "other"));
}
