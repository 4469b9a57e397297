// The Redis engine against a real redis-server 7 over TLS: isolation between tenants, steady state,
// rotation with crash recovery, Delete and Retain, foreign users, and kill-after-every-action.
#include <gtest/gtest.h>

#include <thread>

#include "operator/engines/redis/plan.h"
#include "tests/integration/redis/engine_test_support.h"

namespace sdb::engines::redis {
namespace {

using EngineIT = RedisEngineTest;

std::string toString(const std::optional<Error>& e) { return e ? e->toString() : ""; }

bool noPerm(const Result<Reply>& r) { return r.ok() && r->isError() && r->str.rfind("NOPERM", 0) == 0; }

TEST_F(EngineIT, ReconcileCreatesAConfinedUserAndSteadyStateWritesNothing) {
  auto e = engine();
  auto first = e.reconcile(input("steady", "orders", "uid-1", "pw-1"));
  ASSERT_TRUE(first.ok()) << first.error().toString();
  EXPECT_EQ(first->actions, std::vector<std::string>{"create ACL user \"steady.orders\""});

  const long long setuserBefore = calls("acl|setuser"), saveBefore = calls("acl|save");
  for (int i = 0; i < 3; ++i) {
    auto again = e.reconcile(input("steady", "orders", "uid-1", "pw-1"));
    ASSERT_TRUE(again.ok()) << again.error().toString();
    EXPECT_TRUE(again->empty()) << (again->actions.empty() ? "" : again->actions[0]);
  }
  EXPECT_EQ(calls("acl|setuser"), setuserBefore) << "a resync must not write";
  EXPECT_EQ(calls("acl|save"), saveBefore);

  auto app = login("steady.orders", "pw-1");
  ASSERT_TRUE(app.ok()) << app.error().toString();
  ASSERT_TRUE(app->call({"SET", "steady:orders:k", "v"}, "set").ok());
  EXPECT_EQ(app->call({"GET", "steady:orders:k"}, "get")->str, "v");
  EXPECT_EQ(e.credentialSlots(), std::vector<std::string>{"app"});
}

TEST_F(EngineIT, ServiceAGetsNopermOnEverythingBeyondItsPrefix) {
  auto e = engine();
  ASSERT_TRUE(e.reconcile(input("iso", "a", "uid-a", "pw-a")).ok());
  ASSERT_TRUE(e.reconcile(input("iso", "b", "uid-b", "pw-b")).ok());
  auto b = login("iso.b", "pw-b");
  ASSERT_TRUE(b.ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(b->call({"SET", "iso:b:k" + std::to_string(i), "secret"}, "set").ok());
  ASSERT_TRUE(b->call({"HSET", "iso:b:h", "f", "secret"}, "hset").ok());
  ASSERT_TRUE(admin({"SET", "iso:bb:neighbour", "x"}).isOk());
  auto a = login("iso.a", "pw-a");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a->call({"SET", "iso:a:mine", "1"}, "set").ok());
  ASSERT_TRUE(a->call({"LPUSH", "iso:a:list", "3", "1", "2"}, "lpush").ok());

  const std::vector<std::vector<std::string>> forbidden = {
      {"GET", "iso:b:k1"}, {"SET", "iso:b:k1", "x"}, {"DEL", "iso:b:k1"}, {"HGETALL", "iso:b:h"},
      {"GET", "iso:bb:neighbour"}, {"RENAME", "iso:a:mine", "iso:b:stolen"}, {"MGET", "iso:a:mine", "iso:b:k2"},
      {"FLUSHALL"}, {"FLUSHDB"}, {"CONFIG", "GET", "*"}, {"CONFIG", "SET", "maxmemory", "1"}, {"KEYS", "*"},
      {"SCAN", "0"}, {"RANDOMKEY"}, {"DBSIZE"}, {"INFO"}, {"CLIENT", "LIST"}, {"MONITOR"}, {"DEBUG", "SLEEP", "0"},
      {"SELECT", "1"}, {"SWAPDB", "0", "1"}, {"MOVE", "iso:a:mine", "1"}, {"COPY", "iso:a:mine", "iso:a:c", "DB", "1"},
      {"PUBSUB", "CHANNELS"}, {"PUBLISH", "iso:b:events", "x"}, {"SUBSCRIBE", "iso:b:events"},
      {"PSUBSCRIBE", "*"}, {"ACL", "LIST"}, {"ACL", "SETUSER", "iso.a", "~*"}, {"FUNCTION", "LIST"},
      {"SCRIPT", "FLUSH"}, {"RESTORE", "iso:a:r", "0", "x"}, {"SLOWLOG", "GET"}, {"OBJECT", "ENCODING", "iso:b:k1"},
      {"EVAL", "return redis.call('GET', KEYS[1])", "1", "iso:b:k1"}, {"PFMERGE", "iso:b:hll"},
  };
  for (const auto& cmd : forbidden) {
    auto r = a->command(cmd);
    EXPECT_TRUE(noPerm(r)) << cmd[0] << " " << (cmd.size() > 1 ? cmd[1] : "") << ": "
                           << (r.ok() ? r->str : r.error().toString());
  }
  // Refused inside a script and in SORT's patterns too, not only at the command level.
  auto hidden = a->command({"EVAL", "return redis.call('GET', 'iso:b:k1')", "0"});
  ASSERT_TRUE(hidden.ok());
  EXPECT_TRUE(hidden->isError());
  EXPECT_EQ(hidden->str.find("secret"), std::string::npos);
  auto sortBy = a->command({"SORT", "iso:a:list", "BY", "iso:b:k*"});
  ASSERT_TRUE(sortBy.ok());
  EXPECT_TRUE(sortBy->isError()) << sortBy->str;
  auto sortGet = a->command({"SORT", "iso:a:list", "GET", "iso:b:k*"});
  ASSERT_TRUE(sortGet.ok());
  EXPECT_TRUE(sortGet->isError()) << sortGet->str;
  // What A may do still works.
  EXPECT_EQ(a->call({"GET", "iso:a:mine"}, "get")->str, "1");
  EXPECT_TRUE(a->call({"PUBLISH", "iso:a:events", "x"}, "publish").ok());
  EXPECT_TRUE(a->call({"EVAL", "return redis.call('GET', KEYS[1])", "1", "iso:a:mine"}, "eval").ok());
  EXPECT_TRUE(a->call({"SORT", "iso:a:list"}, "sort").ok());
}

TEST_F(EngineIT, AScanByANeverShowsBsKeys) {
  auto e = engine();
  ASSERT_TRUE(e.reconcile(input("scan", "a", "uid-a", "pw-a")).ok());
  ASSERT_TRUE(e.reconcile(input("scan", "b", "uid-b", "pw-b")).ok());
  auto b = login("scan.b", "pw-b");
  ASSERT_TRUE(b.ok());
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(b->call({"SET", "scan:b:" + std::to_string(i), "x"}, "set").ok());
  auto a = login("scan.a", "pw-a");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a->call({"SADD", "scan:a:set", "m1", "m2"}, "sadd").ok());
  // Every form of keyspace listing: refused, and nothing of B's in any reply.
  for (const auto& cmd : std::vector<std::vector<std::string>>{
           {"SCAN", "0"}, {"SCAN", "0", "MATCH", "scan:b:*", "COUNT", "1000"}, {"SCAN", "0", "TYPE", "string"},
           {"KEYS", "*"}, {"KEYS", "scan:b:*"}, {"RANDOMKEY"},
           {"EVAL", "return redis.call('SCAN', '0', 'COUNT', '1000')", "0"},
           {"EVAL", "return redis.call('KEYS', '*')", "0"}}) {
    auto r = a->command(cmd);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->isError()) << cmd[0];
    EXPECT_EQ(r->str.find("scan:b:"), std::string::npos) << r->str;
  }
  auto own = a->call({"SSCAN", "scan:a:set", "0"}, "sscan");  // scanning inside its own key works
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->elements[1].elements.size(), 2u);
}

