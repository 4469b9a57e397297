// Prefix, user and marker rules of the Redis engine, with a property test that no accepted
// tenant's prefix is a prefix of another's (so one tenant's ~<prefix>* never matches another's keys).
#include "operator/engines/redis/names.h"

#include <fnmatch.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "operator/core/random.h"

namespace sdb::engines::redis {
namespace {

TEST(RedisNames, PrefixAndUserIncludeTheNamespace) {
  auto n = deriveNames("shop", "orders");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->prefix, "shop:orders:");
  EXPECT_EQ(n->user, "shop.orders");
  auto other = deriveNames("billing", "orders");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->prefix, n->prefix);
  EXPECT_NE(other->user, n->user);
  auto dotted = deriveNames("a", "b.c_d-e");
  ASSERT_TRUE(dotted.ok());
  EXPECT_EQ(dotted->prefix, "a:b.c_d-e:");
}

struct BadName {
  std::string ns, part, field;
};

TEST(RedisNames, RejectsEverythingThatCouldWidenAPatternNamingTheField) {
  const std::vector<BadName> cases = {
      {"", "orders", "metadata.namespace"},         {"Shop", "orders", "metadata.namespace"},
      {"a:b", "orders", "metadata.namespace"},      {"a*", "orders", "metadata.namespace"},
      {"-a", "orders", "metadata.namespace"},       {"a-", "orders", "metadata.namespace"},
      {"a.b", "orders", "metadata.namespace"},      {"a_b", "orders", "metadata.namespace"},
      {std::string(64, 'a'), "o", "metadata.namespace"},
      {"shop", "", "metadata.name"},                {"shop", "a:b", "metadata.name"},
      {"shop", "a*", "metadata.name"},              {"shop", "a?", "metadata.name"},
      {"shop", "a[b]", "metadata.name"},            {"shop", "a]", "metadata.name"},
      {"shop", "a\\b", "metadata.name"},            {"shop", "a b", "metadata.name"},
      {"shop", "a\nb", "metadata.name"},            {"shop", "a\rb", "metadata.name"},
      {"shop", std::string("a\0b", 3), "metadata.name"}, {"shop", "Orders", "metadata.name"},
      {"shop", "a/b", "metadata.name"},             {"shop", "a(b)", "metadata.name"},
      {"shop", "caf\xc3\xa9", "metadata.name"},     {"shop", "a\"b", "metadata.name"},
      {"shop", std::string(254, 'a'), "metadata.name"},
  };
  for (const auto& c : cases) {
    auto n = deriveNames(c.ns, c.part);
    ASSERT_FALSE(n.ok()) << c.ns << "/" << c.part;
    EXPECT_EQ(n.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(n.error().message.rfind(c.field + ":", 0), 0u) << n.error().message;
    EXPECT_EQ(n.error().message.find('\n'), std::string::npos) << "control characters are shown escaped";
  }
  auto custom = deriveNames("shop", "a:b", "spec.databaseName");
  ASSERT_FALSE(custom.ok());
  EXPECT_EQ(custom.error().message.rfind("spec.databaseName:", 0), 0u);
}

TEST(RedisNames, NeighboursNeverShareAPrefix) {
  const std::vector<std::pair<std::string, std::string>> names = {
      {"a", "b-c"}, {"a-b", "c"}, {"a", "b"}, {"a", "bc"}, {"ab", "c"}, {"a", "bc.d"}, {"a", "b.c"},
      {"a", "b_"},  {"a", "_b"},  {"a1", "b"}, {"a", "1b"}, {"a", "b.cd"}, {"a", "b-"}, {"a", "-"},
  };
  std::vector<Names> derived;
  for (const auto& [ns, part] : names) {
    auto n = deriveNames(ns, part);
    ASSERT_TRUE(n.ok()) << ns << "/" << part;
    derived.push_back(*n);
  }
  for (size_t i = 0; i < derived.size(); ++i)
    for (size_t j = 0; j < derived.size(); ++j)
      if (i != j) {
        EXPECT_NE(derived[j].prefix.rfind(derived[i].prefix, 0), 0u) << derived[i].prefix << " vs " << derived[j].prefix;
        EXPECT_NE(derived[i].user, derived[j].user);
      }
}

// Random names over an alphabet rich in separators and glob characters, so accepted names crowd
// together: for every accepted pair, neither prefix is a prefix of the other, and the ACL glob
// "<prefix>*" of one (matched with fnmatch, which shares Redis' glob syntax for these characters)
// never matches a key of the other.
TEST(RedisNames, PropertyNoAcceptedPrefixIsAPrefixOfAnother) {
  SeededRandom random(20261125);
  // Mostly characters that are allowed (so accepted names crowd together), now and then one that
  // must be refused.
  const std::string common = "ab-._1", special = ":*?[]\\ A/\n";
  auto randomName = [&](size_t maxLen) {
    auto b = random.bytes(1 + maxLen * 2);
    std::string out;
    const size_t len = 1 + (*b)[0] % maxLen;
    for (size_t i = 0; i < len; ++i) {
      uint8_t x = (*b)[1 + 2 * i], y = (*b)[2 + 2 * i];
      out.push_back(x < 240 ? common[y % common.size()] : special[y % special.size()]);
    }
    return out;
  };
  std::map<std::string, std::string> byPrefix;  // prefix -> "ns/part"
  size_t rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string ns = randomName(3), part = randomName(4);
    auto n = deriveNames(ns, part);
    if ((ns + part).find_first_of(special) != std::string::npos) {
      ASSERT_FALSE(n.ok()) << "accepted a special character: " << ns << "/" << part;
    }
    if (!n.ok()) {
      ++rejected;
      continue;
    }
    for (char c : std::string("*?[]\\ ")) ASSERT_EQ(n->prefix.find(c), std::string::npos) << n->prefix;
    ASSERT_EQ(std::count(n->prefix.begin(), n->prefix.end(), ':'), 2) << n->prefix;
    byPrefix.emplace(n->prefix, ns + "/" + part);
  }
  ASSERT_GT(byPrefix.size(), 1000u);
  ASSERT_GT(rejected, 1000u);
  std::vector<std::string> prefixes;
  for (const auto& [p, _] : byPrefix) prefixes.push_back(p);
  for (const auto& a : prefixes) {
    const std::string pattern = globEscape(a) + "*";
    EXPECT_EQ(fnmatch(pattern.c_str(), (a + "key").c_str(), 0), 0) << "own keys match " << pattern;
    for (const auto& b : prefixes) {
      if (a == b) continue;
      ASSERT_NE(b.rfind(a, 0), 0u) << a << " is a prefix of " << b;
      ASSERT_EQ(fnmatch(pattern.c_str(), (b + "key").c_str(), 0), FNM_NOMATCH) << pattern << " matches " << b;
    }
  }
}

