// Admin URI checks and server error mapping. Parsing is mongo-c-driver's own; no server is contacted.
#include "operator/engines/mongo/connection.h"

#include <gtest/gtest.h>

namespace sdb::engines::mongo {
namespace {

ConnectionOptions opts(const std::string& uri) {
  ConnectionOptions o;
  o.uri = uri;
  o.caFile = "/etc/servicedb/ca.crt";
  return o;
}

TEST(MongoConnection, TlsIsForcedAndTheCaIsUsed) {
  auto s = inspectAdminUri(opts("mongodb://admin:s3cret@db-0.example:27017,db-1.example:27018/?replicaSet=rs0&authSource=admin"));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->tls);
  EXPECT_EQ(s->caFile, "/etc/servicedb/ca.crt");
  EXPECT_EQ(s->hosts, (std::vector<std::string>{"db-0.example:27017", "db-1.example:27018"}));
  EXPECT_EQ(s->replicaSet, "rs0");
  EXPECT_EQ(s->username, "admin");
  EXPECT_EQ(s->authSource, "admin");

  auto off = inspectAdminUri(opts("mongodb://admin:pw@h/?tls=true"));
  ASSERT_TRUE(off.ok());
  ConnectionOptions plain = opts("mongodb://admin:pw@h/?tls=true");
  plain.tls = false;
  EXPECT_FALSE(inspectAdminUri(plain)->tls) << "tls=false only when the options say the server has no TLS";
}

TEST(MongoConnection, OptionsThatWeakenVerificationAreRefused) {
  for (const char* option : {"tlsInsecure=true", "tlsAllowInvalidCertificates=true", "tlsAllowInvalidHostnames=true",
                             "tlsDisableOCSPEndpointCheck=true"}) {
    SCOPED_TRACE(option);
    auto s = inspectAdminUri(opts(std::string("mongodb://admin:topsecret@h:27017/?tls=true&") + option));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(s.error().message.find("refuses"), std::string::npos) << s.error().message;
    EXPECT_EQ(s.error().message.find("topsecret"), std::string::npos);
  }
}

TEST(MongoConnection, BadUrisAreInvalidArgumentsWithoutThePassword) {
  for (const char* uri : {"", "postgres://admin:topsecret@h", "mongodb://admin:topsecret@", "mongodb://admin:topsecret@h:notaport/"}) {
    SCOPED_TRACE(uri);
    auto s = inspectAdminUri(opts(uri));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(s.error().message.rfind("admin URI:", 0), 0u);
    EXPECT_EQ(s.error().message.find("topsecret"), std::string::npos) << s.error().message;
  }
  EXPECT_TRUE(connect(opts("mongodb://admin:pw@127.0.0.1:1/")).ok()) << "connect does not contact the server";
}

TEST(MongoConnection, ServerCodesMapToOurs) {
  EXPECT_EQ(errorCodeForServerCode(13), ErrorCode::kPermissionDenied);
  EXPECT_EQ(errorCodeForServerCode(18), ErrorCode::kPermissionDenied);
  EXPECT_EQ(errorCodeForServerCode(11), ErrorCode::kNotFound);
  EXPECT_EQ(errorCodeForServerCode(51003), ErrorCode::kAlreadyExists);
  EXPECT_EQ(errorCodeForServerCode(10107), ErrorCode::kUnavailable);
  EXPECT_EQ(errorCodeForServerCode(64), ErrorCode::kUnavailable);
  EXPECT_EQ(errorCodeForServerCode(12345), ErrorCode::kInternal);
}

}  // namespace
}  // namespace sdb::engines::mongo