TEST_F(EngineIT, RotationSurvivesACrashBetweenEverySteps) {
  auto e = engine();
  const ServiceIdentity id{"rot", "orders", "uid-1"};
  ASSERT_TRUE(e.reconcile(input("rot", "orders", "uid-1", "current-pw")).ok());
  auto before = login("rot.orders", "current-pw");  // an app connected with the old password
  ASSERT_TRUE(before.ok());

  // Step 1 done (pending stored), crash before step 2: the server still takes only `current`.
  auto which = e.whichPasswordWorks(id, "app", {"current-pw", "pending-pw"});
  ASSERT_TRUE(which.ok());
  EXPECT_EQ(*which, 0u) << "redo step 2";
  // Step 2; crash before step 3 (Secret still has current + pending).
  ASSERT_TRUE(e.rotate(id, {"app", "pending-pw"}).ok());
  which = e.whichPasswordWorks(id, "app", {"current-pw", "pending-pw"});
  ASSERT_TRUE(which.ok());
  EXPECT_EQ(*which, 1u) << "finish step 3";
  EXPECT_FALSE(login("rot.orders", "current-pw").ok()) << "the old password is removed in the same command";
  ASSERT_TRUE(login("rot.orders", "pending-pw").ok());
  EXPECT_TRUE(before->call({"PING"}, "ping").ok()) << "connections authenticated earlier stay open";
  // Repeating step 2 is harmless, and step 3 (pending promoted) makes the next reconcile a no-op.
  ASSERT_TRUE(e.rotate(id, {"app", "pending-pw"}).ok());
  auto steady = e.reconcile(input("rot", "orders", "uid-1", "pending-pw"));
  ASSERT_TRUE(steady.ok());
  EXPECT_TRUE(steady->empty());
  // Changed outside the operator: no candidate works, and reconcile puts the stored one back.
  ASSERT_TRUE(admin({"ACL", "SETUSER", "rot.orders", "resetpass", ">someone-else"}).isOk());
  which = e.whichPasswordWorks(id, "app", {"current-pw", "pending-pw"});
  ASSERT_FALSE(which.ok());
  EXPECT_EQ(which.error().code, ErrorCode::kNotFound);
  auto repaired = e.reconcile(input("rot", "orders", "uid-1", "pending-pw"));
  ASSERT_TRUE(repaired.ok());
  EXPECT_EQ(repaired->actions, std::vector<std::string>{"set the password of ACL user \"rot.orders\""});
  EXPECT_TRUE(login("rot.orders", "pending-pw").ok());
  EXPECT_FALSE(e.rotate({"rot", "missing", "u"}, {"app", "x"}).ok());
  EXPECT_FALSE(e.rotate(id, {"migration", "x"}).ok()) << "Redis has only the app slot";
}

