// The typed view of a ServiceDatabase: defaults, errors naming the field, Go durations, alphabets.
#include "operator/specs/servicedatabase.h"

#include <gtest/gtest.h>

using namespace sdb;
using namespace sdb::specs;

namespace {

Json sharedPostgres() {
  return Json::parse(R"({
    "apiVersion": "servicedb.io/v1alpha1", "kind": "ServiceDatabase",
    "metadata": {"name": "orders", "namespace": "shop", "uid": "u-1", "generation": 3},
    "spec": {"service": "orders", "engine": "postgres", "mode": "shared",
             "sharedServer": {"adminSecretRef": {"name": "pg-admin"}}}})");
}

TEST(ServiceDatabaseSpec, AppliesDefaults) {
  auto s = parseServiceDatabase(sharedPostgres());
  ASSERT_TRUE(s.ok()) << s.error().toString();
  EXPECT_EQ(s->ns, "shop");
  EXPECT_EQ(s->name, "orders");
  EXPECT_EQ(s->uid, "u-1");
  EXPECT_EQ(s->generation, 3);
  EXPECT_FALSE(s->deleting);
  EXPECT_EQ(s->mode, "shared");
  EXPECT_EQ(s->adminSecretName, "pg-admin");
  EXPECT_TRUE(s->tlsEnabled);
  EXPECT_EQ(s->credentials.secretName, "orders-credentials");
  EXPECT_EQ(s->credentials.passwordLength, 32);
  EXPECT_EQ(s->credentials.passwordCharset, "alphanumeric");
  EXPECT_FALSE(s->credentials.rotationPeriod.has_value());
  EXPECT_EQ(s->deletionPolicy, "Retain");
  EXPECT_EQ(s->rotateRequest, "");
}

TEST(ServiceDatabaseSpec, ReadsEveryField) {
  Json j = sharedPostgres();
  j["metadata"]["annotations"] = {{"servicedb.io/rotate-credentials", "2026-01-01"}};
  j["metadata"]["deletionTimestamp"] = "2026-01-02T00:00:00Z";
  j["spec"]["credentials"] = {{"secretName", "orders-db"}, {"passwordLength", 64},
                              {"passwordCharset", "ascii-printable"}, {"rotationPeriod", "1h30m"}};
  j["spec"]["deletionPolicy"] = "Delete";
  j["spec"]["tls"] = {{"enabled", false}};
  j["status"] = {{"endpoint", {{"database", "shop_orders"}}}};
  auto s = parseServiceDatabase(j);
  ASSERT_TRUE(s.ok()) << s.error().toString();
  EXPECT_EQ(s->rotateRequest, "2026-01-01");
  EXPECT_TRUE(s->deleting);
  EXPECT_EQ(s->credentials.secretName, "orders-db");
  EXPECT_EQ(s->credentials.passwordLength, 64);
  EXPECT_EQ(s->credentials.passwordCharset, "ascii-printable");
  EXPECT_EQ(s->credentials.rotationPeriod, std::chrono::seconds(5400));
  EXPECT_EQ(s->deletionPolicy, "Delete");
  EXPECT_FALSE(s->tlsEnabled);
  EXPECT_EQ(s->statusDatabase, "shop_orders");
}

struct BadCase {
  const char* path;  // JSON pointer to set
  Json value;
  const char* field;  // the error must start with this
};

TEST(ServiceDatabaseSpec, ErrorsNameTheField) {
  const BadCase cases[] = {
      {"/spec/engine", "oracle", "spec.engine: "},
      {"/spec/mode", "clustered", "spec.mode: "},
      {"/spec/service", "", "spec.service: "},
      {"/spec/sharedServer/adminSecretRef/name", "", "spec.sharedServer.adminSecretRef.name: "},
      {"/spec/credentials/passwordLength", 8, "spec.credentials.passwordLength: "},
      {"/spec/credentials/passwordLength", "long", "spec.credentials.passwordLength: "},
      {"/spec/credentials/passwordCharset", "emoji", "spec.credentials.passwordCharset: "},
      {"/spec/credentials/rotationPeriod", "30d", "spec.credentials.rotationPeriod: "},
      {"/spec/credentials/rotationPeriod", "10s", "spec.credentials.rotationPeriod: "},
      {"/spec/deletionPolicy", "Shred", "spec.deletionPolicy: "},
      {"/spec/tls/enabled", "yes", "spec.tls.enabled: "},
      {"/metadata/name", std::string(64, 'a'), "metadata.name: "},
  };
  for (const auto& c : cases) {
    Json j = sharedPostgres();
    j[Json::json_pointer(c.path)] = c.value;
    auto s = parseServiceDatabase(j);
    ASSERT_FALSE(s.ok()) << c.path;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(s.error().message.rfind(c.field, 0), 0u) << s.error().message;
  }
  Json noSpec = sharedPostgres();
  noSpec.erase("spec");
  EXPECT_EQ(parseServiceDatabase(noSpec).error().message.rfind("spec: ", 0), 0u);
}

TEST(GoDuration, ParsesTheFormsTheCrdAdmits) {
  struct {
    const char* in;
    int64_t seconds;
  } ok[] = {{"720h", 720 * 3600}, {"1h30m", 5400}, {"90s", 90}, {"1.5h", 5400}, {"2h0m5s", 7205}, {"0.5m", 30}};
  for (const auto& c : ok) {
    auto d = parseGoDuration(c.in);
    ASSERT_TRUE(d.ok()) << c.in << ": " << d.error().message;
    EXPECT_EQ(d->count(), c.seconds) << c.in;
  }
  for (const char* bad : {"", "h", "10", "10d", "1..5h", "-1h", "1h-", "99999999999h"}) {
    EXPECT_FALSE(parseGoDuration(bad).ok()) << bad;
  }
}

TEST(PasswordAlphabet, CharsetsAreSafeAndDistinct) {
  auto alnum = passwordAlphabet("alphanumeric");
  ASSERT_TRUE(alnum.ok());
  EXPECT_EQ(alnum->size(), 62u);
  auto printable = passwordAlphabet("ascii-printable");
  ASSERT_TRUE(printable.ok());
  EXPECT_EQ(printable->find_first_of("'\"\\` "), std::string::npos);
  EXPECT_EQ(printable->size(), 94u - 4u);
  EXPECT_FALSE(passwordAlphabet("unicode").ok());
}

}  // namespace
