#include "controllers/servicedatabase/postgres_dedicated.h"

#include <openssl/bn.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <thread>

#include "controllers/servicedatabase/postgres_binding_entries.h"
#include "operator/engines/postgres/names.h"
#include "operator/engines/postgres/postgres_engine.h"
#include "operator/specs/credentials_secret.h"
#include "operator/specs/postgres_binding.h"

namespace sdb::controllers::servicedatabase {

namespace pg = engines::postgres;

namespace {

pg::ConnectionOptions superuserOptions(const InstanceConnection& conn, int timeout) {
  pg::ConnectionOptions o;
  o.host = conn.host;
  o.port = conn.port;
  o.dbname = "postgres";
  o.user = conn.username;
  o.password = conn.password;
  o.sslmode = "verify-full";  // the certificate names the clusterIP
  o.sslrootcert = conn.caFile;
  o.connectTimeoutSeconds = timeout;
  return o;
}

}  // namespace

Result<std::string> presentedPostgresSerial(const InstanceConnection& conn, int timeout) {
  auto c = pg::PgConnection::open(superuserOptions(conn, timeout));
  if (!c.ok()) return c.error();
  auto* ssl = static_cast<SSL*>(PQsslStruct(c->raw(), "OpenSSL"));
  if (ssl == nullptr) return internalError("the connection is not using TLS");
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return internalError("the server presented no certificate");
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out(hex);
  OPENSSL_free(hex);
  BN_free(bn);
  X509_free(cert);
  return out;
}

InstanceEngine postgresInstanceEngine(specs::PostgresInstanceOptions options, int timeout) {
  InstanceEngine e;
  e.describe = "postgres (dedicated)";
  e.portName = specs::kPostgresPortName;
  e.port = specs::kPostgresPort;
  e.superuser = specs::kPostgresSuperuser;
  e.slots = {specs::kSlotApp, specs::kSlotMigration};
  e.bindingType = specs::kBindingTypePostgres;
  e.major = [](const std::string& version) { return specs::postgresMajor(version); };
  // As in shared mode: spec.databaseName may only spell the derived name (the endpoint's database
  // is always the derived one).
  e.check = [](const specs::ServiceDatabase& sdb) -> std::optional<Problem> {
    const std::string derived = pg::deriveNames(sdb.ns, sdb.name).database;
    if (sdb.databaseName.empty() || sdb.databaseName == derived) return std::nullopt;
    return Problem{"NotImplemented",
                   "spec.databaseName: choosing the database name is not implemented yet; remove the field to use "
                   "the derived name \"" + derived + "\"",
                   true, false};
  };
  // The superuser password reaches the instance through the superuser Secret (POSTGRES_PASSWORD).
  e.workload = [options](const specs::ServiceDatabase& sdb, const std::string&) -> Result<std::vector<Json>> {
    auto cm = specs::postgresConfigMap(sdb, options);
    if (!cm.ok()) return cm.error();
    auto sts = specs::postgresStatefulSet(sdb, options, specs::configMapHash(*cm));
    if (!sts.ok()) return sts.error();
    return std::vector<Json>{std::move(*cm), std::move(*sts)};
  };
  e.engine = [timeout](const InstanceConnection& conn) -> std::unique_ptr<engines::Engine> {
    return std::make_unique<pg::PostgresEngine>(superuserOptions(conn, timeout), pg::Mode::kDedicated);
  };
  e.database = [](const specs::ServiceDatabase& sdb) { return pg::deriveNames(sdb.ns, sdb.name).database; };
  e.migrationOwnerRole = [](const specs::ServiceDatabase& sdb) { return pg::deriveNames(sdb.ns, sdb.name).ownerRole; };
  e.bindingData = [](const specs::ServiceDatabase& sdb, const Endpoint& endpoint, const std::string& ca,
                     const std::string& slot, const std::string& password) {
    return postgresBindingEntries(endpoint, pg::deriveNames(sdb.ns, sdb.name), {.sslmode = "verify-full", .caCert = ca},
                                  slot, password);
  };
  e.reloadTls = [timeout](const InstanceConnection& conn, const std::string& serial) -> Result<std::string> {
    auto served = presentedPostgresSerial(conn, timeout);
    if (!served.ok() || *served == serial) return served;
    auto c = pg::PgConnection::open(superuserOptions(conn, timeout));
    if (!c.ok()) return c.error();
    if (auto r = c->exec("SELECT pg_reload_conf()", "reloading the server configuration"); !r.ok()) return r.error();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the postmaster reloads asynchronously
    return presentedPostgresSerial(conn, timeout);
  };
  return e;
}

}  // namespace sdb::controllers::servicedatabase