TEST_F(EngineIT, UsersAndRotatedPasswordsSurviveARestart) {
  auto e = engine();
  const ServiceIdentity id{"persist", "orders", "uid-1"};
  ASSERT_TRUE(e.reconcile(input("persist", "orders", "uid-1", "first")).ok());
  ASSERT_TRUE(e.rotate(id, {"app", "second"}).ok());
  ASSERT_TRUE(server_->restart().ok());
  auto relogin = login("persist.orders", "second");
  EXPECT_TRUE(relogin.ok()) << "ACL SAVE wrote the aclfile: " << (relogin.ok() ? "" : relogin.error().toString());
  auto again = e.reconcile(input("persist", "orders", "uid-1", "second"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
}

TEST_F(EngineIT, DeleteInSharedModeRemovesOnlyTheTenantsKeysAndItsConnections) {
  auto e = engine();
  const ServiceIdentity id{"del", "a", "uid-a"};
  ASSERT_TRUE(e.reconcile(input("del", "a", "uid-a", "pw-a")).ok());
  ASSERT_TRUE(e.reconcile(input("del", "b", "uid-b", "pw-b")).ok());
  auto a = login("del.a", "pw-a");
  ASSERT_TRUE(a.ok());
  std::vector<std::vector<std::string>> writes;
  for (int i = 0; i < 3000; ++i) writes.push_back({"SET", "del:a:" + std::to_string(i), "x"});
  for (const char* odd : {"del:a:*", "del:a:[x]", "del:a:?", "del:a:\\", "del:a: space", "del:a:\n"})
    writes.push_back({"SET", odd, "x"});
  ASSERT_TRUE(a->pipeline(writes).ok());
  auto b = login("del.b", "pw-b");
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->call({"SET", "del:b:keep", "x"}, "set").ok());
  for (const char* other : {"del:a", "del:ab:x", "del:a-b:x", "dela:x", "other"})  // look-alikes, not A's
    ASSERT_TRUE(admin({"SET", other, "x"}).isOk());
  ASSERT_EQ(keysUnder("del:a:").size(), 3006u);

  auto removed = e.remove(id, DeletionPolicy::kDelete);
  ASSERT_TRUE(removed.ok()) << removed.error().toString();
  EXPECT_EQ(removed->actions, (std::vector<std::string>{"disable ACL user \"del.a\" and close its connections",
                                                        "delete the keys under \"del:a:\"", "delete ACL user \"del.a\""}));
  EXPECT_TRUE(keysUnder("del:a:").empty());
  EXPECT_TRUE(admin({"ACL", "GETUSER", "del.a"}).isNil());
  for (const char* kept : {"del:b:keep", "del:a", "del:ab:x", "del:a-b:x", "dela:x", "other"})
    EXPECT_EQ(admin({"EXISTS", kept}).integer, 1) << kept;
  EXPECT_FALSE(a->command({"PING"}).ok()) << "A's open connection was closed";
  auto again = e.remove(id, DeletionPolicy::kDelete);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty()) << "idempotent";
}

