// Table tests of the Redis engine's pure planner.
#include "operator/engines/redis/plan.h"

#include <gtest/gtest.h>

#include <functional>

#include "operator/engines/redis/command_policy.h"
#include "operator/engines/redis/redis_engine.h"

namespace sdb::engines::redis {
namespace {

using K = ActionKind;

Desired desired(const std::string& uid = "uid-1", Mode mode = Mode::kShared, std::optional<std::string> pw = "app-secret") {
  auto d = desiredFor({"shop", "orders", uid}, pw, mode);
  EXPECT_TRUE(d.ok());
  return *d;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + " ";
  return s;
}

// What ACL GETUSER shows after a successful execute: Redis prints the commands compacted (here a
// made-up compaction), and the marker carries that text's fingerprint.
const std::string kDescription = "-@all +@string +@hash -keys +client|setname";

ObservedUser steady(const Desired& d) {
  ObservedUser u;
  u.flags = {"on", "sanitize-payload"};
  u.passwordHashes = {*d.passwordHash};
  u.commands = kDescription;
  u.keys = "~shop:orders:*";
  u.channels = "&shop:orders:*";
  Marker m = markerOf(d);
  m.acl = aclFingerprint(kDescription);
  u.selectors = {{"-@all", "~" + formatMarker(m), ""}};
  return u;
}

std::vector<K> kinds(const Plan& p) {
  std::vector<K> out;
  for (const auto& a : p.actions) out.push_back(a.kind);
  return out;
}

struct Case {
  std::string name;
  std::function<void(ObservedUser&)> mutate;
  std::vector<K> want;
};

TEST(RedisPlan, Table) {
  const Desired d = desired();
  const std::vector<Case> cases = {
      {"steady state writes nothing", [](ObservedUser&) {}, {}},
      {"another password", [](ObservedUser& u) { u.passwordHashes = {passwordHash("old")}; }, {K::kSetPassword}},
      {"a second password", [](ObservedUser& u) { u.passwordHashes.insert(passwordHash("extra")); }, {K::kSetPassword}},
      {"no password", [](ObservedUser& u) { u.passwordHashes.clear(); }, {K::kSetPassword}},
      {"disabled", [](ObservedUser& u) { u.flags = {"off", "sanitize-payload"}; }, {K::kSetRules}},
      {"nopass", [](ObservedUser& u) { u.flags.insert("nopass"); }, {K::kSetRules}},
      {"skip-sanitize-payload", [](ObservedUser& u) { u.flags = {"on", "skip-sanitize-payload"}; }, {K::kSetRules}},
      {"all keys", [](ObservedUser& u) { u.keys = "~*"; }, {K::kSetRules}},
      {"a second key pattern", [](ObservedUser& u) { u.keys += " ~other:*"; }, {K::kSetRules}},
      {"all channels", [](ObservedUser& u) { u.channels = "&*"; }, {K::kSetRules}},
      {"an extra command", [](ObservedUser& u) { u.commands += " +scan"; }, {K::kSetRules}},
      {"a category grant", [](ObservedUser& u) { u.commands += " +@admin"; }, {K::kSetRules}},
      {"a missing command", [](ObservedUser& u) { u.commands = "-@all +get"; }, {K::kSetRules}},
      {"an extra selector", [](ObservedUser& u) { u.selectors.push_back({"+@all", "~*", "&*"}); }, {K::kSetRules}},
      {"a marker selector that grants", [](ObservedUser& u) { u.selectors[0].commands = "-@all +get"; }, {K::kSetRules}},
      {"adopted after Retain (new uid)",
       [](ObservedUser& u) { u.selectors[0].keys = "~" + formatMarker({"shop/orders", "old", commandRulesVersion(), aclFingerprint(kDescription)}); },
       {K::kSetRules}},
      {"written by an older command table",
       [](ObservedUser& u) { u.selectors[0].keys = "~" + formatMarker({"shop/orders", "uid-1", "000000000000", aclFingerprint(kDescription)}); },
       {K::kSetRules}},
      {"marker never stamped (crash between the two writes)",
       [](ObservedUser& u) { u.selectors[0].keys = "~" + formatMarker({"shop/orders", "uid-1", commandRulesVersion(), "-"}); },
       {K::kSetRules}},
      {"the same commands listed in another order (a restarted server)",
       [](ObservedUser& u) { u.commands = "+client|setname -keys +@hash +@string -@all"; }, {}},
      {"commands changed by someone else", [](ObservedUser& u) { u.commands = "-@all +@string +@hash +client|setname"; },
       {K::kSetRules}},
  };
  for (const auto& c : cases) {
    ObservedUser u = steady(d);
    c.mutate(u);
    Plan p = plan(d, Observed{u});
    EXPECT_EQ(kinds(p), c.want) << c.name;
    EXPECT_TRUE(p.blockers.empty()) << c.name;
  }
}

TEST(RedisPlan, CreatesAMissingUserWithEveryRuleInOneCommand) {
  const Desired d = desired();
  Plan p = plan(d, Observed{});
  ASSERT_EQ(kinds(p), std::vector<K>{K::kCreateUser});
  const auto& r = p.actions[0].rules;
  ASSERT_GE(r.size(), 8u);
  EXPECT_EQ(r[0], "reset");
  const std::string all = joined(r);
  for (const std::string& want : std::vector<std::string>{"on", "sanitize-payload", "#" + passwordHash("app-secret"), "~shop:orders:*",
                                 "resetchannels", "&shop:orders:*", "-@all", "+get",
                                 "(~servicedb.io/owner=shop/orders;uid=uid-1;rules=" + commandRulesVersion() +
                                     ";acl=- resetchannels -@all)"})
    EXPECT_NE(all.find(" " + want + " "), std::string::npos) << want;
  EXPECT_LT(all.find("resetchannels"), all.find("&shop:orders:*"));
  EXPECT_EQ(all.find("app-secret"), std::string::npos) << "only the hash is sent";
  EXPECT_EQ(p.actions[0].describe(), "create ACL user \"shop.orders\"");
  EXPECT_EQ(p.actions[0].marker.uid, "uid-1");
  EXPECT_EQ(p.actions[0].marker.rules, commandRulesVersion());
}

TEST(RedisPlan, UserWithoutAStoredPasswordCannotLogIn) {
  Plan p = plan(desired("uid-1", Mode::kShared, std::nullopt), Observed{});
  ASSERT_EQ(p.actions.size(), 1u);
  for (const auto& r : p.actions[0].rules) {
    EXPECT_NE(r[0], '#');
    EXPECT_NE(r[0], '>');
    EXPECT_NE(r, "nopass");
  }
}

TEST(RedisPlan, RewritingRulesKeepsObservedPasswordsWhenNoneIsGiven) {
  const Desired withPw = desired();
  ObservedUser u = steady(withPw);
  u.keys = "~*";
  Plan p = plan(desired("uid-1", Mode::kShared, std::nullopt), Observed{u});
  ASSERT_EQ(kinds(p), std::vector<K>{K::kSetRules});
  const std::string all = joined(p.actions[0].rules);
  EXPECT_NE(all.find("#" + *withPw.passwordHash), std::string::npos);
}

TEST(RedisPlan, ForeignUsersAreNeverTouched) {
  const Desired d = desired();
  ObservedUser unmarked = steady(d);
  unmarked.selectors.clear();
  ObservedUser someoneElses = steady(d);
  someoneElses.selectors[0].keys = "~" + formatMarker({"shop/payments", "u", commandRulesVersion(), "-"});
  for (const auto& u : {unmarked, someoneElses}) {
    Plan p = plan(d, Observed{u});
    EXPECT_TRUE(p.actions.empty());
    ASSERT_EQ(p.blockers.size(), 1u);
    EXPECT_EQ(p.blockers[0].reason, "ForeignObject");
    EXPECT_EQ(p.blockers[0].object, "ACL user \"shop.orders\"");
    Plan del = planDeletion(d, Observed{u}, DeletionPolicy::kDelete);
    EXPECT_TRUE(del.actions.empty());
    EXPECT_EQ(del.blockers.size(), 1u);
    Plan rot = planRotation(d, Observed{u}, passwordHash("new"));
    EXPECT_TRUE(rot.actions.empty());
    EXPECT_EQ(rot.blockers.size(), 1u);
  }
}

TEST(RedisPlan, Deletion) {
  const Desired shared = desired();
  const Desired dedicated = desired("uid-1", Mode::kDedicated);
  EXPECT_TRUE(planDeletion(shared, Observed{steady(shared)}, DeletionPolicy::kRetain).empty());
  EXPECT_TRUE(planDeletion(shared, Observed{}, DeletionPolicy::kDelete).empty());
  Plan p = planDeletion(shared, Observed{steady(shared)}, DeletionPolicy::kDelete);
  EXPECT_EQ(kinds(p), (std::vector<K>{K::kDisableUser, K::kDeleteKeys, K::kDeleteUser}));
  EXPECT_EQ(p.actions[1].prefix, "shop:orders:");
  EXPECT_EQ(p.actions[1].describe(), "delete the keys under \"shop:orders:\"");
  EXPECT_EQ(kinds(planDeletion(dedicated, Observed{steady(dedicated)}, DeletionPolicy::kDelete)),
            std::vector<K>{K::kDeleteUser});
  ObservedUser off = steady(shared);  // a Delete interrupted after disabling runs again in full
  off.flags = {"off", "sanitize-payload"};
  EXPECT_EQ(kinds(planDeletion(shared, Observed{off}, DeletionPolicy::kDelete)),
            (std::vector<K>{K::kDisableUser, K::kDeleteKeys, K::kDeleteUser}));
}

TEST(RedisPlan, RotationReplacesEveryPasswordAtOnce) {
  const Desired d = desired();
  Plan p = planRotation(d, Observed{steady(d)}, passwordHash("next"));
  ASSERT_EQ(kinds(p), std::vector<K>{K::kSetPassword});
  EXPECT_EQ(p.actions[0].rules, (std::vector<std::string>{"resetpass", "#" + passwordHash("next")}));
  EXPECT_EQ(p.actions[0].describe(), "set the password of ACL user \"shop.orders\"");
  EXPECT_TRUE(planRotation(d, Observed{steady(d)}, *d.passwordHash).empty()) << "already rotated";
}

TEST(RedisPlan, DatabaseNameReplacesTheNameInThePrefix) {
  ServiceIdentity id{"shop", "orders", "uid-1"};
  id.databaseName = "orders_cache";
  auto d = desiredFor(id, std::string("pw"), Mode::kShared);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->names.prefix, "shop:orders_cache:");
  EXPECT_EQ(d->names.user, "shop.orders_cache");
  EXPECT_EQ(d->ownerKey, "shop/orders") << "ownership stays with the ServiceDatabase";
  id.databaseName = "bad:name";
  auto bad = desiredFor(id, std::nullopt, Mode::kShared);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind("spec.databaseName:", 0), 0u) << bad.error().message;
}

