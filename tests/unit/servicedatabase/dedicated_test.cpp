// Dedicated mode over the in-process store (the local cluster's store: validation, versions, owner
// references) with a FakeEngine standing in for the instance's PostgreSQL: the operator's CA and its
// first-start race, certificate decisions, the children of an instance, waiting for readiness, a
// steady state without writes, day-2 refusals, access conflicts and deletion.
#include <gtest/gtest.h>

#include <thread>

#include "controllers/servicedatabase/instance_tls.h"
#include "controllers/servicedatabase/postgres_dedicated.h"
#include "tests/unit/servicedatabase/dedicated_fixture.h"

namespace sdb::controllers::servicedatabase {
namespace {

namespace res = kube::resources;
using namespace std::chrono_literals;

class DedicatedTest : public testing::DedicatedTest {
 protected:
  InstanceEngine instanceEngine() override { return postgresInstanceEngine({}); }
  Json engineSpec() override { return {{"engine", "postgres"}, {"version", "15"}}; }
};

TEST_F(DedicatedTest, TwoReplicasRacingAtFirstStartEndWithOneCa) {
  std::vector<std::unique_ptr<CaStore>> stores;
  for (int i = 0; i < 6; ++i) stores.push_back(std::make_unique<CaStore>(*client_, nullptr, "servicedb-system", "op"));
  std::vector<std::string> certs(stores.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < stores.size(); ++i) {
    threads.emplace_back([&, i] {
      auto ca = stores[i]->get();
      if (ca.ok()) certs[i] = ca->certificatePem;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& c : certs) EXPECT_EQ(c, certs[0]);
  EXPECT_FALSE(certs[0].empty());
  EXPECT_EQ(specs::secretData(get(res::kSecrets, kCaSecretName, "servicedb-system"))["tls.crt"], certs[0]);
}

TEST(InstanceTls, DecidesWhenToIssue) {
  auto ca = pki::createCa({});
  auto otherCa = pki::createCa({});
  ASSERT_TRUE(ca.ok() && otherCa.ok());
  const auto now = std::chrono::system_clock::now();
  InstanceTlsOptions opts;
  opts.validity = 90s;
  pki::ServerCertOptions so;
  so.commonName = "db";
  so.dnsNames = {"db.shop.svc"};
  so.ipAddresses = {"198.19.0.4"};
  so.validity = 90s;
  so.notBefore = now;
  auto cert = pki::issueServerCert(*ca, so);
  ASSERT_TRUE(cert.ok());
  std::map<std::string, std::string> data{{"tls.crt", cert->certificatePem}, {"tls.key", cert->privateKeyPem},
                                          {"tls.pem", cert->certificatePem + cert->privateKeyPem},
                                          {"ca.crt", ca->certificatePem}};
  const std::vector<std::string> sans{"198.19.0.4", "db.shop.svc"};
  EXPECT_EQ(decideTls({}, ca->certificatePem, sans, now, opts).why, "no certificate yet");
  auto fresh = decideTls(data, ca->certificatePem, sans, now + 10s, opts);
  EXPECT_FALSE(fresh.issue) << fresh.why;
  EXPECT_FALSE(fresh.rewrite) << fresh.why;
  // A Secret from before tls.pem existed (or with a stale one) keeps its certificate and is rewritten.
  for (const std::string& pem : {std::string(), cert->certificatePem, cert->privateKeyPem + cert->certificatePem}) {
    auto noPem = data;
    noPem["tls.pem"] = pem;
    auto d = decideTls(noPem, ca->certificatePem, sans, now + 10s, opts);
    EXPECT_FALSE(d.issue);
    EXPECT_TRUE(d.rewrite);
    EXPECT_EQ(d.why, "the Secret's tls.pem is missing or does not match tls.crt and tls.key");
  }
  ASSERT_TRUE(fresh.renewAt.has_value());
  const auto renewIn = std::chrono::duration_cast<std::chrono::milliseconds>(*fresh.renewAt - now).count();
  EXPECT_GT(renewIn, 58000);  // two thirds of 90 s after notBefore (whole seconds in the certificate)
  EXPECT_LE(renewIn, 60000);
  EXPECT_TRUE(decideTls(data, ca->certificatePem, sans, now + 61s, opts).issue);
  EXPECT_EQ(decideTls(data, otherCa->certificatePem, sans, now, opts).why, "the operator's CA changed");
  EXPECT_EQ(decideTls(data, ca->certificatePem, {"198.19.0.5", "db.shop.svc"}, now, opts).why,
            "the instance's names or address changed");
  so.validity = std::chrono::hours(1);
  auto longer = pki::issueServerCert(*ca, so);
  ASSERT_TRUE(longer.ok());
  auto longData = data;
  longData["tls.crt"] = longer->certificatePem;
  EXPECT_EQ(decideTls(longData, ca->certificatePem, sans, now, opts).why, "the configured validity is shorter");
  data["tls.crt"] = "garbage";
  EXPECT_TRUE(decideTls(data, ca->certificatePem, sans, now, opts).issue);
}

TEST_F(DedicatedTest, OpenBuildsTheInstanceWaitsForItThenConnectsAndSettlesWithoutWrites) {
  Json obj = sdbObject("orders", "orders");
  auto sdb = parsed(obj);
  auto first = backend_->open(sdb);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().reason, "InstanceStarting") << first.error().message;
  EXPECT_FALSE(first.error().stalled);
  ASSERT_TRUE(first.error().requeueAfter.has_value());
  ASSERT_EQ(first.error().conditions.size(), 1u);
  EXPECT_EQ(first.error().conditions[0].type, "NetworkIsolated");
  EXPECT_EQ(first.error().conditions[0].status, "True") << first.error().conditions[0].message;
  std::string changes;
  for (const auto& c : first.error().changes) changes += c + "\n";
  for (const char* what : {"superuser Secret", "Service \"orders-postgres-hl\"", "Service \"orders-postgres\"",
                           "server certificate", "NetworkPolicy \"orders-postgres\"", "ConfigMap", "StatefulSet"}) {
    EXPECT_NE(changes.find(what), std::string::npos) << what << " missing in:\n" << changes;
  }
  for (const auto& [kind, name] : std::vector<std::pair<kube::ResourceRef, std::string>>{
           {res::kStatefulSets, "orders-postgres"}, {res::kServices, "orders-postgres"}, {res::kServices, "orders-postgres-hl"},
           {res::kConfigMaps, "orders-postgres-config"}, {res::kSecrets, "orders-postgres-superuser"},
           {res::kSecrets, "orders-postgres-tls"}, {res::kNetworkPolicies, "orders-postgres"}}) {
    Json o = get(kind, name);
    ASSERT_FALSE(o.is_null()) << kind.kind << " " << name;
    EXPECT_EQ(o["metadata"]["ownerReferences"][0].value("uid", ""), sdb.uid) << kind.kind << " " << name;
  }

  markReady("orders-postgres");
  auto session = backend_->open(sdb);
  ASSERT_TRUE(session.ok()) << session.error().message;
  EXPECT_EQ(session->endpoint.host, "orders-postgres.shop.svc");
  EXPECT_EQ(session->endpoint.port, 5432);
  EXPECT_EQ(session->endpoint.database, "shop_orders");
  const std::string clusterIp = jsonString(get(res::kServices, "orders-postgres"), {"spec", "clusterIP"});
  EXPECT_EQ(lastConnection_.host, clusterIp);
  EXPECT_EQ(lastConnection_.username, "postgres");
  EXPECT_EQ(lastConnection_.password, specs::secretData(get(res::kSecrets, "orders-postgres-superuser"))["password"]);
  EXPECT_EQ(reloads_, 1);  // the served certificate was checked once
  auto binding = session->bindingData("app", "pw");
  EXPECT_EQ(binding["host"], "orders-postgres.shop.svc");
  EXPECT_EQ(binding["sslmode"], "verify-full");
  EXPECT_EQ(binding["ca.crt"], specs::secretData(get(res::kSecrets, "orders-postgres-tls"))["ca.crt"]);
  // The certificate names the Service and the clusterIP, and chains to the operator's CA.
  const std::string crt = specs::secretData(get(res::kSecrets, "orders-postgres-tls"))["tls.crt"];
  auto sans = pki::subjectAltNames(crt);
  ASSERT_TRUE(sans.ok());
  EXPECT_NE(std::find(sans->begin(), sans->end(), clusterIp), sans->end());
  EXPECT_NE(std::find(sans->begin(), sans->end(), "orders-postgres.shop.svc"), sans->end());
  EXPECT_TRUE(pki::issuedBy(crt, ca_->get()->certificatePem));

  const std::string before = rv();
  auto again = backend_->open(sdb);
  ASSERT_TRUE(again.ok()) << again.error().message;
  for (const auto& c : again->changes) ADD_FAILURE() << "steady state changed: " << c;
  EXPECT_EQ(rv(), before) << "a steady state wrote to the API";
  EXPECT_EQ(reloads_, 1);
}

TEST_F(DedicatedTest, DayTwoRefusalsNameTheField) {
  Json obj = sdbObject("orders", "orders");
  ASSERT_FALSE(backend_->open(parsed(obj)).ok());  // builds the instance
  markReady("orders-postgres");
  ASSERT_TRUE(backend_->open(parsed(obj)).ok());

  Json major = obj;
  major["spec"]["version"] = "16";
  auto m = backend_->open(parsed(major));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().reason, "MajorVersionChange");
  EXPECT_TRUE(m.error().stalled);
  EXPECT_NE(m.error().message.find("spec.version"), std::string::npos);

  Json shrink = obj;
  shrink["spec"]["storage"]["size"] = "512Mi";
  auto s = backend_->open(parsed(shrink));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().reason, "StorageShrinkNotSupported");
  EXPECT_NE(s.error().message.find("spec.storage.size"), std::string::npos);

