#include <gtest/gtest.h>

#include "operator/core/clock.h"

namespace sdb {
namespace {

TEST(Rfc3339, FormatsAndParsesKubernetesTimestamps) {
  std::chrono::system_clock::time_point t;
  ASSERT_TRUE(parseRfc3339("2026-11-25T03:15:00Z", &t));
  EXPECT_EQ(formatRfc3339(t), "2026-11-25T03:15:00Z");
  std::chrono::system_clock::time_point withOffset;
  ASSERT_TRUE(parseRfc3339("2026-11-25T04:15:00.123456+01:00", &withOffset));
  EXPECT_EQ(formatRfc3339(withOffset), "2026-11-25T03:15:00Z");
  EXPECT_FALSE(parseRfc3339("2026-11-25 03:15:00", &t));
  EXPECT_FALSE(parseRfc3339("2026-11-25T03:15:00", &t));
  EXPECT_FALSE(parseRfc3339("2026-11-25T03:15:00Zjunk", &t));
}

TEST(FakeClock, AdvancesBothClocksOnlyWhenTold) {
  FakeClock clock;
  auto w0 = clock.now();
  auto m0 = clock.monotonic();
  clock.sleepFor(std::chrono::seconds(90));
  EXPECT_EQ(clock.now() - w0, std::chrono::seconds(90));
  EXPECT_EQ(clock.monotonic() - m0, std::chrono::seconds(90));
}

}  // namespace
}  // namespace sdb
