// The PostgreSQL binding entries of a credentials Secret (Service Binding for Kubernetes, type
// "postgresql", as Spring Cloud Bindings and Quarkus read them).
//
// Entries: type=postgresql, provider=servicedb, host, port, database, username, password, sslmode,
// uri (postgresql://user:password@host:port/database?sslmode=...), jdbc-url
// (jdbc:postgresql://host:port/database?sslmode=...; credentials are passed separately, as JDBC
// pools expect), and ca.crt when the server's CA is known. User, password and database are
// percent-encoded in the URIs; an IPv6 host is bracketed.
//
// Contract: pure, thread-safe. Never logs.
#pragma once

#include <map>
#include <string>

namespace sdb::specs {

inline constexpr const char* kBindingTypePostgres = "postgresql";

struct PostgresBinding {
  std::string host;
  int port = 5432;
  std::string database;
  std::string username;
  std::string password;
  std::string sslmode = "verify-full";
  std::string caCert;  // PEM; "" = not known
};

std::map<std::string, std::string> postgresBindingData(const PostgresBinding& binding);

// RFC 3986 percent-encoding of everything but unreserved characters.
std::string percentEncode(const std::string& text);

}  // namespace sdb::specs
