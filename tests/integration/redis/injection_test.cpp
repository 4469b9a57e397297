// Injection-style inputs never widen an ACL: names with glob characters, spaces, newlines or ACL
// syntax are refused before anything reaches the server; passwords that look like ACL rules are
// just passwords; neighbouring names that are accepted stay apart, proven by ACL DRYRUN.
#include <gtest/gtest.h>

#include "operator/core/random.h"
#include "tests/integration/redis/engine_test_support.h"

namespace sdb::engines::redis {
class InjectionFixture : public RedisEngineTest {
 protected:
  static std::vector<std::string> list() {
    std::vector<std::string> out;
    for (const auto& e : admin({"ACL", "LIST"}).elements) out.push_back(e.str);
    return out;
  }
};

TEST_F(InjectionFixture, HostileNamesAreRefusedBeforeAnythingIsSent) {
  const std::vector<ServiceIdentity> hostile = {
      {"inj", "a*", "u"}, {"inj", "*", "u"}, {"inj", "a?", "u"}, {"inj", "a[b]", "u"}, {"inj", "a]", "u"},
      {"inj", "a\\", "u"}, {"inj", "a b", "u"}, {"inj", "a\nb", "u"}, {"inj", "a\r\nACL SETUSER x on", "u"},
      {"inj", "a ~* +@all", "u"}, {"inj", "a:b", "u"}, {"inj", ":", "u"}, {"inj", "a)", "u"}, {"inj", "(a", "u"},
      {"inj", "a>pw", "u"}, {"inj", "#h", "u"}, {"inj", "&c", "u"}, {"inj", "%R~x", "u"}, {"inj", "", "u"},
      {"in j", "a", "u"}, {"in*", "a", "u"}, {"in:j", "a", "u"}, {"", "a", "u"}, {"INJ", "a", "u"},
      {"inj", std::string("a\0b", 3), "u"}, {"inj", "a", "u ~*"}, {"inj", "a", "u)"}, {"inj", "a", "u\n"},
      {"inj", "a", "u;acl=x"}, {"inj", "a", ""},
  };
  const auto before = list();
  auto e = engine();
  for (const auto& id : hostile) {
    Engine::ReconcileInput in;
    in.id = id;
    in.credentials = {{"app", "pw"}};
    auto r = e.reconcile(in);
    ASSERT_FALSE(r.ok()) << id.namespaceName << "/" << id.name << "/" << id.uid;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_TRUE(r.error().message.rfind("metadata.", 0) == 0) << r.error().message;
    auto d = e.remove(id, DeletionPolicy::kDelete);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
    EXPECT_FALSE(e.rotate(id, {"app", "x"}).ok());
  }
  EXPECT_EQ(list(), before) << "no ACL user was created or changed";
}

TEST_F(InjectionFixture, PasswordsThatLookLikeAclRulesAreOnlyPasswords) {
  const std::vector<std::string> passwords = {
      "nopass", "on ~* &* +@all", ">other", "#" + std::string(64, 'a'), "(~* +@all)", "<x", "resetpass", "allkeys",
      "\r\nFLUSHALL\r\n", "*1\r\n$8\r\nFLUSHALL\r\n", std::string("nul\0inside", 10), "\xc3\xa9\xe2\x82\xac", std::string(1000, 'p'),
  };
  auto e = engine();
  int i = 0;
  for (const auto& pw : passwords) {
    const std::string name = "p" + std::to_string(i++);
    auto r = e.reconcile(input("injpw", name, "uid", pw));
    ASSERT_TRUE(r.ok()) << r.error().toString();
    const std::string user = "injpw." + name;
    auto c = login(user, pw);
    ASSERT_TRUE(c.ok()) << "password #" << i << ": " << c.error().toString();
    EXPECT_FALSE(login(user, "").ok());
    EXPECT_FALSE(login(user, "nopass").ok() && pw != "nopass");
    Reply u = admin({"ACL", "GETUSER", user});
    std::set<std::string> flags;
    for (const auto& f : u.field("flags")->elements) flags.insert(f.str);
    EXPECT_EQ(flags, (std::set<std::string>{"on", "sanitize-payload"}));
    EXPECT_EQ(u.field("keys")->str, "~injpw:" + name + ":*");
    EXPECT_EQ(u.field("channels")->str, "&injpw:" + name + ":*");
    ASSERT_EQ(u.field("passwords")->elements.size(), 1u);
    EXPECT_EQ(u.field("passwords")->elements[0].str, passwordHash(pw));
    EXPECT_NE(dryRun(user, {"GET", "other:key"}).find("no permissions"), std::string::npos);
    EXPECT_NE(dryRun(user, {"FLUSHALL"}).find("no permissions"), std::string::npos);
  }
  auto empty = e.reconcile(input("injpw", "empty", "uid", ""));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
}

// Accepted names that crowd each other (dots, dashes, underscores, shared beginnings, the longest
// allowed) each get exactly their own prefix, and no user can touch a neighbour's key.
TEST_F(InjectionFixture, CrowdedAcceptedNamesStayApart) {
  std::vector<std::pair<std::string, std::string>> names = {
      {"a", "b-c"}, {"a-b", "c"}, {"a", "b"}, {"a", "bc"}, {"ab", "c"}, {"a", "b.c"}, {"a", "b_c"},
      {"a", "_"}, {"a", "-"}, {"a", "."}, {std::string(63, 'n'), std::string(253, 'x')},
  };
  SeededRandom random(7);
  for (int i = 0; i < 14; ++i) {
    auto ns = random.string(1 + i % 3, "ab1");
    auto part = random.string(1 + i % 4, "ab-._");
    names.emplace_back(*ns, *part);
  }
  auto e = engine();
  std::vector<Names> made;
  for (const auto& [ns, part] : names) {
    auto r = e.reconcile(input(ns, part, "uid", "pw"));
    ASSERT_TRUE(r.ok()) << ns << "/" << part << ": " << r.error().toString();
    auto n = deriveNames(ns, part);
    ASSERT_TRUE(n.ok());
    made.push_back(*n);
    Reply u = admin({"ACL", "GETUSER", n->user});
    EXPECT_EQ(u.field("keys")->str, "~" + n->prefix + "*");
  }
  for (const auto& a : made)
    for (const auto& b : made) {
      if (a.user == b.user) continue;
      EXPECT_NE(dryRun(a.user, {"SET", b.prefix + "k", "v"}).find("no permissions"), std::string::npos)
          << a.user << " may write " << b.prefix;
      EXPECT_NE(dryRun(a.user, {"PUBLISH", b.prefix + "c", "m"}).find("no permissions"), std::string::npos);
    }
}

}  // namespace sdb::engines::redis