TEST(RedisPlan, DesiredRejectsBadIdentities) {
  EXPECT_FALSE(desiredFor({"shop", "or*ders", "u"}, std::nullopt, Mode::kShared).ok());
  EXPECT_FALSE(desiredFor({"shop", "orders", "u id"}, std::nullopt, Mode::kShared).ok());
  EXPECT_FALSE(desiredFor({"sh:op", "orders", "u"}, std::nullopt, Mode::kShared).ok());
  EXPECT_FALSE(desiredFor({"shop", "orders", "u"}, std::string(), Mode::kShared).ok()) << "empty password";
}

Reply str(const std::string& s) { return Reply{Reply::Type::kString, s, 0, {}}; }
Reply arr(std::vector<Reply> e) { return Reply{Reply::Type::kArray, "", 0, std::move(e)}; }

TEST(RedisPlan, ParsesAclGetUser) {
  Reply r = arr({str("flags"), arr({str("on"), str("sanitize-payload")}), str("passwords"), arr({str("abc")}),
                 str("commands"), str("-@all +get"), str("keys"), str("~a:b:*"), str("channels"), str("&a:b:*"),
                 str("selectors"),
                 arr({arr({str("commands"), str("-@all"), str("keys"), str("~servicedb.io/owner=a/b;uid=u;rules=r;acl=a"),
                           str("channels"), str("")})})});
  auto u = parseGetUser(r);
  ASSERT_TRUE(u.ok());
  ASSERT_TRUE(u->has_value());
  EXPECT_EQ((*u)->flags, (std::set<std::string>{"on", "sanitize-payload"}));
  EXPECT_EQ((*u)->passwordHashes, std::set<std::string>{"abc"});
  EXPECT_EQ((*u)->keys, "~a:b:*");
  ASSERT_EQ((*u)->selectors.size(), 1u);
  EXPECT_TRUE(ownedBy(**u, "a/b"));
  auto none = parseGetUser(Reply{});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_FALSE(parseGetUser(str("x")).ok());
  EXPECT_FALSE(parseGetUser(arr({str("flags"), str("on")})).ok());
}

}  // namespace
}  // namespace sdb::engines::redis
