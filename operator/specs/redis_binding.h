// The Redis binding entries of a credentials Secret (Service Binding for Kubernetes, type "redis",
// as Spring Cloud Bindings and Steeltoe read it).
//
// Entries: type=redis, provider=servicedb, host, port, username (the ACL user), password, prefix
// (the key prefix every key and channel of this user must start with), database ("0": the logical
// database, the only one the user may use; the bindings libraries above read `database` as that
// number, so it cannot hold the prefix), ssl ("true"/"false"), uri and url (both
// rediss://<user>:<password>@<host>:<port>, redis:// without TLS; `url` is the key Spring reads,
// and it carries the user name, which Spring's other keys cannot), and ca.crt with TLS when the
// server's CA is known. User and password are percent-encoded in the URIs; an IPv6 host is
// bracketed.
//
// Contract: pure, thread-safe. Never logs.
#pragma once

#include <map>
#include <string>

namespace sdb::specs {

inline constexpr const char* kBindingTypeRedis = "redis";

struct RedisBinding {
  std::string host;
  int port = 6379;
  std::string prefix;    // e.g. "shop:orders:"
  std::string username;  // the ACL user, e.g. "shop.orders"
  std::string password;
  bool tls = true;
  std::string caCert;  // PEM; "" = not known
};

std::map<std::string, std::string> redisBindingData(const RedisBinding& binding);

}  // namespace sdb::specs
