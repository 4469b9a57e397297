#include "controllers/servicedatabase/mongo_shared_backend.h"

#include "controllers/servicedatabase/admin_secret.h"
#include "operator/core/hash.h"
#include "operator/engines/mongo/credentials.h"
#include "operator/engines/mongo/mongo_engine.h"
#include "operator/engines/mongo/names.h"
#include "operator/specs/credentials_secret.h"

namespace sdb::controllers::servicedatabase {

namespace mongo = engines::mongo;

namespace {

engines::ServiceIdentity identityOf(const specs::ServiceDatabase& sdb) {
  return {sdb.ns, sdb.name, sdb.uid, sdb.databaseName};
}

std::string hostPort(const AdminConnection& a) {
  const std::string host = a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host;
  return host + ":" + std::to_string(a.port);
}

std::string adminUri(const AdminConnection& a) {
  std::string uri = "mongodb://" + mongo::percentEncode(a.username) + ":" + mongo::percentEncode(a.password) + "@" +
                    hostPort(a) + "/?authSource=" + mongo::percentEncode(a.option("authSource"));
  if (!a.option("replicaSet").empty()) uri += "&replicaSet=" + mongo::percentEncode(a.option("replicaSet"));
  return uri;
}

}  // namespace

MongoSharedBackend::MongoSharedBackend(kube::KubeClient& client, MongoSharedOptions options)
    : client_(client), options_(std::move(options)), caFiles_(options_.caDir) {
  if (!options_.engineFactory) {
    options_.engineFactory = [](const mongo::ConnectionOptions& admin) -> std::unique_ptr<engines::Engine> {
      return std::make_unique<mongo::MongoEngine>(admin);
    };
  }
}

std::vector<std::string> MongoSharedBackend::slots() const {
  return mongo::MongoEngine(mongo::MongoEngine::ChannelFactory{}).credentialSlots();  // no I/O
}

std::optional<Problem> MongoSharedBackend::check(const specs::ServiceDatabase& sdb) const {
  // spec.databaseName is user input: refused (naming the field) before anything exists.
  auto names = mongo::namesFor(identityOf(sdb));
  if (!names.ok()) return Problem{"InvalidSpec", names.error().message, true, false};
  return std::nullopt;
}

PResult<Session> MongoSharedBackend::open(const specs::ServiceDatabase& sdb) {
  if (auto p = check(sdb)) return *p;
  auto secret = readAdminSecret(client_, sdb);
  if (!secret.ok()) return secret.error();
  auto admin = parseAdminSecret(*secret, mongoAdminKeys(), sdb.tlsEnabled);
  if (!admin.ok()) return admin.error();

  mongo::ConnectionOptions conn;
  conn.uri = adminUri(*admin);
  conn.tls = admin->tls;
  conn.serverSelectionTimeoutMs = options_.serverSelectionTimeoutMs;
  conn.connectTimeoutMs = options_.connectTimeoutMs;
  if (admin->tls && !admin->caCert.empty()) {
    auto path = caFiles_.pathFor(admin->caCert);
    if (!path.ok()) return Problem{"OperatorError", path.error().message, false, true};
    conn.caFile = *path;
  }
  if (auto checked = mongo::inspectAdminUri(conn); !checked.ok()) {
    // The driver's message never holds the password (connection.h).
    return Problem{"InvalidAdminSecret",
                   "Secret \"" + admin->secretName + "\" (spec.sharedServer.adminSecretRef): the MongoDB connection "
                   "string made from it is refused: " + checked.error().message,
                   true, true};
  }

  auto names = mongo::namesFor(identityOf(sdb));
  if (!names.ok()) return Problem{"InvalidSpec", names.error().message, true, false};
  Session s;
  s.engine = options_.engineFactory(conn);
  s.endpoint = {admin->host, admin->port, names->database};
  s.bindingType = "mongodb";
  mongo::ClientCredentials base;
  base.hosts = {hostPort(*admin)};
  base.replicaSet = admin->option("replicaSet");
  base.database = names->database;
  base.tls = admin->tls;
  if (admin->tls) base.caPem = admin->caCert;
  s.bindingData = [base, names = *names](const std::string& slot, const std::string& password) {
    mongo::ClientCredentials c = base;
    c.username = slot == specs::kSlotMigration ? names.migrationUser : names.appUser;
    c.password = password;
    return mongo::credentialSecretData(c);
  };
  s.fingerprint = sha256Hex("mongodb\n" + conn.uri + "\n" + (conn.tls ? "tls" : "plain") + "\n" + admin->caCert);
  return s;
}

}  // namespace sdb::controllers::servicedatabase
