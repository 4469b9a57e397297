// Credentials Secrets: golden files for the app and migration Secrets, the ownership marker, names,
// and the PostgreSQL binding entries.
#include "operator/specs/credentials_secret.h"

#include <gtest/gtest.h>

#include "operator/core/base64.h"
#include "operator/specs/postgres_binding.h"
#include "tests/unit/specs/golden_file.h"

using namespace sdb;
using namespace sdb::specs;
using sdb::specs::golden::matchesGolden;
using sdb::specs::golden::secretReview;

namespace {

Json owner() {
  return Json::parse(R"({"apiVersion": "servicedb.io/v1alpha1", "kind": "ServiceDatabase",
    "metadata": {"name": "orders", "namespace": "shop", "uid": "0b5e7f3c-uid"},
    "spec": {"service": "orders-api", "engine": "postgres", "mode": "shared",
             "sharedServer": {"adminSecretRef": {"name": "pg-admin"}}}})");
}

ServiceDatabase sdbView() {
  auto s = parseServiceDatabase(owner());
  EXPECT_TRUE(s.ok());
  return *s;
}

PostgresBinding binding() {
  PostgresBinding b;
  b.host = "pg.example.internal";
  b.port = 5432;
  b.database = "shop_orders";
  b.username = "shop_orders_app";
  b.password = "pw/with:special@chars";
  b.sslmode = "verify-full";
  b.caCert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  return b;
}

TEST(CredentialsSecret, AppSecretGolden) {
  CredentialsSecretInput in;
  in.slot = kSlotApp;
  in.bindingType = kBindingTypePostgres;
  in.data = postgresBindingData(binding());
  in.annotations = {{kAnnotationPasswordSetAt, "2026-01-01T00:00:00Z"}};
  in.owner = owner();
  EXPECT_TRUE(matchesGolden(secretReview(buildCredentialsSecret(sdbView(), in)), "credentials_secret_app.json"));
}

TEST(CredentialsSecret, MigrationSecretGoldenWithoutOwner) {
  CredentialsSecretInput in;
  in.slot = kSlotMigration;
  in.bindingType = kBindingTypePostgres;
  PostgresBinding b = binding();
  b.username = "shop_orders_migrator";
  b.password = "mig";
  b.caCert.clear();
  in.data = postgresBindingData(b);
  in.data[kKeyPendingPassword] = "next";
  EXPECT_TRUE(matchesGolden(secretReview(buildCredentialsSecret(sdbView(), in)), "credentials_secret_migration_retained.json"));
}

TEST(CredentialsSecret, DataRoundTripsThroughBase64) {
  CredentialsSecretInput in;
  in.slot = kSlotApp;
  in.bindingType = kBindingTypePostgres;
  in.data = postgresBindingData(binding());
  Json s = buildCredentialsSecret(sdbView(), in);
  EXPECT_EQ(secretData(s), in.data);
  EXPECT_EQ(s["type"], "servicebinding.io/postgresql");
  EXPECT_EQ(s["metadata"]["labels"]["servicebinding.io/type"], "postgresql");
  EXPECT_EQ(s["metadata"]["labels"]["servicebinding.io/provider"], "servicedb");
  EXPECT_EQ(s["metadata"]["labels"]["app.kubernetes.io/part-of"], "orders-api");
  EXPECT_FALSE(s["metadata"].contains("ownerReferences"));
}

TEST(PostgresBindingData, UrisAreEncodedAndComplete) {
  auto d = postgresBindingData(binding());
  EXPECT_EQ(d["uri"], "postgresql://shop_orders_app:pw%2Fwith%3Aspecial%40chars@pg.example.internal:5432/"
                      "shop_orders?sslmode=verify-full");
  EXPECT_EQ(d["jdbc-url"], "jdbc:postgresql://pg.example.internal:5432/shop_orders?sslmode=verify-full");
  EXPECT_EQ(d["type"], "postgresql");
  EXPECT_EQ(d["provider"], "servicedb");
  EXPECT_EQ(d["port"], "5432");
  EXPECT_EQ(d["ca.crt"], binding().caCert);
  PostgresBinding v6 = binding();
  v6.host = "fd00::1";
  v6.caCert.clear();
  auto d6 = postgresBindingData(v6);
  EXPECT_NE(d6["uri"].find("@[fd00::1]:5432/"), std::string::npos);
  EXPECT_EQ(d6.count("ca.crt"), 0u);
}

TEST(CredentialsSecret, OwnershipMarker) {
  ServiceDatabase s = sdbView();
  CredentialsSecretInput in;
  in.slot = kSlotApp;
  in.bindingType = kBindingTypePostgres;
  in.owner = owner();
  Json ours = buildCredentialsSecret(s, in);
  std::string why;
  EXPECT_TRUE(isOurCredentialsSecret(s, kSlotApp, ours, &why)) << why;
  EXPECT_FALSE(isOurCredentialsSecret(s, kSlotMigration, ours, &why));
  EXPECT_NE(why.find("\"app\" credentials"), std::string::npos) << why;

  Json retainedFromEarlierIncarnation = ours;
  retainedFromEarlierIncarnation["metadata"]["ownerReferences"][0]["uid"] = "old-uid";
  EXPECT_TRUE(isOurCredentialsSecret(s, kSlotApp, retainedFromEarlierIncarnation));

  Json userSecret = {{"metadata", {{"name", "orders-credentials"}, {"labels", {{"team", "orders"}}}}}};
  EXPECT_FALSE(isOurCredentialsSecret(s, kSlotApp, userSecret, &why));
  EXPECT_EQ(why, "Secret \"orders-credentials\" exists and is not managed by servicedb-operator");

  Json otherSdb = ours;
  otherSdb["metadata"]["labels"]["servicedb.io/database"] = "payments";
  EXPECT_FALSE(isOurCredentialsSecret(s, kSlotApp, otherSdb, &why));

  Json controlledElsewhere = ours;
  controlledElsewhere["metadata"]["ownerReferences"][0]["kind"] = "ExternalSecret";
  EXPECT_FALSE(isOurCredentialsSecret(s, kSlotApp, controlledElsewhere, &why));
  EXPECT_NE(why.find("ExternalSecret"), std::string::npos);
}

TEST(CredentialsSecret, NamesStayWithinLimits) {
  ServiceDatabase s = sdbView();
  EXPECT_EQ(credentialsSecretName(s, kSlotApp), "orders-credentials");
  EXPECT_EQ(credentialsSecretName(s, kSlotMigration), "orders-migration-credentials");
  s.name = std::string(240, 'a');
  std::string cut = credentialsSecretName(s, kSlotMigration);
  EXPECT_LE(cut.size(), 253u);
  EXPECT_EQ(cut.substr(cut.size() - 22), "-migration-credentials");
  ServiceDatabase other = s;
  other.name = std::string(239, 'a') + "b";
  EXPECT_NE(credentialsSecretName(other, kSlotMigration), cut);
}

}  // namespace
