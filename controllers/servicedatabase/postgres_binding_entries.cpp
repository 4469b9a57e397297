#include "controllers/servicedatabase/postgres_binding_entries.h"

#include "operator/specs/credentials_secret.h"
#include "operator/specs/postgres_binding.h"

namespace sdb::controllers::servicedatabase {

std::map<std::string, std::string> postgresBindingEntries(const Endpoint& endpoint, const engines::postgres::Names& names,
                                                          const PostgresServerTrust& trust, const std::string& slot,
                                                          const std::string& password) {
  specs::PostgresBinding b;
  b.host = endpoint.host;
  b.port = endpoint.port;
  b.database = endpoint.database;
  b.username = slot == specs::kSlotMigration ? names.migrationRole : names.appRole;
  b.password = password;
  b.sslmode = trust.sslmode;
  b.caCert = trust.caCert;
  return specs::postgresBindingData(b);
}

}  // namespace sdb::controllers::servicedatabase
