// The ServiceDatabase controller in MongoDB shared mode against a real MongoDB, over the in-process
// store. Runs where `mongod` is on PATH or SERVICEDB_TEST_MONGODB_URI is set
// (tests/integration/fixtures/mongo_server.h) and is reported as skipped, with that reason,
// everywhere else, including our CI machines. The controller connects as the fixture's
// least-privilege admin (docs/engines/mongo.md), from an admin Secret; applications connect with
// the credentials Secret's `uri` and its `ca.crt` as tlsCAFile, as a pod that mounts the Secret.
#include <algorithm>

#include "controllers/servicedatabase/mongo_shared_backend.h"
#include "operator/core/base64.h"
#include "operator/engines/mongo/bson.h"
#include "operator/engines/mongo/credentials.h"
#include "operator/runtime/object_helpers.h"
#include "tests/integration/mongo/mongo_test_support.h"
#include "tests/integration/servicedatabase/controller_it_fixture.h"

using namespace sdb;
using namespace sdb::controllers::servicedatabase;
using sdb::controllers::servicedatabase::testing::ControllerITFixture;
using sdb::controllers::servicedatabase::testing::slurp;
using runtime::ReconcileResult;
namespace res = kube::resources;
namespace mongo = engines::mongo;

namespace {

class MongoControllerIT : public ControllerITFixture<mongo::MongoServerTest> {
 protected:
  MongoControllerIT()
      : ControllerITFixture({.tmpPrefix = "sdb-mongo-ctrl-it", .controllerName = "mongo-it", .recordEvents = false}) {}

  void addBackends(BackendRegistry& backends) override {
    backends.add("mongodb", "shared", std::make_unique<MongoSharedBackend>(*client_, MongoSharedOptions{}));
  }
  std::string skipReason() const override {
    return server_->hosts().empty() ? "a mongodb+srv:// server gives no host and port for an admin Secret" : "";
  }

  // A namespace (unique to this run) with an admin Secret for the fixture's admin user.
  std::string addNamespace(const std::string& suffix) {
    const std::string name = ns(suffix);
    EXPECT_TRUE(inproc_->create(res::kNamespaces, "", runtime::testing::nsObject(name)).ok());
    const std::string first = server_->hosts().front();
    const size_t colon = first.rfind(':');
    std::string host = first.substr(0, colon);
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    Json data = {{"host", base64Encode(host)},
                 {"port", base64Encode(first.substr(colon + 1))},
                 {"username", base64Encode(server_->adminUser())},
                 {"password", base64Encode(server_->adminPassword())},
                 {"authSource", base64Encode("admin")},
                 {"tls", base64Encode(server_->tls() ? "true" : "false")}};
    if (!server_->replicaSet().empty()) data["replicaSet"] = base64Encode(server_->replicaSet());
    if (!server_->caFile().empty()) data["ca.crt"] = base64Encode(slurp(server_->caFile()));
    Json secret = {{"apiVersion", "v1"}, {"kind", "Secret"},
                   {"metadata", {{"name", "mongodb-admin"}, {"namespace", name}}}, {"data", data}};
    auto c = inproc_->create(res::kSecrets, name, secret);
    EXPECT_TRUE(c.ok()) << c.error().toString();
    return name;
  }
  void create(const std::string& nsName, const std::string& name, const std::string& policy = "Retain") {
    Json sdb = sharedSdb(nsName, name, "mongodb", policy, "mongodb-admin");
    sdb["spec"]["tls"] = {{"enabled", server_->tls()}};
    createSdb(nsName, sdb);
  }

