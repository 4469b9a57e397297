// What a MongoDB ServiceDatabase's credentials Secret holds, as pure functions the controller calls
// (it builds and writes the Secret; this engine only says what goes in it).
//
// Contract: pure, thread-safe. `connectionUri` gives
//   mongodb://<user>:<password>@<host:port>[,...]/<database>?tls=true&authSource=<database>
//       &authMechanism=SCRAM-SHA-256[&replicaSet=<rs>][&tlsCAFile=<path>]
// with user, password, database and option values percent-encoded (RFC 3986: everything but
// ALPHA / DIGIT / "-" / "." / "_" / "~"), so no password character can end the userinfo or add an
// option. `tls` false drops tls=true (only for shared servers that offer no TLS). The CA goes in the
// Secret as `ca.crt`; a client passes its mounted path as tlsCAFile (or uses `uriWithCaFile`).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sdb::engines::mongo {

struct ClientCredentials {
  std::vector<std::string> hosts;  // "host:port", e.g. "orders-mongodb.a.svc:27017"; IPv6 as "[::1]:27017"
  std::string replicaSet;          // empty: none
  std::string database;            // the service's database; also the authSource
  std::string username;
  std::string password;            // never logged
  std::string caPem;               // the CA that signed the server certificate
  bool tls = true;
};

std::string percentEncode(std::string_view value);

// The connection string without tlsCAFile (clients add the path where they mount ca.crt).
std::string connectionUri(const ClientCredentials& c);
// The same with tlsCAFile=<caFile>, e.g. for Jobs that mount the Secret at a known path.
std::string uriWithCaFile(const ClientCredentials& c, const std::string& caFile);

// The Secret's data (servicebinding.io well-known keys where they exist):
// type=mongodb, provider=servicedb, host, port (of the first host), hosts (comma-separated),
// database, authSource, username, password, uri, tls ("true"/"false"), ca.crt, replicaSet (if any).
std::map<std::string, std::string> credentialSecretData(const ClientCredentials& c);

}  // namespace sdb::engines::mongo