TEST(RedisNames, ValidatePrefixAcceptsOnlyDerivedShapes) {
  EXPECT_TRUE(validatePrefix("shop:orders:", "--key-prefix").ok());
  for (std::string bad : {"shop:orders", "shop:", ":orders:", "shop:or:ders:", "shop:or*:", "Shop:orders:", "shop::"}) {
    auto s = validatePrefix(bad, "--key-prefix");
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().message.rfind("--key-prefix", 0), 0u) << s.error().message;
  }
}

TEST(RedisNames, GlobEscapeMakesEveryCharacterLiteral) {
  EXPECT_EQ(globEscape("a:b:"), "a:b:");
  EXPECT_EQ(globEscape("a*b?c[d]e\\f"), "a\\*b\\?c\\[d\\]e\\\\f");
  const std::string tricky = "x*[ab]?\\";
  EXPECT_EQ(fnmatch(globEscape(tricky).c_str(), tricky.c_str(), 0), 0);
  EXPECT_EQ(fnmatch(globEscape(tricky).c_str(), "xa[ab]?\\", 0), FNM_NOMATCH);
}

TEST(RedisNames, MarkerNamesTheOwnerExactlyAndRoundTrips) {
  const Marker m{"shop/orders", "uid-1", "0a1b2c3d4e5f", "-"};
  const std::string text = formatMarker(m);
  EXPECT_EQ(text, "servicedb.io/owner=shop/orders;uid=uid-1;rules=0a1b2c3d4e5f;acl=-");
  auto back = parseMarker(text);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->ownerKey, "shop/orders");
  EXPECT_EQ(back->uid, "uid-1");
  EXPECT_EQ(back->rules, "0a1b2c3d4e5f");
  EXPECT_EQ(back->acl, "-");
  EXPECT_TRUE(markedFor(text, "shop/orders"));
  EXPECT_TRUE(markedFor(formatMarker({"shop/orders", "uid-2", "x", "y"}), "shop/orders"));  // adoption after Retain
  EXPECT_FALSE(markedFor(text, "shop/order"));
  EXPECT_FALSE(markedFor(formatMarker({"shop/orders2", "u", "x", "y"}), "shop/orders"));
  EXPECT_FALSE(markedFor("shop:orders:*", "shop/orders"));
  EXPECT_FALSE(parseMarker("servicedb.io/owner=shop/orders;uid=u").has_value());
  EXPECT_FALSE(parseMarker("servicedb.io/owner=shop/orders").has_value());
  EXPECT_TRUE(validateUid("5f1c2a7e-0b1d-4c6e-9f1a-2b3c4d5e6f70").ok());
  EXPECT_FALSE(validateUid("uid with space").ok());
  EXPECT_FALSE(validateUid("u)").ok());
  EXPECT_FALSE(validateUid("u;acl=x").ok());
  EXPECT_FALSE(validateUid("").ok());
}

TEST(RedisNames, PasswordHashIsRedisAclForm) {
  EXPECT_EQ(passwordHash("pw"), "30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4");
}

}  // namespace
}  // namespace sdb::engines::redis
