// The ServiceDatabase controller end to end in Redis shared mode on a real redis-server 7 with TLS:
// the Secret's credentials work over verified TLS and only under the prefix, two services never
// reach each other's keys, rotation, Delete (user and only the prefix's keys), Retain and adoption,
// a steady state with zero writes (store resourceVersion and INFO commandstats), and bad admin
// Secrets as conditions that name the key and never show the password.
#include "operator/runtime/object_helpers.h"
#include "tests/integration/servicedatabase/redis_controller_it_support.h"

using namespace sdb;
using namespace sdb::controllers::servicedatabase;
using namespace sdb::controllers::servicedatabase::testing;
using runtime::ReconcileResult;

namespace {

bool startsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

TEST_F(RedisControllerIT, ReadyAndTheSecretWorksOverTlsOnlyUnderItsPrefix) {
  addNamespace("shop");
  create("shop", "orders");
  ASSERT_TRUE(reconcileToReady("shop", "orders"));
  auto creds = secret("shop", "orders-credentials");
  EXPECT_EQ(creds["username"], "shop.orders");
  EXPECT_EQ(creds["prefix"], "shop:orders:");
  EXPECT_EQ(creds["uri"], "rediss://shop.orders:" + creds["password"] + "@127.0.0.1:" +
                              std::to_string(server_->tlsPort()));
  EXPECT_EQ(creds["ca.crt"], slurp(server_->caFile()));
  auto sdbObj = inproc_->get(res::kServiceDatabases, "shop", "orders");
  EXPECT_EQ((*sdbObj)["status"]["endpoint"]["database"], "shop:orders:");

  auto c = connectWith(creds);
  ASSERT_TRUE(c.ok()) << c.error().toString();
  EXPECT_TRUE(c->usesTls());
  auto who = c->command({"ACL", "WHOAMI"});
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->str, "shop.orders");
  auto set = c->command({"SET", "shop:orders:greeting", "hello"});
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE(set->isOk()) << set->str;
  EXPECT_EQ(c->command({"GET", "shop:orders:greeting"})->str, "hello");
  auto outside = c->command({"SET", "shop:payments:greeting", "hello"});
  ASSERT_TRUE(outside.ok());
  EXPECT_TRUE(startsWith(outside->str, "NOPERM")) << outside->str;
  auto bare = c->command({"SET", "greeting", "hello"});
  EXPECT_TRUE(startsWith(bare->str, "NOPERM")) << bare->str;
  EXPECT_TRUE(admin({"EXISTS", "shop:payments:greeting"}).integer == 0);
}

TEST_F(RedisControllerIT, TwoServicesNeverReachEachOthersKeys) {
  addNamespace("iso");
  create("iso", "a");
  create("iso", "b");
  ASSERT_TRUE(reconcileToReady("iso", "a"));
  ASSERT_TRUE(reconcileToReady("iso", "b"));
  auto a = secret("iso", "a-credentials"), b = secret("iso", "b-credentials");
  EXPECT_NE(a["password"], b["password"]);
  ASSERT_EQ(as(b, {"SET", "iso:b:secret", "b-data"}), "OK");
  ASSERT_EQ(as(a, {"SET", "iso:a:own", "a-data"}), "OK");

  for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
           {"GET", "iso:b:secret"},
           {"SET", "iso:b:secret", "overwritten"},
           {"DEL", "iso:b:secret"},
           {"RENAME", "iso:a:own", "iso:b:stolen"},
           {"FLUSHALL"},
           {"FLUSHDB"},
           {"CONFIG", "GET", "*"},
           {"KEYS", "*"},
           {"SCAN", "0"},
           {"SCAN", "0", "MATCH", "iso:b:*"},
           {"RANDOMKEY"},
           {"SELECT", "1"},
       }) {
    std::string reply = as(a, argv);
    EXPECT_TRUE(startsWith(reply, "ERROR NOPERM")) << argv[0] << ": " << reply;
  }
  // B's data is intact, and B is as confined as A.
  EXPECT_EQ(as(b, {"GET", "iso:b:secret"}), "b-data");
  EXPECT_TRUE(startsWith(as(b, {"GET", "iso:a:own"}), "ERROR NOPERM"));
  EXPECT_EQ(admin({"GET", "iso:a:own"}).str, "a-data");
}

