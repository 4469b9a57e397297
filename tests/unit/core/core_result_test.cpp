#include <gtest/gtest.h>

#include "operator/core/result.h"

namespace sdb {
namespace {

Result<int> half(int x) {
  if (x % 2) return invalidArgument("spec.replicas: must be even, got " + std::to_string(x));
  return x / 2;
}

Status chain(int x) {
  SDB_TRY(half(x));
  return okStatus();
}

TEST(Result, CarriesValueOrError) {
  auto ok = half(4);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 2);
  auto bad = half(3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "spec.replicas: must be even, got 3");
  EXPECT_EQ(bad.valueOr(-1), -1);
}

TEST(Result, TryPropagatesAndWrapAddsContext) {
  EXPECT_TRUE(chain(2).ok());
  auto s = chain(5);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().wrap("reconcile a/orders").message, "reconcile a/orders: spec.replicas: must be even, got 5");
  EXPECT_EQ(s.error().toString(), "InvalidArgument: spec.replicas: must be even, got 5");
}

TEST(ResultDeathTest, ReadingTheWrongSideAborts) {
  auto bad = half(3);
  EXPECT_DEATH((void)bad.value(), "");
}

}  // namespace
}  // namespace sdb
