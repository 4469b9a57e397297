// spec.credentials through the controller: the Secret name override and the password policy
// (passwordLength, passwordCharset) reach the Secrets the controller writes and the passwords the
// engine is given, on provisioning and on rotation.
#include "tests/unit/servicedatabase/fixture.h"

#include <algorithm>

#include "operator/runtime/object_helpers.h"

using namespace std::chrono_literals;
using namespace sdb;
using namespace sdb::controllers::servicedatabase;
using namespace sdb::controllers::servicedatabase::testing;
using runtime::ReconcileResult;

namespace {

// The ascii-printable alphabet as the CRD documents it: '!'..'~' without the quotes, backslash and
// backtick. Written out here rather than taken from specs::passwordAlphabet, so that a change there
// fails this test.
std::string asciiPrintableAlphabet() {
  std::string out;
  for (int c = 33; c <= 126; ++c) {
    if (c != '"' && c != '\'' && c != '\\' && c != '`') out.push_back(static_cast<char>(c));
  }
  return out;
}

bool isAlphanumeric(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

std::string percentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The password in "postgresql://user:password@host...", percent-decoded.
std::string uriPassword(const std::string& uri) {
  const std::string scheme = "postgresql://";
  if (uri.rfind(scheme, 0) != 0) return "<no postgresql:// scheme>";
  const size_t colon = uri.find(':', scheme.size());
  const size_t at = uri.find('@', scheme.size());
  if (colon == std::string::npos || at == std::string::npos || colon > at) return "<no user:password@>";
  return percentDecode(uri.substr(colon + 1, at - colon - 1));
}

TEST_F(ControllerTest, SecretNameOverrideNamesTheAppSecretAndStatus) {
  Json sdb = sharedSdb();
  sdb["spec"]["credentials"] = {{"secretName", "orders-db"}};
  create(sdb);
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);

  Json secret = get(kube::resources::kSecrets, "orders-db");
  ASSERT_FALSE(secret.is_null()) << "no Secret orders-db";
  auto app = specs::secretData(secret);
  for (const char* key : {"host", "port", "database", "username", "password", "uri", "jdbc-url", "sslmode", "ca.crt",
                          "type", "provider"}) {
    EXPECT_EQ(app.count(key), 1u) << key;
  }
  EXPECT_EQ(app["username"], "shop_orders_app");
  EXPECT_EQ(app["database"], "shop_orders");
  EXPECT_EQ(app["type"], "postgresql");
  EXPECT_EQ(app["provider"], "servicedb");
  EXPECT_EQ(secret["type"], "servicebinding.io/postgresql");
  EXPECT_EQ(fake_.services["shop/orders"].passwords["app"], app["password"]) << "the server got the stored password";
  auto owner = runtime::controllerOf(secret);
  ASSERT_TRUE(owner);
  EXPECT_EQ((*owner)["uid"], sdbObject()["metadata"]["uid"]);

  Json status = sdbObject()["status"];
  EXPECT_EQ(status["secretName"], "orders-db");
  EXPECT_EQ(status["migrationSecretName"], "orders-migration-credentials") << "the override names the app Secret only";
  EXPECT_TRUE(get(kube::resources::kSecrets, "orders-credentials").is_null()) << "the default name was written too";
  EXPECT_EQ(specs::secretData(get(kube::resources::kSecrets, "orders-migration-credentials"))["username"],
            "shop_orders_migrator");

  // A resync keeps to the override, and Delete removes the overridden Secret.
  const int64_t rv = store_->resourceVersion();
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_EQ(store_->resourceVersion(), rv);
  EXPECT_TRUE(get(kube::resources::kSecrets, "orders-credentials").is_null());
  patchSdb("orders", {{"spec", {{"deletionPolicy", "Delete"}}}});
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  ASSERT_TRUE(inproc_->remove(kube::resources::kServiceDatabases, "shop", "orders").ok());
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_TRUE(sdbObject().is_null());
  EXPECT_TRUE(get(kube::resources::kSecrets, "orders-db").is_null());
  EXPECT_TRUE(get(kube::resources::kSecrets, "orders-migration-credentials").is_null());
}

TEST_F(ControllerTest, PasswordPolicyFromSpecShapesEveryGeneratedPassword) {
  Json sdb = sharedSdb();
  sdb["spec"]["credentials"] = {{"passwordLength", 64}, {"passwordCharset", "ascii-printable"}};
  create(sdb);
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);

  const std::string alphabet = asciiPrintableAlphabet();
  auto checkPolicy = [&](const std::string& secretName, const std::string& slot) {
    SCOPED_TRACE(secretName);
    auto data = secretData(secretName);
    const std::string& pw = data["password"];
    EXPECT_EQ(pw.size(), 64u);
    EXPECT_EQ(pw.find_first_not_of(alphabet), std::string::npos) << pw;
    EXPECT_TRUE(std::any_of(pw.begin(), pw.end(), [](char c) { return !isAlphanumeric(c); }))
        << "64 characters of ascii-printable and not one outside [A-Za-z0-9]: the charset did not reach the "
           "generator: "
        << pw;
    EXPECT_EQ(uriPassword(data["uri"]), pw) << "the uri must carry the password, percent-encoded: " << data["uri"];
    EXPECT_EQ(fake_.services["shop/orders"].passwords[slot], pw) << "the server got the stored password";
    return pw;
  };
  const std::string app = checkPolicy("orders-credentials", "app");
  const std::string mig = checkPolicy("orders-migration-credentials", "migration");
  EXPECT_NE(app, mig);

  // Rotation generates with the same policy.
  clock_.advance(1h);
  patchSdb("orders", {{"metadata", {{"annotations", {{specs::kRotateCredentialsAnnotation, "r1"}}}}}});
  ASSERT_EQ(reconcile().kind, ReconcileResult::Kind::kOk);
  EXPECT_NE(checkPolicy("orders-credentials", "app"), app) << "not rotated";
  EXPECT_NE(checkPolicy("orders-migration-credentials", "migration"), mig) << "not rotated";
}

}  // namespace
