// The credentials Secret entries of one PostgreSQL login (the app or the migration slot) of a
// ServiceDatabase, in shared mode and dedicated mode alike: the service's role for the slot, on the
// database at `endpoint`, with the server's sslmode and CA. Pure and thread-safe.
#pragma once

#include <map>
#include <string>

#include "controllers/servicedatabase/backend.h"
#include "operator/engines/postgres/names.h"

namespace sdb::controllers::servicedatabase {

struct PostgresServerTrust {
  std::string sslmode = "verify-full";
  std::string caCert;  // PEM; "" = not known
};

// `slot` is specs::kSlotMigration for the migration role; any other slot gets the app role.
std::map<std::string, std::string> postgresBindingEntries(const Endpoint& endpoint, const engines::postgres::Names& names,
                                                          const PostgresServerTrust& trust, const std::string& slot,
                                                          const std::string& password);

}  // namespace sdb::controllers::servicedatabase
