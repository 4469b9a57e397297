#include "operator/specs/redis_binding.h"

#include "operator/specs/postgres_binding.h"

namespace sdb::specs {

std::map<std::string, std::string> redisBindingData(const RedisBinding& b) {
  const std::string host = b.host.find(':') != std::string::npos ? "[" + b.host + "]" : b.host;
  const std::string uri = std::string(b.tls ? "rediss" : "redis") + "://" + percentEncode(b.username) + ":" +
                          percentEncode(b.password) + "@" + host + ":" + std::to_string(b.port);
  std::map<std::string, std::string> d = {
      {"type", kBindingTypeRedis},
      {"provider", "servicedb"},
      {"host", b.host},
      {"port", std::to_string(b.port)},
      {"username", b.username},
      {"password", b.password},
      {"prefix", b.prefix},
      {"database", "0"},
      {"ssl", b.tls ? "true" : "false"},
      {"uri", uri},
      {"url", uri},
  };
  if (b.tls && !b.caCert.empty()) d["ca.crt"] = b.caCert;
  return d;
}

}  // namespace sdb::specs