TEST_F(RedisControllerIT, RotationByAnnotationChangesThePasswordOnTheServer) {
  addNamespace("rot");
  create("rot", "orders");
  ASSERT_TRUE(reconcileToReady("rot", "orders"));
  auto before = secret("rot", "orders-credentials");
  ASSERT_TRUE(connectWith(before).ok());
  const long long setusers = calls("acl|setuser");
  auto p = inproc_->patch(res::kServiceDatabases, "rot", "orders", kube::PatchType::kMerge,
                          R"({"metadata":{"annotations":{"servicedb.io/rotate-credentials":"now"}}})");
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(reconcileToReady("rot", "orders"));
  auto after = secret("rot", "orders-credentials");
  EXPECT_NE(after["password"], before["password"]);
  EXPECT_EQ(after.count("pending-password"), 0u);
  EXPECT_EQ(after["uri"], "rediss://rot.orders:" + after["password"] + "@127.0.0.1:" +
                              std::to_string(server_->tlsPort()));
  auto fresh = connectWith(after);
  ASSERT_TRUE(fresh.ok()) << fresh.error().toString();
  EXPECT_TRUE(fresh->command({"SET", "rot:orders:k", "v"})->isOk());
  auto old = connectWith(before);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(old.error().message.find("WRONGPASS"), std::string::npos) << old.error().message;
  EXPECT_EQ(calls("acl|setuser"), setusers + 1) << "exactly one ACL SETUSER (resetpass) for the rotation";
  auto obj = inproc_->get(res::kServiceDatabases, "rot", "orders");
  EXPECT_TRUE((*obj)["status"].contains("credentialsRotatedAt"));
}

TEST_F(RedisControllerIT, DeleteRemovesTheUserAndOnlyTheKeysUnderItsPrefix) {
  addNamespace("del");
  create("del", "orders", "Delete");
  create("del", "payments");
  ASSERT_TRUE(reconcileToReady("del", "orders"));
  ASSERT_TRUE(reconcileToReady("del", "payments"));
  auto orders = secret("del", "orders-credentials");
  auto payments = secret("del", "payments-credentials");
  for (int i = 0; i < 50; ++i) ASSERT_EQ(as(orders, {"SET", "del:orders:k" + std::to_string(i), "v"}), "OK");
  ASSERT_EQ(as(orders, {"HSET", "del:orders:h", "f", "v"}), "1");
  ASSERT_EQ(as(payments, {"SET", "del:payments:kept", "v"}), "OK");
  // Names next to the prefix that are not under it.
  for (const char* k : {"del:orders", "del:ordersx:1", "del:orders-b:1"}) ASSERT_TRUE(admin({"SET", k, "v"}).isOk());
  // An application connection stays open during the deletion: it is closed.
  auto open = connectWith(orders);
  ASSERT_TRUE(open.ok());

  ASSERT_TRUE(inproc_->remove(res::kServiceDatabases, "del", "orders").ok());
  auto r = reconcile("del", "orders");
  EXPECT_EQ(r.kind, ReconcileResult::Kind::kOk) << r.error;
  EXPECT_FALSE(inproc_->get(res::kServiceDatabases, "del", "orders").ok()) << "finalizer removed, object gone";
  EXPECT_TRUE(admin({"ACL", "GETUSER", "del.orders"}).isNil()) << "the ACL user is gone";
  EXPECT_TRUE(keysUnder("del:orders:").empty());
  EXPECT_EQ(keysUnder("del:"), (std::set<std::string>{"del:orders", "del:ordersx:1", "del:orders-b:1",
                                                      "del:payments:kept"}));
  EXPECT_FALSE(inproc_->get(res::kSecrets, "del", "orders-credentials").ok());
  EXPECT_FALSE(open->command({"PING"}).ok()) << "the open connection was closed";
  EXPECT_FALSE(connectWith(orders).ok());
  EXPECT_EQ(as(payments, {"GET", "del:payments:kept"}), "v") << "the other service is untouched";
}

TEST_F(RedisControllerIT, RetainKeepsUserKeysAndSecretAndARecreatedObjectAdoptsThem) {
  addNamespace("keep");
  create("keep", "orders");
  ASSERT_TRUE(reconcileToReady("keep", "orders"));
  auto creds = secret("keep", "orders-credentials");
  ASSERT_EQ(as(creds, {"SET", "keep:orders:k", "kept"}), "OK");

  ASSERT_TRUE(inproc_->remove(res::kServiceDatabases, "keep", "orders").ok());
  ASSERT_EQ(reconcile("keep", "orders").kind, ReconcileResult::Kind::kOk);
  EXPECT_FALSE(inproc_->get(res::kServiceDatabases, "keep", "orders").ok());
  auto kept = inproc_->get(res::kSecrets, "keep", "orders-credentials");
  ASSERT_TRUE(kept.ok()) << "Retain keeps the credentials Secret";
  EXPECT_FALSE(runtime::controllerOf(*kept)) << "and removes its owner reference";
  EXPECT_FALSE(admin({"ACL", "GETUSER", "keep.orders"}).isNil()) << "and the user";
  EXPECT_EQ(as(creds, {"GET", "keep:orders:k"}), "kept") << "the login and the keys work while no object exists";

  create("keep", "orders");
  ASSERT_TRUE(reconcileToReady("keep", "orders"));
  auto again = secret("keep", "orders-credentials");
  EXPECT_EQ(again["password"], creds["password"]);
  EXPECT_EQ(as(again, {"GET", "keep:orders:k"}), "kept");
  auto uid = jsonString(*inproc_->get(res::kServiceDatabases, "keep", "orders"), {"metadata", "uid"});
  auto user = admin({"ACL", "GETUSER", "keep.orders"});
  std::string description;
  for (const auto& e : user.elements) {
    description += e.str + " ";
    for (const auto& sub : e.elements) {
      description += sub.str + " ";
      for (const auto& leaf : sub.elements) description += leaf.str + " ";
    }
  }
  EXPECT_NE(description.find("uid=" + uid), std::string::npos) << "re-marked with the new uid: " << description;
}