  // Runs `json` on `database` (default: the Secret's) as an application with this Secret: its
  // `uri`, and its `ca.crt` as tlsCAFile. `password` overrides the Secret's.
  Result<Json> asApp(const std::map<std::string, std::string>& creds, const std::string& json,
                     const std::string& database = "", const std::string& password = "") {
    mongo::ConnectionOptions o;
    o.uri = creds.at("uri");
    if (!password.empty()) {
      const std::string enc = mongo::percentEncode(creds.at("password"));
      o.uri.replace(o.uri.find(":" + enc + "@") + 1, enc.size(), mongo::percentEncode(password));
    }
    o.tls = creds.at("tls") == "true";
    if (creds.count("ca.crt")) o.caFile = writeCaFile(creds);
    o.serverSelectionTimeoutMs = 5000;
    auto ch = mongo::connect(o);
    if (!ch.ok()) return ch.error();
    auto body = mongo::Bson::fromJson(json);
    if (!body.ok()) return body.error();
    return (*ch)->run(mongo::Command{database.empty() ? creds.at("database") : database, *body}, "app command");
  }
};

TEST_F(MongoControllerIT, ReadyAndTheSecretsUriWorksOnlyOnItsOwnDatabase) {
  const std::string n = addNamespace("iso");
  create(n, "orders");
  create(n, "payments");
  ASSERT_TRUE(reconcileToReady(n, "orders"));
  ASSERT_TRUE(reconcileToReady(n, "payments"));
  auto orders = secret(n, "orders-credentials"), payments = secret(n, "payments-credentials");
  auto mig = secret(n, "orders-migration-credentials");
  EXPECT_EQ(orders["username"], orders["database"] + "_app");
  EXPECT_EQ(orders["uri"].find("tlsCAFile"), std::string::npos) << "the uri names no file; apps mount ca.crt";
  auto own = asApp(orders, R"({"insert": "items", "documents": [{"x": 1}]})");
  EXPECT_TRUE(own.ok()) << own.error().message;
  auto foreign = asApp(orders, R"({"insert": "items", "documents": [{"x": 1}]})", payments["database"]);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, ErrorCode::kPermissionDenied) << foreign.error().message;
  auto ddl = asApp(mig, R"({"collMod": "items", "validator": {"x": {"$type": "int"}}})");
  EXPECT_TRUE(ddl.ok()) << "the migration login is dbAdmin of its own database";
  auto appDdl = asApp(orders, R"({"dropDatabase": 1})");
  EXPECT_FALSE(appDdl.ok()) << "the app login is not";
}

TEST_F(MongoControllerIT, RotationChangesThePasswordsOnTheServer) {
  const std::string n = addNamespace("rot");
  create(n, "orders");
  ASSERT_TRUE(reconcileToReady(n, "orders"));
  auto before = secret(n, "orders-credentials");
  ASSERT_TRUE(asApp(before, R"({"ping": 1})").ok());
  auto p = inproc_->patch(res::kServiceDatabases, n, "orders", kube::PatchType::kMerge,
                          R"({"metadata":{"annotations":{"servicedb.io/rotate-credentials":"now"}}})");
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(reconcileToReady(n, "orders"));
  auto after = secret(n, "orders-credentials");
  EXPECT_NE(after["password"], before["password"]);
  EXPECT_EQ(after.count("pending-password"), 0u);
  EXPECT_TRUE(asApp(after, R"({"ping": 1})").ok());
  auto old = asApp(after, R"({"ping": 1})", "", before["password"]);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, ErrorCode::kPermissionDenied) << old.error().message;
}

TEST_F(MongoControllerIT, DeleteDropsDatabaseAndUsersRetainKeepsThem) {
  const std::string n = addNamespace("del");
  create(n, "gone", "Delete");
  create(n, "kept", "Retain");
  ASSERT_TRUE(reconcileToReady(n, "gone"));
  ASSERT_TRUE(reconcileToReady(n, "kept"));
  auto gone = secret(n, "gone-credentials"), kept = secret(n, "kept-credentials");
  ASSERT_TRUE(asApp(gone, R"({"insert": "items", "documents": [{"x": 1}]})").ok());
  ASSERT_TRUE(asApp(kept, R"({"insert": "items", "documents": [{"x": 1}]})").ok());
  for (const char* name : {"gone", "kept"}) {
    ASSERT_TRUE(inproc_->remove(res::kServiceDatabases, n, name).ok());
    EXPECT_EQ(reconciler_->reconcile({n, name}, {"servicedatabase", "mongo-it"}).kind, ReconcileResult::Kind::kOk);
    EXPECT_FALSE(inproc_->get(res::kServiceDatabases, n, name).ok()) << name << ": finalizer removed";
  }
  auto dbs = databases();
  EXPECT_EQ(std::count(dbs.begin(), dbs.end(), gone["database"]), 0) << "Delete drops the database";
  EXPECT_EQ(std::count(dbs.begin(), dbs.end(), kept["database"]), 1) << "Retain keeps it";
  EXPECT_FALSE(asApp(gone, R"({"ping": 1})").ok()) << "Delete drops the users";
  EXPECT_TRUE(asApp(kept, R"({"find": "items"})").ok()) << "Retain keeps the login";
  EXPECT_FALSE(inproc_->get(res::kSecrets, n, "gone-credentials").ok());
  auto keptSecret = inproc_->get(res::kSecrets, n, "kept-credentials");
  ASSERT_TRUE(keptSecret.ok());
  EXPECT_FALSE(runtime::controllerOf(*keptSecret));
}

TEST_F(MongoControllerIT, SteadyStateWritesNothingToTheApi) {
  const std::string n = addNamespace("steady");
  create(n, "orders");
  ASSERT_TRUE(reconcileToReady(n, "orders"));
  const int64_t rv = store_->resourceVersion();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(reconciler_->reconcile({n, "orders"}, {"servicedatabase", "mongo-it"}).kind, ReconcileResult::Kind::kOk);
  }
  EXPECT_EQ(store_->resourceVersion(), rv);
}

}  // namespace
