// The mongo-c-driver implementation of AdminChannel, and the admin connection's options.
//
// Contract: `connect` parses and checks the admin URI (from the shared server's admin Secret)
// without contacting the server: TLS is on (tls=true is forced unless `tls` is false), the CA file
// is used when given, and any option that weakens verification (tlsInsecure,
// tlsAllowInvalidCertificates, tlsAllowInvalidHostnames, tlsDisableOCSPEndpointCheck,
// tlsDisableCertificateRevocationCheck) is refused with InvalidArgument, so hostnames are always
// verified. Errors never contain the URI's password. mongoc_init() runs once per process (library
// initialisation, behind std::call_once). A channel is used by one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "operator/engines/mongo/channel.h"

namespace sdb::engines::mongo {

struct ConnectionOptions {
  std::string uri;            // mongodb:// or mongodb+srv://, with the admin user's credentials
  std::string caFile;         // PEM bundle of the server's CA; empty: the system store
  bool tls = true;            // false only for servers that offer no TLS at all (shared mode)
  int serverSelectionTimeoutMs = 10000;
  int connectTimeoutMs = 5000;
  std::string appName = "servicedb-operator";
};

Result<std::unique_ptr<AdminChannel>> connect(const ConnectionOptions& options);

// What the admin URI says once checked and overridden (no password): for tests, logs, and for the
// controller, whose client credentials point at the same hosts in shared mode.
struct UriSummary {
  std::vector<std::string> hosts;  // "host:port"; empty for mongodb+srv://
  std::string srvHost;             // for mongodb+srv://
  std::string username;
  std::string authSource;
  std::string database;            // the URI's path, if any
  std::string replicaSet;
  bool tls = false;
  std::string caFile;
};
Result<UriSummary> inspectAdminUri(const ConnectionOptions& options);

}  // namespace sdb::engines::mongo