  // A claim whose StorageClass does not allow expansion: refused, nothing deleted.
  Json sc = {{"apiVersion", "storage.k8s.io/v1"}, {"kind", "StorageClass"}, {"metadata", {{"name", "fixed"}}},
             {"provisioner", "example.com/fixed"}, {"allowVolumeExpansion", false}};
  ASSERT_TRUE(client_->create(res::kStorageClasses, "", sc).ok());
  Json pvc = {{"apiVersion", "v1"}, {"kind", "PersistentVolumeClaim"},
              {"metadata", {{"name", "data-orders-postgres-0"}, {"namespace", "shop"}}},
              {"spec", {{"accessModes", {"ReadWriteOnce"}}, {"storageClassName", "fixed"},
                        {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}};
  ASSERT_TRUE(client_->create(res::kPersistentVolumeClaims, "shop", pvc).ok());
  Json grow = obj;
  grow["spec"]["storage"]["size"] = "2Gi";
  auto g = backend_->open(parsed(grow));
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().reason, "StorageExpansionNotSupported") << g.error().message;
  EXPECT_FALSE(get(res::kStatefulSets, "orders-postgres").is_null());
}

TEST_F(DedicatedTest, AccessThatReachesAnotherServiceIsRefused) {
  sdbObject("billing", "billing");
  Json wide = sdbObject("orders", "orders", {{"access", {{"podSelector", Json::object()}}}});
  auto p = backend_->check(parsed(wide));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->reason, "AccessConflict");
  EXPECT_NE(p->message.find("billing"), std::string::npos) << p->message;
  Json narrow = sdbObject("orders2", "orders");
  EXPECT_FALSE(backend_->check(parsed(narrow)).has_value());
}

TEST_F(DedicatedTest, RetainKeepsTheSuperuserSecretAndDeleteRemovesTheClaim) {
  Json obj = sdbObject("orders", "orders");
  ASSERT_FALSE(backend_->open(parsed(obj)).ok());
  auto kept = backend_->retain(parsed(obj));
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_FALSE(get(res::kSecrets, "orders-postgres-superuser")["metadata"].contains("ownerReferences"));
  // A new ServiceDatabase of the same name adopts the retained Secret, with the same password.
  const std::string password = specs::secretData(get(res::kSecrets, "orders-postgres-superuser"))["password"];
  ASSERT_TRUE(client_->remove(res::kServiceDatabases, "shop", "orders", {}).ok());
  Json again = sdbObject("orders", "orders");
  ASSERT_FALSE(backend_->open(parsed(again)).ok());
  Json secret = get(res::kSecrets, "orders-postgres-superuser");
  EXPECT_EQ(specs::secretData(secret)["password"], password);
  EXPECT_EQ(secret["metadata"]["ownerReferences"][0].value("uid", ""), parsed(again).uid);

  Json pvc = {{"apiVersion", "v1"}, {"kind", "PersistentVolumeClaim"},
              {"metadata", {{"name", "data-orders-postgres-0"}, {"namespace", "shop"}}},
              {"spec", {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}};
  ASSERT_TRUE(client_->create(res::kPersistentVolumeClaims, "shop", pvc).ok());
  auto removed = backend_->removeInstance(parsed(again));
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(get(res::kPersistentVolumeClaims, "data-orders-postgres-0").is_null());
}

TEST_F(DedicatedTest, DisabledTlsAndBadVersionsAreRefusedBeforeAnythingIsCreated) {
  // What the CRD's schema and CEL rules refuse, for objects written before them: the operator refuses too.
  Json obj = sdbObject("orders", "orders");
  Json banana = obj;
  banana["spec"]["version"] = "banana";
  auto p = backend_->check(parsed(banana));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->reason, "InvalidSpec");
  EXPECT_NE(p->message.find("spec.version"), std::string::npos) << p->message;
  Json plain = obj;
  plain["spec"]["tls"] = {{"enabled", false}};
  auto t = backend_->check(parsed(plain));
  ASSERT_TRUE(t.has_value());
  EXPECT_NE(t->message.find("spec.tls.enabled"), std::string::npos) << t->message;
  EXPECT_FALSE(backend_->open(parsed(plain)).ok());
  EXPECT_TRUE(get(res::kSecrets, "orders-postgres-superuser").is_null());

  Json storage = obj;
  storage["spec"]["storage"]["size"] = "0";
  auto z = backend_->check(parsed(storage));
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(z->message, "spec.storage.size: must be more than 0, got 0");
  Json named = obj;
  named["spec"]["databaseName"] = "orders";
  auto n = backend_->check(parsed(named));
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->reason, "NotImplemented");
  EXPECT_EQ(n->message.rfind("spec.databaseName: ", 0), 0u) << n->message;
  named["spec"]["databaseName"] = "shop_orders";  // the derived name is accepted
  EXPECT_FALSE(backend_->check(parsed(named)).has_value());
  EXPECT_EQ(backend_->endpointDatabaseFor(parsed(named)), "shop_orders");
}

}  // namespace
}  // namespace sdb::controllers::servicedatabase
