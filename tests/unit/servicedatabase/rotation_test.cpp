// Credential rotation through the controller: by annotation and by rotationPeriod, following the
// engine's protocol (pending password stored → engine.rotate → promote), and consistent after a
// "kill" between any two steps: API writes and engine calls alike.
#include "tests/unit/servicedatabase/fixture.h"

using namespace std::chrono_literals;
using namespace sdb;
using namespace sdb::controllers::servicedatabase;
using namespace sdb::controllers::servicedatabase::testing;
using runtime::ReconcileResult;

namespace {

class RotationTest : public ControllerTest {
 public:
  void provision(const std::string& name = "orders", const Json& extraSpec = Json::object()) {
    Json sdb = sharedSdb(name);
    for (auto it = extraSpec.begin(); it != extraSpec.end(); ++it) sdb["spec"][it.key()] = it.value();
    create(sdb);
    auto r = reconcile(name);
    ASSERT_TRUE(r.kind == ReconcileResult::Kind::kOk || r.kind == ReconcileResult::Kind::kRequeueAfter) << r.error;
  }
  void requestRotation(const std::string& name, const std::string& value) {
    patchSdb(name, {{"metadata", {{"annotations", {{specs::kRotateCredentialsAnnotation, value}}}}}});
  }
  std::string pw(const std::string& secret) { return secretData(secret)["password"]; }
};

TEST_F(RotationTest, AnnotationRotatesBothPasswordsOnceAndRecordsWhen) {
  provision();
  const std::string app0 = pw("orders-credentials"), mig0 = pw("orders-migration-credentials");
  clock_.advance(1h);
  requestRotation("orders", "2026-03-01");
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  const std::string app1 = pw("orders-credentials"), mig1 = pw("orders-migration-credentials");
  EXPECT_NE(app1, app0);
  EXPECT_NE(mig1, mig0);
  EXPECT_EQ(fake_.services["shop/orders"].passwords["app"], app1);
  EXPECT_EQ(fake_.services["shop/orders"].passwords["migration"], mig1);
  EXPECT_EQ(secretData("orders-credentials").count("pending-password"), 0u);
  EXPECT_NE(secretData("orders-credentials")["uri"].find(app1), std::string::npos) << "uri follows the password";
  const std::string at = formatRfc3339(clock_.now());
  EXPECT_EQ(sdbObject()["status"]["credentialsRotatedAt"], at);
  Json secret = get(kube::resources::kSecrets, "orders-credentials");
  EXPECT_EQ(specs::annotation(secret, specs::kAnnotationRotationRequest), "2026-03-01");
  EXPECT_EQ(specs::annotation(secret, specs::kAnnotationRotatedAt), at);
  EXPECT_EQ(events("CredentialsRotated").size(), 1u);
  // The protocol, in order: rotate each slot after its pending password was stored.
  std::vector<std::string> rotations;
  for (const auto& c : fake_.calls) {
    if (c.rfind("rotate", 0) == 0) rotations.push_back(c);
  }
  EXPECT_EQ(rotations, (std::vector<std::string>{"rotate shop/orders app", "rotate shop/orders migration"}));

  // The same annotation value again: nothing. A new value: another rotation.
  const int64_t rv = store_->resourceVersion();
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(store_->resourceVersion(), rv);
  requestRotation("orders", "2026-03-02");
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_NE(pw("orders-credentials"), app1);
}

TEST_F(RotationTest, PeriodRotatesWhenDueAndRequeuesForTheNextOne) {
  provision("orders", {{"credentials", {{"rotationPeriod", "720h"}}}});
  const std::string app0 = pw("orders-credentials");
  clock_.advance(100h);
  auto r = reconcile();
  ASSERT_EQ(r.kind, ReconcileResult::Kind::kRequeueAfter);
  EXPECT_NEAR(std::chrono::duration<double>(r.after).count(), 620.0 * 3600 + 1, 2.0);
  EXPECT_EQ(pw("orders-credentials"), app0);
  clock_.advance(620h);
  r = reconcile();
  ASSERT_EQ(r.kind, ReconcileResult::Kind::kRequeueAfter);
  EXPECT_NE(pw("orders-credentials"), app0);
  EXPECT_NEAR(std::chrono::duration<double>(r.after).count(), 720.0 * 3600 + 1, 2.0);
  EXPECT_EQ(fake_.services["shop/orders"].passwords["app"], pw("orders-credentials"));
  EXPECT_NE(events("CredentialsRotated")[0]["message"].get<std::string>().find("rotationPeriod"), std::string::npos);
}

TEST_F(RotationTest, KillBetweenEveryStepOfARotationThenRerunConverges) {
  // Count the steps of an uninterrupted rotation.
  provision("probe");
  requestRotation("probe", "r1");
  client_->kill = &kill_;
  ASSERT_EQ(reconcile("probe").kind, ReconcileResult::Kind::kOk);
  const int steps = kill_.steps();
  // engine reconcile, 2 pending writes, 2 rotates, 2 promotes, status.
  ASSERT_GE(steps, 8);
  for (int k = 0; k < steps; ++k) {
    SCOPED_TRACE("killed after step " + std::to_string(k));
    const std::string name = "k" + std::to_string(k);
    client_->kill = nullptr;
    provision(name);
    const std::string app0 = pw(name + "-credentials"), mig0 = pw(name + "-migration-credentials");
    requestRotation(name, "r1");
    client_->kill = &kill_;
    kill_.arm(k);
    kill_.invariant = [&] { EXPECT_TRUE(serverAcceptsAStoredPassword(name)); };
    makeReconciler();
    EXPECT_NE(reconcile(name).kind, ReconcileResult::Kind::kOk);
    EXPECT_TRUE(serverAcceptsAStoredPassword(name));
    kill_.disarm();
    makeReconciler();  // restarted process
    auto r = reconcile(name);
    ASSERT_EQ(r.kind, ReconcileResult::Kind::kOk) << r.error;
    EXPECT_TRUE(serverAcceptsAStoredPassword(name));
    auto app = secretData(name + "-credentials"), mig = secretData(name + "-migration-credentials");
    EXPECT_EQ(app.count("pending-password"), 0u);
    EXPECT_EQ(mig.count("pending-password"), 0u);
    EXPECT_EQ(fake_.services["shop/" + name].passwords["app"], app["password"]);
    EXPECT_EQ(fake_.services["shop/" + name].passwords["migration"], mig["password"]);
    EXPECT_NE(app["password"], app0) << "the requested rotation happened";
    EXPECT_NE(mig["password"], mig0);
    // And it happened once: a further reconcile changes nothing.
    const int64_t rv = store_->resourceVersion();
    EXPECT_EQ(reconcile(name).kind, ReconcileResult::Kind::kOk);
    EXPECT_EQ(store_->resourceVersion(), rv);
    kill_.invariant = nullptr;
  }
}

TEST_F(RotationTest, PendingPasswordThatNeitherWorksIsSetByTheEngineThenPromoted) {
  provision();
  // A crash left a pending password, and meanwhile someone changed the password on the server.
  Json s = get(kube::resources::kSecrets, "orders-credentials");
  s["data"]["pending-password"] = base64Encode("pending-one-0123456789abcdefghij");
  ASSERT_TRUE(inproc_->update(kube::resources::kSecrets, "shop", s).ok());
  fake_.services["shop/orders"].passwords["app"] = "set-by-someone-else";
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(pw("orders-credentials"), "pending-one-0123456789abcdefghij");
  EXPECT_EQ(fake_.services["shop/orders"].passwords["app"], "pending-one-0123456789abcdefghij");
  EXPECT_EQ(secretData("orders-credentials").count("pending-password"), 0u);
}

TEST_F(RotationTest, DecideRotationIsPure) {
  specs::ServiceDatabase sdb;
  sdb.rotateRequest = "v2";
  SlotState a{"app", "x", Json::object(), "p", std::nullopt};
  a.live["metadata"]["annotations"][specs::kAnnotationRotationRequest] = "v2";
  SlotState m{"migration", "y", Json::object(), "q", std::nullopt};
  auto d = decideRotation(sdb, {a, m}, clock_.now());
  EXPECT_EQ(d.slots, std::vector<std::string>{"migration"}) << "app already handled v2";
  EXPECT_EQ(d.request, "v2");
  sdb.rotateRequest.clear();
  sdb.credentials.rotationPeriod = std::chrono::hours(1);
  a.live["metadata"]["annotations"][specs::kAnnotationPasswordSetAt] = formatRfc3339(clock_.now() - 2h);
  m.live["metadata"]["annotations"][specs::kAnnotationPasswordSetAt] = formatRfc3339(clock_.now() - 30min);
  d = decideRotation(sdb, {a, m}, clock_.now());
  EXPECT_EQ(d.slots, std::vector<std::string>{"app"});
  ASSERT_TRUE(d.nextDueIn);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::minutes>(*d.nextDueIn).count(), 30);
}

}  // namespace

namespace {

TEST_F(RotationTest, AnAnnotationOlderThanTheCredentialsDoesNotRotateThem) {
  Json sdb = sharedSdb();
  sdb["metadata"]["annotations"] = {{specs::kRotateCredentialsAnnotation, "set-before-creation"}};
  create(sdb);
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  for (const auto& c : fake_.calls) EXPECT_NE(c.rfind("rotate", 0), 0u) << c;
  EXPECT_TRUE(events("CredentialsRotated").empty());
}

}  // namespace
