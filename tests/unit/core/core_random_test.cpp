#include <gtest/gtest.h>

#include <map>
#include <set>

#include "operator/core/random.h"

namespace sdb {
namespace {

TEST(Random, StringUsesOnlyTheAlphabetAndIsRoughlyUniform) {
  SeededRandom rng(42);
  const std::string alphabet = "abc";  // 256 % 3 != 0, so rejection sampling matters
  auto s = rng.string(30000, alphabet);
  ASSERT_TRUE(s.ok());
  std::map<char, int> counts;
  for (char c : *s) counts[c]++;
  ASSERT_EQ(counts.size(), 3u);
  for (auto& [c, n] : counts) EXPECT_NEAR(n, 10000, 500) << c;
}

TEST(Random, RejectsDegenerateAlphabets) {
  SeededRandom rng(1);
  auto s = rng.string(8, "a");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
}

TEST(CryptoRandom, GivesDistinctValues) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto h = CryptoRandom::instance().hex(16);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->size(), 32u);
    seen.insert(*h);
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace sdb