TEST_F(EngineIT, DedicatedDeleteRemovesTheUserOnly) {
  auto e = engine(Mode::kDedicated);
  ASSERT_TRUE(e.reconcile(input("ded", "a", "uid-a", "pw")).ok());
  ASSERT_TRUE(admin({"SET", "ded:a:k", "x"}).isOk());
  auto removed = e.remove({"ded", "a", "uid-a"}, DeletionPolicy::kDelete);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->actions, std::vector<std::string>{"delete ACL user \"ded.a\""});
  EXPECT_EQ(admin({"EXISTS", "ded:a:k"}).integer, 1) << "the instance goes as a whole";
}

TEST_F(EngineIT, RetainKeepsUserAndKeysAndANewObjectAdoptsThem) {
  auto e = engine();
  ASSERT_TRUE(e.reconcile(input("ret", "orders", "uid-old", "pw")).ok());
  ASSERT_TRUE(admin({"SET", "ret:orders:k", "x"}).isOk());
  auto kept = e.remove({"ret", "orders", "uid-old"}, DeletionPolicy::kRetain);
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->empty());
  EXPECT_EQ(admin({"EXISTS", "ret:orders:k"}).integer, 1);
  ASSERT_TRUE(login("ret.orders", "pw").ok());
  auto adopted = e.reconcile(input("ret", "orders", "uid-new", "pw"));
  ASSERT_TRUE(adopted.ok());
  EXPECT_EQ(adopted->actions, std::vector<std::string>{"set the rules of ACL user \"ret.orders\""});
  EXPECT_TRUE(login("ret.orders", "pw").ok()) << "the old credentials keep working";
  Reply user = admin({"ACL", "GETUSER", "ret.orders"});
  ASSERT_NE(user.field("selectors"), nullptr);
  auto marker = parseMarker(user.field("selectors")->elements.at(0).field("keys")->str.substr(1));
  ASSERT_TRUE(marker.has_value());
  EXPECT_EQ(marker->uid, "uid-new");
}

