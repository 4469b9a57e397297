#include "operator/specs/postgres_binding.h"

namespace sdb::specs {

std::string percentEncode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::map<std::string, std::string> postgresBindingData(const PostgresBinding& b) {
  const std::string host = b.host.find(':') != std::string::npos ? "[" + b.host + "]" : b.host;
  const std::string hostPortDb = host + ":" + std::to_string(b.port) + "/" + percentEncode(b.database);
  std::map<std::string, std::string> d = {
      {"type", kBindingTypePostgres},
      {"provider", "servicedb"},
      {"host", b.host},
      {"port", std::to_string(b.port)},
      {"database", b.database},
      {"username", b.username},
      {"password", b.password},
      {"sslmode", b.sslmode},
      {"uri", "postgresql://" + percentEncode(b.username) + ":" + percentEncode(b.password) + "@" + hostPortDb +
                  "?sslmode=" + percentEncode(b.sslmode)},
      {"jdbc-url", "jdbc:postgresql://" + hostPortDb + "?sslmode=" + percentEncode(b.sslmode)},
  };
  if (!b.caCert.empty()) d["ca.crt"] = b.caCert;
  return d;
}

}  // namespace sdb::specs
