#include "controllers/servicedatabase/postgres_shared_backend.h"

#include "controllers/servicedatabase/admin_secret.h"
#include "controllers/servicedatabase/postgres_binding_entries.h"
#include "operator/core/hash.h"
#include "operator/engines/postgres/names.h"
#include "operator/engines/postgres/postgres_engine.h"
#include "operator/specs/credentials_secret.h"
#include "operator/specs/postgres_binding.h"

namespace sdb::controllers::servicedatabase {

namespace pg = engines::postgres;

PostgresSharedBackend::PostgresSharedBackend(kube::KubeClient& client, PostgresSharedOptions options)
    : client_(client), options_(std::move(options)), caFiles_(options_.caDir) {
  if (!options_.engineFactory) {
    options_.engineFactory = [](const pg::ConnectionOptions& admin) -> std::unique_ptr<engines::Engine> {
      return std::make_unique<pg::PostgresEngine>(admin, pg::Mode::kShared);
    };
  }
}

std::optional<Problem> PostgresSharedBackend::check(const specs::ServiceDatabase& sdb) const {
  const std::string derived = pg::deriveNames(sdb.ns, sdb.name).database;
  if (!sdb.databaseName.empty() && sdb.databaseName != derived) {
    return Problem{"NotImplemented",
                   "spec.databaseName: choosing the database name is not implemented yet; remove the field to use "
                   "the derived name \"" + derived + "\"",
                   true, false};
  }
  return std::nullopt;
}

PResult<Session> PostgresSharedBackend::open(const specs::ServiceDatabase& sdb) {
  auto secret = readAdminSecret(client_, sdb);
  if (!secret.ok()) return secret.error();
  auto admin = parseAdminSecret(*secret, postgresAdminKeys(), sdb.tlsEnabled);
  if (!admin.ok()) return admin.error();

  pg::ConnectionOptions conn;
  conn.host = admin->host;
  conn.port = admin->port;
  conn.user = admin->username;
  conn.password = admin->password;
  conn.sslmode = admin->sslmode;
  if (!admin->option("database").empty()) conn.dbname = admin->option("database");
  conn.connectTimeoutSeconds = options_.connectTimeoutSeconds;
  if (!admin->caCert.empty()) {
    auto path = caFiles_.pathFor(admin->caCert);
    if (!path.ok()) return Problem{"OperatorError", path.error().message, false, true};
    conn.sslrootcert = *path;
  }

  if (auto p = check(sdb)) return *p;
  pg::Names names = pg::deriveNames(sdb.ns, sdb.name);
  Session s;
  s.engine = options_.engineFactory(conn);
  s.endpoint = {admin->host, admin->port, names.database};
  s.bindingType = specs::kBindingTypePostgres;
  s.bindingData = [endpoint = s.endpoint, names, trust = PostgresServerTrust{admin->sslmode, admin->caCert}](
                      const std::string& slot, const std::string& password) {
    return postgresBindingEntries(endpoint, names, trust, slot, password);
  };
  s.fingerprint = sha256Hex(conn.host + "\n" + std::to_string(conn.port) + "\n" + conn.user + "\n" + conn.password +
                            "\n" + conn.sslmode + "\n" + conn.dbname + "\n" + admin->caCert);
  return s;
}

std::string PostgresSharedBackend::migrationOwnerRole(const specs::ServiceDatabase& sdb) const {
  return pg::deriveNames(sdb.ns, sdb.name).ownerRole;
}

}  // namespace sdb::controllers::servicedatabase
