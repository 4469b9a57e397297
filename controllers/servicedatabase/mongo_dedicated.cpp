#include "controllers/servicedatabase/mongo_dedicated.h"

#include "controllers/servicedatabase/tls_probe.h"
#include "operator/engines/mongo/commands.h"
#include "operator/engines/mongo/credentials.h"
#include "operator/engines/mongo/mongo_engine.h"
#include "operator/engines/mongo/names.h"
#include "operator/specs/credentials_secret.h"

namespace sdb::controllers::servicedatabase {

namespace mongo = engines::mongo;

namespace {

engines::ServiceIdentity identityOf(const specs::ServiceDatabase& sdb) { return {sdb.ns, sdb.name, sdb.uid, sdb.databaseName}; }

// check() has refused a bad spec.databaseName before these run; the derived names are the fallback.
mongo::Names namesOf(const specs::ServiceDatabase& sdb) {
  auto n = mongo::namesFor(identityOf(sdb));
  return n.ok() ? *n : mongo::derivedNames(sdb.ns, sdb.name);
}

std::string hostPort(const std::string& host, int port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

mongo::ConnectionOptions mongoSuperuserConnection(const InstanceConnection& conn, const MongoDedicatedOptions& options) {
  mongo::ConnectionOptions o;
  o.uri = "mongodb://" + mongo::percentEncode(conn.username) + ":" + mongo::percentEncode(conn.password) + "@" +
          hostPort(conn.host, conn.port) + "/?authSource=admin&authMechanism=SCRAM-SHA-256";
  o.caFile = conn.caFile;
  o.tls = true;
  o.serverSelectionTimeoutMs = options.serverSelectionTimeoutMs;
  o.connectTimeoutMs = options.connectTimeoutMs;
  return o;
}

InstanceEngine mongoInstanceEngine(MongoDedicatedOptions options) {
  InstanceEngine e;
  e.describe = "mongodb (dedicated)";
  e.portName = specs::kMongoPortName;
  e.port = specs::kMongoPort;
  e.superuser = specs::kMongoSuperuser;
  e.slots = {specs::kSlotApp, specs::kSlotMigration};
  e.bindingType = "mongodb";
  e.major = [](const std::string& version) { return specs::mongoMajor(version); };
  e.check = [](const specs::ServiceDatabase& sdb) -> std::optional<Problem> {
    auto names = mongo::namesFor(identityOf(sdb));
    if (!names.ok()) return Problem{"InvalidSpec", names.error().message, true, false};
    return std::nullopt;
  };
  // The superuser reaches mongod through the Secret (MONGO_INITDB_ROOT_*), not the workload.
  e.workload = [options](const specs::ServiceDatabase& sdb, const std::string&) -> Result<std::vector<Json>> {
    auto sts = specs::mongoStatefulSet(sdb, options.instance);
    if (!sts.ok()) return sts.error();
    return std::vector<Json>{std::move(*sts)};
  };
  e.engine = [options](const InstanceConnection& conn) -> std::unique_ptr<engines::Engine> {
    return std::make_unique<mongo::MongoEngine>(mongoSuperuserConnection(conn, options));
  };
  e.database = [](const specs::ServiceDatabase& sdb) { return namesOf(sdb).database; };
  e.bindingData = [](const specs::ServiceDatabase& sdb, const Endpoint& endpoint, const std::string& ca,
                     const std::string& slot, const std::string& password) {
    const mongo::Names names = namesOf(sdb);
    mongo::ClientCredentials c;
    c.hosts = {hostPort(endpoint.host, endpoint.port)};
    c.database = endpoint.database;
    c.username = slot == specs::kSlotMigration ? names.migrationUser : names.appUser;
    c.password = password;
    c.caPem = ca;
    c.tls = true;
    return mongo::credentialSecretData(c);
  };
  e.reloadTls = [options](const InstanceConnection& conn, const std::string& serial) -> Result<std::string> {
    auto served = presentedTlsSerial(conn.host, conn.port, conn.serverName, options.probeTimeoutSeconds);
    if (!served.ok() || *served == serial) return served;
    auto channel = mongo::connect(mongoSuperuserConnection(conn, options));
    if (!channel.ok()) return channel.error();
    auto rotated = (*channel)->run(mongo::rotateCertificatesCommand(), "reloading the server certificate (rotateCertificates)");
    if (!rotated.ok()) return rotated.error();
    return presentedTlsSerial(conn.host, conn.port, conn.serverName, options.probeTimeoutSeconds);
  };
  return e;
}

}  // namespace sdb::controllers::servicedatabase
