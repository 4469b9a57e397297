// The admin connection of a shared server, from the Secret that spec.sharedServer.adminSecretRef
// names (docs/api.md): keys host, port, username, password, and optionally sslmode, ca.crt and
// database (the maintenance database to connect to).
//
// Contract: `readAdminSecret` makes one uncached GET (user-named Secrets are never cached, see
// operator/runtime/informer.h); `parseAdminSecret` is pure. Problems name the Secret and the key;
// values never appear in messages. Thread-safe.
#pragma once

#include <string>

#include "controllers/servicedatabase/backend.h"
#include "operator/core/json.h"
#include "operator/kube/client.h"

namespace sdb::controllers::servicedatabase {

struct AdminConnection {
  std::string secretName;
  std::string host;
  int port = 0;
  std::string username;
  std::string password;  // never logged
  std::string sslmode;   // as given, or the default below
  std::string caCert;    // PEM, "" when absent
  std::string database;  // "" = the engine's default
};

// `defaultPort` applies when the key is absent. sslmode defaults to verify-full when TLS is
// required (spec.tls.enabled) and to disable otherwise. With TLS required, sslmode must require
// TLS (require, verify-ca, verify-full); verify-ca and verify-full need ca.crt.
PResult<AdminConnection> parseAdminSecret(const Json& secret, int defaultPort, bool tlsRequired);

PResult<Json> readAdminSecret(kube::KubeClient& client, const specs::ServiceDatabase& sdb);

}  // namespace sdb::controllers::servicedatabase