TEST_F(RedisControllerIT, SteadyStateWritesNothingToTheApiOrToRedis) {
  addNamespace("steady");
  create("steady", "orders");
  create("steady", "payments");
  ASSERT_TRUE(reconcileToReady("steady", "orders"));
  ASSERT_TRUE(reconcileToReady("steady", "payments"));
  const int64_t rv = store_->resourceVersion();
  const long long setusers = calls("acl|setuser"), saves = calls("acl|save"), unlinks = calls("unlink");
  const uint64_t runs = reconciler_->engineRuns();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(reconcile("steady", "orders").kind, ReconcileResult::Kind::kOk);
    EXPECT_EQ(reconcile("steady", "payments").kind, ReconcileResult::Kind::kOk);
  }
  EXPECT_EQ(reconciler_->engineRuns(), runs + 10) << "every reconcile observed the server (recheck interval 0)";
  makeReconciler();  // and after a restart
  EXPECT_EQ(reconcile("steady", "orders").kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(store_->resourceVersion(), rv) << "API writes in steady state";
  EXPECT_EQ(calls("acl|setuser"), setusers) << "ACL writes in steady state";
  EXPECT_EQ(calls("acl|save"), saves);
  EXPECT_EQ(calls("unlink"), unlinks);
}

TEST_F(RedisControllerIT, BadAdminSecretsNameTheKeyAndNeverShowThePassword) {
  struct Case {
    const char* what;
    std::string key, value;  // value "" removes the key
    std::string reason, messagePart;
  };
  const std::vector<Case> cases = {
      {"no password", "password", "", "InvalidAdminSecret", "key \"password\" is missing"},
      {"no username", "username", "", "InvalidAdminSecret", "key \"username\" is missing"},
      {"no host", "host", "", "InvalidAdminSecret", "key \"host\" is missing"},
      {"no CA with TLS", "ca.crt", "", "InvalidAdminSecret", "key \"ca.crt\""},
      {"plain text while spec.tls.enabled", "tls", "false", "InvalidAdminSecret", "spec.tls.enabled"},
      {"bad port", "port", "redis", "InvalidAdminSecret", "key \"port\""},
      {"wrong admin password", "password", "not-the-admin-password", "PermissionDenied", "WRONGPASS"},
  };
  ASSERT_TRUE(inproc_->create(res::kNamespaces, "", runtime::testing::nsObject("bad")).ok());
  int n = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto entries = adminEntries();
    if (c.value.empty()) entries.erase(c.key);
    else entries[c.key] = c.value;
    putAdminSecret("bad", entries);
    const std::string name = "svc" + std::to_string(++n);
    create("bad", name);
    auto r = reconcile("bad", name);
    EXPECT_EQ(r.kind, ReconcileResult::Kind::kRetry);
    auto ready = condition("bad", name, "Ready");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, "False");
    EXPECT_EQ(ready->reason, c.reason);
    EXPECT_NE(ready->message.find(c.messagePart), std::string::npos) << ready->message;
    EXPECT_EQ(ready->message.find(server_->adminPassword()), std::string::npos) << "the admin password leaked";
    EXPECT_EQ(ready->message.find("not-the-admin-password"), std::string::npos) << "a password leaked";
    EXPECT_EQ(condition("bad", name, "Stalled")->status, "True");
    EXPECT_TRUE(admin({"ACL", "GETUSER", "bad." + name}).isNil()) << "nothing was created on the server";
  }
  // Fixed: the next reconcile provisions.
  putAdminSecret("bad", adminEntries());
  EXPECT_TRUE(reconcileToReady("bad", "svc1"));
}

}  // namespace
