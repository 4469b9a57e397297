// The admin connection of a shared server, from the Secret that spec.sharedServer.adminSecretRef
// names (docs/api.md, "Shared mode: the admin Secret"). Every engine reads the same core keys,
// host, port, username, password and ca.crt; what differs per engine is described by an
// AdminSecretKeys value, not by code:
//   - the default port (PostgreSQL 5432, Redis 6379, MongoDB 27017);
//   - how TLS is chosen: PostgreSQL's `sslmode` (libpq's modes), or `tls` ("true"/"false") for Redis
//     and MongoDB, whose drivers always verify chain and host name when TLS is on;
//   - whether TLS needs the Secret's ca.crt (Redis: our TLS client has no system store) or may fall
//     back to the system store (MongoDB);
//   - further optional keys with their defaults (PostgreSQL `database`, MongoDB `authSource` and
//     `replicaSet`).
// `username` is required for every engine (for Redis too: the `default` user is off on servers we
// set up, and an admin must be a named ACL user).
//
// Contract: `readAdminSecret` makes one uncached GET (user-named Secrets are never cached, see
// operator/runtime/informer.h); `parseAdminSecret` is pure. Problems name the Secret and the key;
// values of secret keys never appear in messages. Thread-safe.
#pragma once

#include <map>
#include <string>

#include "controllers/servicedatabase/backend.h"
#include "operator/core/json.h"
#include "operator/kube/client.h"

namespace sdb::controllers::servicedatabase {

enum class AdminTls {
  kSslmode,  // key `sslmode`: disable, allow, prefer, require, verify-ca, verify-full
  kTlsFlag,  // key `tls`: "true" (full verification) or "false"
};

struct AdminSecretKeys {
  std::string engine;  // for messages: "PostgreSQL", "Redis", "MongoDB"
  int defaultPort = 0;
  AdminTls tls = AdminTls::kTlsFlag;
  bool caRequiredForTls = false;  // kTlsFlag: TLS verifies against ca.crt only (no system store)
  std::map<std::string, std::string> options;  // further optional keys -> default ("" = none)
};

const AdminSecretKeys& postgresAdminKeys();  // 5432, sslmode, database
const AdminSecretKeys& redisAdminKeys();     // 6379, tls, ca.crt required with TLS
const AdminSecretKeys& mongoAdminKeys();     // 27017, tls, authSource (admin), replicaSet

struct AdminConnection {
  std::string secretName;
  std::string host;
  int port = 0;
  std::string username;
  std::string password;  // never logged
  bool tls = true;       // the connection uses TLS
  std::string sslmode;   // kSslmode only: as given, or the default below
  std::string caCert;    // PEM, "" when absent
  std::map<std::string, std::string> options;  // every key of AdminSecretKeys::options, defaults applied

  const std::string& option(const std::string& key) const;  // "" for a key the engine does not have
};

// Parses `secret` with the engine's `keys`. TLS defaults to on (verify-full for sslmode) when
// spec.tls.enabled (`tlsRequired`), else off; with TLS required, a setting without TLS is refused.
// sslmode verify-ca and verify-full need ca.crt, as does `tls: "true"` when caRequiredForTls. A
// ca.crt must be PEM. `host` must be a DNS name or an IP address (no scheme, port or path).
PResult<AdminConnection> parseAdminSecret(const Json& secret, const AdminSecretKeys& keys, bool tlsRequired);

PResult<Json> readAdminSecret(kube::KubeClient& client, const specs::ServiceDatabase& sdb);

}  // namespace sdb::controllers::servicedatabase
