// The leader-overlap check used by the leader-election e2e test must be able to fail: it is fed
// histories with and without a deposed leader's late write.
#include <gtest/gtest.h>

#include "e2e/fixture/leader_overlap.h"

using namespace sdb::e2e;

TEST(LeaderOverlapCheck, CleanHandOverPasses) {
  std::vector<LeaseObservation> lease = {{10, "a"}, {14, "a"}, {30, "b"}, {33, "b"}};
  std::vector<WriteObservation> writes = {{11, "a", "cm"}, {20, "a", "cm"}, {31, "b", "cm"}, {40, "b", "cm"}};
  EXPECT_TRUE(writesOutsideLeadership(lease, writes).empty());
}

TEST(LeaderOverlapCheck, DeposedLeadersLateWriteIsReported) {
  std::vector<LeaseObservation> lease = {{30, "b"}, {10, "a"}};  // unsorted on purpose
  std::vector<WriteObservation> writes = {{11, "a", "cm"}, {31, "b", "cm"}, {32, "a", "cm"}};
  auto v = writesOutsideLeadership(lease, writes);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].find("written by \"a\" at resourceVersion 32 while the Lease was held by \"b\""), std::string::npos) << v[0];
}

TEST(LeaderOverlapCheck, WritesWhileReleasedOrBeforeAnyHolderAreReported) {
  std::vector<LeaseObservation> lease = {{10, "a"}, {20, ""}};
  std::vector<WriteObservation> writes = {{5, "a", "cm"}, {21, "a", "cm"}};
  auto v = writesOutsideLeadership(lease, writes);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_NE(v[0].find("before any Lease holder"), std::string::npos);
  EXPECT_NE(v[1].find("held by \"\""), std::string::npos);
}