TEST_F(EngineIT, AForeignUserIsNeverAdoptedAlteredOrDeleted) {
  ASSERT_TRUE(admin({"ACL", "SETUSER", "alien.orders", "on", ">theirs", "~*", "+@all"}).isOk());
  Reply listBefore = admin({"ACL", "GETUSER", "alien.orders"});
  auto e = engine();
  auto r = e.reconcile(input("alien", "orders", "uid-1", "ours"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->actions.empty());
  ASSERT_EQ(r->blockers.size(), 1u);
  EXPECT_EQ(r->blockers[0].reason, "ForeignObject");
  EXPECT_EQ(r->blockers[0].object, "ACL user \"alien.orders\"");
  auto d = e.remove({"alien", "orders", "uid-1"}, DeletionPolicy::kDelete);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->blockers.size(), 1u);
  EXPECT_FALSE(e.rotate({"alien", "orders", "uid-1"}, {"app", "x"}).ok());
  Reply listAfter = admin({"ACL", "GETUSER", "alien.orders"});
  EXPECT_EQ(listAfter.field("keys")->str, listBefore.field("keys")->str);
  EXPECT_EQ(listAfter.field("passwords")->elements.size(), 1u);
  EXPECT_TRUE(login("alien.orders", "theirs").ok());
}

TEST_F(EngineIT, TheMarkerSelectorGrantsNothing) {
  auto e = engine();
  ASSERT_TRUE(e.reconcile(input("mark", "orders", "uid-1", "pw")).ok());
  Reply user = admin({"ACL", "GETUSER", "mark.orders"});
  const std::string marker = user.field("selectors")->elements.at(0).field("keys")->str.substr(1);
  ASSERT_TRUE(markedFor(marker, "mark/orders")) << marker;
  for (const auto& cmd : std::vector<std::vector<std::string>>{{"GET", marker}, {"SET", marker, "x"}, {"DEL", marker}})
    EXPECT_NE(dryRun("mark.orders", cmd).find("no permissions"), std::string::npos) << cmd[0];
  EXPECT_EQ(dryRun("mark.orders", {"GET", "mark:orders:x"}), "OK");
}

// Stop after 0, 1, ..., N actions (as if the operator died), then run observe+plan+execute from
// scratch: it always converges, and leaves exactly the wanted state.
TEST_F(EngineIT, KillAfterEveryActionThenRerunConverges) {
  for (size_t stop = 0; stop <= 3; ++stop) {
    const std::string ns = "kill" + std::to_string(stop);
    auto d = desiredFor({ns, "orders", "uid"}, std::string("pw"), Mode::kShared);
    ASSERT_TRUE(d.ok());
    RespClient c = adminClient();
    // create, interrupted
    ExecuteOptions interrupted;
    interrupted.stopAfter = stop;
    auto o = observe(c, *d);
    ASSERT_TRUE(o.ok());
    (void)execute(c, plan(*d, *o), interrupted);
    o = observe(c, *d);
    ASSERT_TRUE(o.ok());
    ASSERT_TRUE(toString(execute(c, plan(*d, *o)).failure).empty());
    o = observe(c, *d);
    ASSERT_TRUE(plan(*d, *o).empty()) << "stop " << stop;
    ASSERT_TRUE(login(ns + ".orders", "pw").ok());
    ASSERT_TRUE(admin({"SET", ns + ":orders:k", "x"}).isOk());
    // delete, interrupted
    auto del = planDeletion(*d, *o, DeletionPolicy::kDelete);
    ASSERT_EQ(del.actions.size(), 3u);
    (void)execute(c, del, interrupted);
    o = observe(c, *d);
    ASSERT_TRUE(o.ok());
    ASSERT_TRUE(toString(execute(c, planDeletion(*d, *o, DeletionPolicy::kDelete)).failure).empty());
    o = observe(c, *d);
    EXPECT_FALSE(o->user.has_value()) << "stop " << stop;
    EXPECT_TRUE(keysUnder(ns + ":orders:").empty()) << "stop " << stop;
  }
}

}  // namespace
}  // namespace sdb::engines::redis
