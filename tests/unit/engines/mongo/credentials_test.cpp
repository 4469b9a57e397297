// The credentials Secret's content; the URI is checked by mongo-c-driver's own parser.
#include "operator/engines/mongo/credentials.h"

#include <gtest/gtest.h>
#include <mongoc/mongoc.h>

namespace sdb::engines::mongo {
namespace {

ClientCredentials creds(const std::string& password) {
  return ClientCredentials{{"orders-mongodb-0.orders-mongodb.a.svc:27017", "orders-mongodb-1.orders-mongodb.a.svc:27017"},
                           "rs0", "a_orders", "a_orders_app", password, "-----BEGIN CERTIFICATE-----\n...", true};
}

TEST(MongoCredentials, UriIsExact) {
  EXPECT_EQ(connectionUri(creds("pw")),
            "mongodb://a_orders_app:pw@orders-mongodb-0.orders-mongodb.a.svc:27017,orders-mongodb-1.orders-mongodb.a.svc:27017"
            "/a_orders?tls=true&authSource=a_orders&authMechanism=SCRAM-SHA-256&replicaSet=rs0");
  EXPECT_EQ(uriWithCaFile(creds("pw"), "/var/run/secrets/db/ca.crt").substr(connectionUri(creds("pw")).size()),
            "&tlsCAFile=%2Fvar%2Frun%2Fsecrets%2Fdb%2Fca.crt");
  ClientCredentials plain = creds("pw");
  plain.tls = false;
  plain.replicaSet.clear();
  EXPECT_EQ(connectionUri(plain).find("tls="), std::string::npos);
}

// Every password character survives the driver's parser unchanged, and none adds an option.
TEST(MongoCredentials, AnyPasswordRoundTripsThroughTheDriversParser) {
  const std::vector<std::string> passwords = {"p@ss:w/rd?x=1&tls=false#frag", "%41%", "ünïcødé", "a b+c",
                                              R"(!"#$%&'()*+,/:;<=>?@[\]^`{|}~)"};
  for (const auto& pw : passwords) {
    SCOPED_TRACE(pw);
    const std::string uri = uriWithCaFile(creds(pw), "/ca dir/ca.crt");
    bson_error_t error;
    mongoc_uri_t* parsed = mongoc_uri_new_with_error(uri.c_str(), &error);
    ASSERT_NE(parsed, nullptr) << error.message;
    EXPECT_EQ(std::string(mongoc_uri_get_password(parsed)), pw);
    EXPECT_EQ(std::string(mongoc_uri_get_username(parsed)), "a_orders_app");
    EXPECT_EQ(std::string(mongoc_uri_get_auth_source(parsed)), "a_orders");
    EXPECT_EQ(std::string(mongoc_uri_get_database(parsed)), "a_orders");
    EXPECT_EQ(std::string(mongoc_uri_get_auth_mechanism(parsed)), "SCRAM-SHA-256");
    EXPECT_TRUE(mongoc_uri_get_tls(parsed));
    EXPECT_FALSE(mongoc_uri_get_option_as_bool(parsed, MONGOC_URI_TLSINSECURE, false));
    EXPECT_EQ(std::string(mongoc_uri_get_option_as_utf8(parsed, MONGOC_URI_TLSCAFILE, "")), "/ca dir/ca.crt");
    EXPECT_EQ(std::string(mongoc_uri_get_replica_set(parsed)), "rs0");
    mongoc_uri_destroy(parsed);
  }
}

TEST(MongoCredentials, SecretData) {
  auto d = credentialSecretData(creds("pw"));
  EXPECT_EQ(d.at("type"), "mongodb");
  EXPECT_EQ(d.at("provider"), "servicedb");
  EXPECT_EQ(d.at("host"), "orders-mongodb-0.orders-mongodb.a.svc");
  EXPECT_EQ(d.at("port"), "27017");
  EXPECT_EQ(d.at("database"), "a_orders");
  EXPECT_EQ(d.at("authSource"), "a_orders");
  EXPECT_EQ(d.at("username"), "a_orders_app");
  EXPECT_EQ(d.at("password"), "pw");
  EXPECT_EQ(d.at("tls"), "true");
  EXPECT_EQ(d.at("replicaSet"), "rs0");
  EXPECT_EQ(d.at("ca.crt").rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  EXPECT_EQ(d.at("uri"), connectionUri(creds("pw")));
}

}  // namespace
}  // namespace sdb::engines::mongo
