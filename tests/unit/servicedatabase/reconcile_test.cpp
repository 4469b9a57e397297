// The ServiceDatabase controller over the in-process store and the FakeEngine: provisioning,
// status and conditions, Events, the steady state's zero writes, passwords stored before use,
// problems as conditions, and the deletion policies.
#include "tests/unit/servicedatabase/fixture.h"

#include "operator/runtime/object_helpers.h"

using namespace std::chrono_literals;
using namespace sdb;
using namespace sdb::controllers::servicedatabase;
using namespace sdb::controllers::servicedatabase::testing;
using runtime::ReconcileResult;

namespace {

TEST_F(ControllerTest, ProvisionsSecretsStatusFinalizerAndOneEvent) {
  create(sharedSdb());
  auto r = reconcile();
  EXPECT_EQ(r.kind, ReconcileResult::Kind::kOk) << r.error;

  Json sdb = sdbObject();
  EXPECT_TRUE(runtime::hasFinalizer(sdb, kFinalizer));
  EXPECT_EQ(sdb["status"]["phase"], "Ready");
  EXPECT_EQ(sdb["status"]["observedGeneration"], 1);
  EXPECT_EQ(sdb["status"]["secretName"], "orders-credentials");
  EXPECT_EQ(sdb["status"]["migrationSecretName"], "orders-migration-credentials");
  EXPECT_EQ(sdb["status"]["endpoint"], Json({{"host", "pg.shared.internal"}, {"port", 5432}, {"database", "shop_orders"}}));
  for (const char* type : {"Ready", "CredentialsReady"}) {
    auto c = condition(type);
    ASSERT_TRUE(c) << type;
    EXPECT_EQ(c->status, "True") << type;
    EXPECT_EQ(c->observedGeneration, 1) << type;
  }
  EXPECT_EQ(condition("Stalled")->status, "False");
  EXPECT_EQ(condition("Reconciling")->status, "False");

  auto app = secretData("orders-credentials");
  auto mig = secretData("orders-migration-credentials");
  EXPECT_EQ(app["username"], "shop_orders_app");
  EXPECT_EQ(mig["username"], "shop_orders_migrator");
  EXPECT_EQ(app["host"], "pg.shared.internal");
  EXPECT_EQ(app["database"], "shop_orders");
  EXPECT_EQ(app["sslmode"], "verify-full");
  EXPECT_EQ(app["type"], "postgresql");
  EXPECT_EQ(app["provider"], "servicedb");
  EXPECT_NE(app["ca.crt"].find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(app["password"].size(), 32u);
  EXPECT_EQ(app["password"].find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            std::string::npos);
  EXPECT_NE(app["password"], mig["password"]);
  EXPECT_EQ(app.count("pending-password"), 0u);
  // The server got exactly the stored passwords.
  EXPECT_EQ(fake_.services["shop/orders"].passwords["app"], app["password"]);
  EXPECT_EQ(fake_.services["shop/orders"].passwords["migration"], mig["password"]);
  EXPECT_EQ(lastAdmin_.user, "sdb_admin");
  EXPECT_EQ(lastAdmin_.sslmode, "verify-full");
  EXPECT_FALSE(lastAdmin_.sslrootcert.empty());

  Json secret = get(kube::resources::kSecrets, "orders-credentials");
  auto owner = runtime::controllerOf(secret);
  ASSERT_TRUE(owner);
  EXPECT_EQ((*owner)["uid"], sdb["metadata"]["uid"]);
  EXPECT_EQ(secret["metadata"]["labels"]["app.kubernetes.io/managed-by"], "servicedb-operator");
  EXPECT_EQ(secret["type"], "servicebinding.io/postgresql");
  // Applied server-side with the fixed field manager.
  bool applied = false;
  for (const auto& m : secret["metadata"]["managedFields"]) {
    applied = applied || (m.value("manager", "") == kFieldManager && m.value("operation", "") == "Apply");
  }
  EXPECT_TRUE(applied) << secret["metadata"]["managedFields"].dump();

  auto provisioned = events("Provisioned");
  ASSERT_EQ(provisioned.size(), 1u);
  EXPECT_NE(provisioned[0]["message"].get<std::string>().find("created Secret \"orders-credentials\""),
            std::string::npos);
  EXPECT_EQ(provisioned[0]["message"].get<std::string>().find(app["password"]), std::string::npos);
}

TEST_F(ControllerTest, SteadyStateMakesZeroWritesToTheApiAndTheServer) {
  create(sharedSdb());
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  const int64_t rv = store_->resourceVersion();
  const size_t engineCalls = fake_.calls.size();
  for (int i = 0; i < 5; ++i) {
    auto r = reconcile();
    EXPECT_EQ(r.kind, ReconcileResult::Kind::kOk);
    clock_.advance(10min);
  }
  EXPECT_EQ(store_->resourceVersion(), rv) << "a resync wrote to the API";
  // The engine ran every time (recheck interval 0) and planned nothing.
  EXPECT_EQ(fake_.calls.size(), engineCalls + 5);
  EXPECT_EQ(reconciler_->statusWrites(), 1u);

  // A restarted operator (fresh memory) is just as quiet.
  makeReconciler();
  EXPECT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(store_->resourceVersion(), rv);
}

TEST_F(ControllerTest, RecheckIntervalSkipsTheServerOnlyWhileNothingChanged) {
  makeReconciler(300s);
  create(sharedSdb());
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(reconciler_->engineRuns(), 1u);
  reconcile();
  EXPECT_EQ(reconciler_->engineRuns(), 1u) << "converged moments ago with the same inputs";
  clock_.advance(301s);
  reconcile();
  EXPECT_EQ(reconciler_->engineRuns(), 2u) << "the interval passed: observe the server again";
  patchSdb("orders", {{"metadata", {{"labels", {{"team", "a"}}}}}});  // no generation change
  reconcile();
  EXPECT_EQ(reconciler_->engineRuns(), 2u);
  patchSdb("orders", {{"spec", {{"credentials", {{"passwordLength", 40}}}}}});  // generation 2
  reconcile();
  EXPECT_EQ(reconciler_->engineRuns(), 3u);
  EXPECT_EQ(condition("Ready")->observedGeneration, 2);
}

TEST_F(ControllerTest, PasswordsAreStoredBeforeTheServerSeesThem) {
  int checks = 0;
  fake_.beforeCall = [&](const std::string& call) -> std::optional<Error> {
    if (call.rfind("reconcile", 0) == 0) {
      // At the moment of the engine call both Secrets already hold passwords.
      ++checks;
      EXPECT_EQ(secretData("orders-credentials")["password"].size(), 32u);
      EXPECT_EQ(secretData("orders-migration-credentials")["password"].size(), 32u);
    }
    return std::nullopt;
  };
  create(sharedSdb());
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(checks, 1);
  EXPECT_TRUE(serverAcceptsAStoredPassword());
}

TEST_F(ControllerTest, KillAfterEveryWriteOfProvisioningThenRerunConverges) {
  // Count the steps of an uninterrupted run first.
  create(sharedSdb("probe"));
  client_->kill = &kill_;
  ASSERT_EQ(reconcile("probe").kind, ReconcileResult::Kind::kOk);
  const int steps = kill_.steps();
  ASSERT_GE(steps, 5);  // finalizer, 2 Secrets, engine reconcile, status
  for (int k = 0; k < steps; ++k) {
    const std::string name = "k" + std::to_string(k);
    client_->kill = nullptr;
    create(sharedSdb(name));
    client_->kill = &kill_;
    kill_.arm(k);
    kill_.invariant = [&] { EXPECT_TRUE(serverAcceptsAStoredPassword(name)) << "k=" << k; };
    makeReconciler();
    auto dead = reconcile(name);
    EXPECT_NE(dead.kind, ReconcileResult::Kind::kOk) << "k=" << k << " should have been killed";
    kill_.disarm();
    makeReconciler();  // the restarted process
    auto r = reconcile(name);
    ASSERT_EQ(r.kind, ReconcileResult::Kind::kOk) << "k=" << k << ": " << r.error;
    EXPECT_EQ(condition("Ready", name)->status, "True") << "k=" << k;
    auto app = secretData(name + "-credentials");
    EXPECT_EQ(fake_.services["shop/" + name].passwords["app"], app["password"]) << "k=" << k;
    EXPECT_EQ(app.count("pending-password"), 0u);
    kill_.invariant = nullptr;
  }
}

class ProblemTableBase;
struct ProblemCase {
  const char* what;
  std::function<void(ProblemTableBase&, Json&)> setUp;
  const char* reason;
  bool stalled;
  ReconcileResult::Kind result;
  const char* messagePart;
  std::optional<Error> engineError = std::nullopt;  // the engine fails with it on every attempt
};

class ProblemTableBase : public ControllerTest {
 public:
  void breakAdmin(const std::string& key, const std::string& value) {
    Json s = adminSecret();
    if (value.empty()) s["data"].erase(key);
    else s["data"][key] = base64Encode(value);
    ASSERT_TRUE(inproc_->update(kube::resources::kSecrets, "shop", s).ok());
  }
};

using ProblemTable = ProblemTableBase;

TEST_F(ProblemTable, EachProblemIsAConditionWithAReasonNamingTheCause) {
  using K = ReconcileResult::Kind;
  const std::vector<ProblemCase> cases = {
      {"redis dedicated",
       [](ProblemTableBase&, Json& s) {
         s["spec"]["engine"] = "redis";
         s["spec"]["mode"] = "dedicated";
         s["spec"].erase("sharedServer");
       },
       "NotImplemented", true, K::kOk,
       "spec.engine \"redis\" with spec.mode \"dedicated\" is not implemented yet in this version of "
       "servicedb-operator (implemented: mongodb (shared), postgres (shared), redis (shared))"},
      {"postgres dedicated",
       [](ProblemTableBase&, Json& s) {
         s["spec"]["mode"] = "dedicated";
         s["spec"].erase("sharedServer");
       },
       "NotImplemented", true, K::kOk, "spec.mode \"dedicated\""},
      {"migrations without image or configMapRef",
       [](ProblemTableBase&, Json& s) { s["spec"]["migrations"] = {{"version", "1"}}; }, "InvalidSpec", true, K::kOk,
       "spec.migrations: exactly one of spec.migrations.image and spec.migrations.configMapRef must be set"},
      {"built-in migrations for redis",
       [](ProblemTableBase&, Json& s) {
         s["spec"]["engine"] = "redis";
         s["spec"]["migrations"] = {{"version", "1"}, {"configMapRef", {{"name", "m"}}}};
       },
       "InvalidSpec", true, K::kOk, "spec.migrations.configMapRef: built-in SQL migrations need engine postgres"},
      {"image migrations for an engine without a migration login",
       [](ProblemTableBase&, Json& s) {
         s["spec"]["engine"] = "redis";
         s["spec"]["migrations"] = {{"version", "1"}, {"image", "redis-migrate:1"}};
       },
       "NotImplemented", true, K::kOk, "spec.migrations: redis (shared) has no migration login"},
      {"databaseName",
       [](ProblemTableBase&, Json& s) { s["spec"]["databaseName"] = "legacy_orders"; }, "NotImplemented", true, K::kOk,
       "spec.databaseName"},
      {"admin Secret missing",
       [](ProblemTableBase&, Json& s) { s["spec"]["sharedServer"]["adminSecretRef"]["name"] = "nope"; },
       "AdminSecretNotFound", false, K::kRetry, "Secret \"nope\" not found"},
      {"admin without password",
       [](ProblemTableBase& t, Json&) { t.breakAdmin("password", ""); },
       "InvalidAdminSecret", true, K::kRetry, "key \"password\""},
      {"admin bad port", [](ProblemTableBase& t, Json&) { t.breakAdmin("port", "99999"); },
       "InvalidAdminSecret", true, K::kRetry, "key \"port\""},
      {"admin plain text with TLS required",
       [](ProblemTableBase& t, Json&) { t.breakAdmin("sslmode", "prefer"); },
       "InvalidAdminSecret", true, K::kRetry, "spec.tls.enabled"},
      {"admin verify-full without CA",
       [](ProblemTableBase& t, Json&) { t.breakAdmin("ca.crt", ""); }, "InvalidAdminSecret",
       true, K::kRetry, "ca.crt"},
      {"server unreachable", [](ProblemTableBase&, Json&) {}, "ServerUnreachable", false, K::kRetry,
       "connection refused", Error(ErrorCode::kUnavailable, "connection refused")},
      {"admin lacks privileges", [](ProblemTableBase&, Json&) {}, "PermissionDenied", true, K::kRetry,
       "permission denied", Error(ErrorCode::kPermissionDenied, "permission denied to create role")},
      {"foreign database on the server",
       [](ProblemTableBase& t, Json&) { t.fake_.foreign.insert("shop/orders"); }, "ForeignObject",
       true, K::kRetry, "without our marker"},
      {"foreign Secret with our name",
       [](ProblemTableBase& t, Json&) {
         Json s = {{"apiVersion", "v1"}, {"kind", "Secret"},
                   {"metadata", {{"name", "orders-credentials"}, {"namespace", "shop"}}},
                   {"data", {{"password", base64Encode("theirs")}}}};
         ASSERT_TRUE(t.inproc_->create(kube::resources::kSecrets, "shop", s).ok());
       },
       "ForeignObject", true, K::kRetry, "not managed by servicedb-operator"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    reset();
    Json sdb = sharedSdb();
    c.setUp(*this, sdb);
    fake_.failNext = c.engineError;
    create(sdb);
    auto r = reconcile();
    EXPECT_EQ(r.kind, c.result) << r.error;
    auto ready = condition("Ready");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, "False");
    EXPECT_EQ(ready->reason, c.reason);
    EXPECT_NE(ready->message.find(c.messagePart), std::string::npos) << ready->message;
    EXPECT_EQ(condition("Stalled")->status, c.stalled ? "True" : "False");
    EXPECT_EQ(condition("Reconciling")->status, c.stalled ? "False" : "True");
    EXPECT_EQ(sdbObject()["status"]["phase"], c.stalled ? "Failed" : "Pending");
    EXPECT_EQ(events(c.reason).size(), 1u) << "one Warning Event per new problem";
    // The foreign Secret is untouched.
    if (std::string(c.what) == "foreign Secret with our name") {
      EXPECT_EQ(secretData("orders-credentials")["password"], "theirs");
    }
    // Nothing external is created for what is not implemented, and no finalizer guards nothing.
    if (std::string(c.reason) == "NotImplemented") {
      EXPECT_FALSE(runtime::hasFinalizer(sdbObject(), kFinalizer));
      EXPECT_TRUE(get(kube::resources::kSecrets, "orders-credentials").is_null());
    }
    // Retrying with the same problem writes nothing more (no status churn, no Event spam).
    const int64_t rv = store_->resourceVersion();
    fake_.failNext = c.engineError;
    reconcile();
    EXPECT_EQ(store_->resourceVersion(), rv) << "the retry wrote to the API";
  }
}

TEST_F(ControllerTest, RecoversWhenTheServerComesBack) {
  create(sharedSdb());
  fake_.failNext = Error(ErrorCode::kUnavailable, "connection refused");
  EXPECT_EQ(reconcile().kind, ReconcileResult::Kind::kRetry);
  EXPECT_EQ(condition("Ready")->reason, "ServerUnreachable");
  EXPECT_TRUE(serverAcceptsAStoredPassword());
  EXPECT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(condition("Ready")->status, "True");
}

TEST_F(ControllerTest, RepairsADriftedSecretAndAPasswordChangedOnTheServer) {
  create(sharedSdb());
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  const std::string pw = secretData("orders-credentials")["password"];
  // Someone edits the host in the Secret, and someone changes the password on the server.
  Json s = get(kube::resources::kSecrets, "orders-credentials");
  s["data"]["host"] = base64Encode("evil.example");
  ASSERT_TRUE(inproc_->update(kube::resources::kSecrets, "shop", s).ok());
  fake_.services["shop/orders"].passwords["app"] = "changed-outside";
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(secretData("orders-credentials")["host"], "pg.shared.internal");
  EXPECT_EQ(secretData("orders-credentials")["password"], pw);
  EXPECT_EQ(fake_.services["shop/orders"].passwords["app"], pw);
  EXPECT_EQ(events("Reconciled").size(), 1u);
}

TEST_F(ControllerTest, DeletedSecretGetsANewStoredPassword) {
  create(sharedSdb());
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  const std::string old = secretData("orders-credentials")["password"];
  ASSERT_TRUE(inproc_->remove(kube::resources::kSecrets, "shop", "orders-credentials").ok());
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  const std::string now = secretData("orders-credentials")["password"];
  EXPECT_NE(now, old);
  EXPECT_EQ(fake_.services["shop/orders"].passwords["app"], now);
}

TEST_F(ControllerTest, RetainKeepsEverythingAndARecreatedObjectAdoptsIt) {
  create(sharedSdb());
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  const std::string oldUid = sdbObject()["metadata"]["uid"];
  const std::string pw = secretData("orders-credentials")["password"];
  ASSERT_TRUE(inproc_->remove(kube::resources::kServiceDatabases, "shop", "orders").ok());
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_TRUE(sdbObject().is_null()) << "the finalizer was removed, the object is gone";
  EXPECT_EQ(fake_.calls.back().rfind("reconcile", 0), 0u) << "Retain never calls the engine's remove";
  Json secret = get(kube::resources::kSecrets, "orders-credentials");
  ASSERT_FALSE(secret.is_null());
  EXPECT_FALSE(runtime::controllerOf(secret)) << "owner reference removed so the garbage collector keeps it";
  EXPECT_EQ(events("Retained").size(), 1u);

  create(sharedSdb());
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  const std::string newUid = sdbObject()["metadata"]["uid"];
  EXPECT_NE(newUid, oldUid);
  EXPECT_EQ(secretData("orders-credentials")["password"], pw) << "the old credentials keep working";
  EXPECT_EQ((*runtime::controllerOf(get(kube::resources::kSecrets, "orders-credentials")))["uid"], newUid);
  EXPECT_EQ(fake_.services["shop/orders"].uid, newUid) << "the engine re-marked the adopted objects";
}

TEST_F(ControllerTest, DeleteDropsOnTheServerAndDeletesTheSecrets) {
  Json sdb = sharedSdb();
  sdb["spec"]["deletionPolicy"] = "Delete";
  create(sdb);
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  ASSERT_TRUE(inproc_->remove(kube::resources::kServiceDatabases, "shop", "orders").ok());
  fake_.failNext = Error(ErrorCode::kUnavailable, "connection refused");
  EXPECT_EQ(reconcile().kind, ReconcileResult::Kind::kRetry);
  EXPECT_EQ(sdbObject()["status"]["phase"], "Deleting");
  EXPECT_EQ(condition("Ready")->reason, "ServerUnreachable");
  EXPECT_EQ(fake_.services.count("shop/orders"), 1u);
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_TRUE(sdbObject().is_null());
  EXPECT_EQ(fake_.services.count("shop/orders"), 0u);
  EXPECT_TRUE(get(kube::resources::kSecrets, "orders-credentials").is_null());
  EXPECT_TRUE(get(kube::resources::kSecrets, "orders-migration-credentials").is_null());
  EXPECT_EQ(events("Deleted").size(), 1u);
}

// deletionPolicy Snapshot: snapshot_test.cpp.

TEST_F(ControllerTest, NamespacesKeepServicesApart) {
  ASSERT_TRUE(inproc_->create(kube::resources::kNamespaces, "", runtime::testing::nsObject("other")).ok());
  Json admin = adminSecret();
  admin["metadata"]["namespace"] = "other";
  ASSERT_TRUE(inproc_->create(kube::resources::kSecrets, "other", admin).ok());
  create(sharedSdb());
  Json b = sharedSdb();
  b["metadata"]["namespace"] = "other";
  ASSERT_TRUE(inproc_->create(kube::resources::kServiceDatabases, "other", b).ok());
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  ASSERT_EQ(reconciler_->reconcile({"other", "orders"}, {"servicedatabase", "t"}).kind, ReconcileResult::Kind::kOk);
  auto other = specs::secretData(*inproc_->get(kube::resources::kSecrets, "other", "orders-credentials"));
  EXPECT_EQ(other["database"], "other_orders");
  EXPECT_EQ(secretData("orders-credentials")["database"], "shop_orders");
  EXPECT_NE(other["password"], secretData("orders-credentials")["password"]);
}

}  // namespace
