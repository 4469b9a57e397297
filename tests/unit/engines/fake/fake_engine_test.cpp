#include "operator/engines/fake_engine.h"

#include <gtest/gtest.h>

namespace sdb::engines {
namespace {

TEST(FakeEngine, FollowsTheRotationProtocolAndSteadyStateIsEmpty) {
  FakeEngine e;
  Engine::ReconcileInput in{{"a", "orders", "u1"}, {{"app", "old"}}, 10, false};
  auto first = e.reconcile(in);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->empty());
  EXPECT_TRUE(e.reconcile(in)->empty());
  EXPECT_EQ(*e.whichPasswordWorks(in.id, "app", {"old", "new"}), 0u);
  ASSERT_TRUE(e.rotate(in.id, {"app", "new"}).ok());
  EXPECT_EQ(*e.whichPasswordWorks(in.id, "app", {"old", "new"}), 1u);
  e.failNext = Error(ErrorCode::kUnavailable, "down");
  EXPECT_EQ(e.reconcile(in).error().code, ErrorCode::kUnavailable);
  e.foreign.insert("b/orders");
  auto blocked = e.reconcile({{"b", "orders", "u2"}, {}, 10, false});
  ASSERT_EQ(blocked->blockers.size(), 1u);
  EXPECT_TRUE(e.remove(in.id, DeletionPolicy::kRetain)->empty());
  EXPECT_FALSE(e.remove(in.id, DeletionPolicy::kDelete)->empty());
}

}  // namespace
}  // namespace sdb::engines
