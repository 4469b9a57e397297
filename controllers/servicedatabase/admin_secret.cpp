#include "controllers/servicedatabase/admin_secret.h"

#include "operator/specs/credentials_secret.h"

namespace sdb::controllers::servicedatabase {

namespace {

Problem invalid(const std::string& secret, const std::string& message) {
  // A human must fix the Secret; we do not watch user Secrets, so we poll with backoff meanwhile.
  return {"InvalidAdminSecret", "Secret \"" + secret + "\" (spec.sharedServer.adminSecretRef): " + message, true, true};
}

bool isDnsChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_';
}

bool isIpv6Char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

// A DNS name, an IPv4 address or an IPv6 address (unbracketed): nothing that could add a port,
// user info, path or option once the host is put into a connection URI.
bool validHost(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  const bool ipv6 = host.find(':') != std::string::npos;
  for (char c : host) {
    if (ipv6 ? !isIpv6Char(c) : !isDnsChar(c)) return false;
  }
  return true;
}

PResult<void> parseSslmode(AdminConnection& a, const std::string& given, bool tlsRequired) {
  a.sslmode = given.empty() ? (tlsRequired ? "verify-full" : "disable") : given;
  static const char* modes[] = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
  bool known = false;
  for (const char* m : modes) known = known || a.sslmode == m;
  if (!known) {
    return invalid(a.secretName,
                   "key \"sslmode\" must be disable, allow, prefer, require, verify-ca or verify-full, got \"" +
                       a.sslmode + "\"");
  }
  a.tls = a.sslmode == "require" || a.sslmode == "verify-ca" || a.sslmode == "verify-full";
  if (tlsRequired && !a.tls) {
    return invalid(a.secretName, "sslmode \"" + a.sslmode +
                                     "\" does not require TLS, but spec.tls.enabled is true; use verify-full with "
                                     "ca.crt, or set spec.tls.enabled to false");
  }
  if ((a.sslmode == "verify-ca" || a.sslmode == "verify-full") && a.caCert.empty()) {
    return invalid(a.secretName, "sslmode \"" + a.sslmode + "\" needs the server's CA in key \"ca.crt\"");
  }
  return {};
}

PResult<void> parseTlsFlag(AdminConnection& a, const AdminSecretKeys& keys, const std::string& given,
                           bool tlsRequired) {
  if (given.empty()) {
    a.tls = tlsRequired;
  } else if (given == "true" || given == "false") {
    a.tls = given == "true";
  } else {
    return invalid(a.secretName, "key \"tls\" must be \"true\" or \"false\", got \"" + given + "\"");
  }
  if (tlsRequired && !a.tls) {
    return invalid(a.secretName, "tls \"false\" does not use TLS, but spec.tls.enabled is true; set tls to \"true\" "
                                 "(with ca.crt), or set spec.tls.enabled to false");
  }
  if (a.tls && keys.caRequiredForTls && a.caCert.empty()) {
    return invalid(a.secretName, "TLS to " + keys.engine + " needs the server's CA in key \"ca.crt\"");
  }
  return {};
}

}  // namespace

const AdminSecretKeys& postgresAdminKeys() {
  static const AdminSecretKeys k{"PostgreSQL", 5432, AdminTls::kSslmode, false, {{"database", ""}}};
  return k;
}

const AdminSecretKeys& redisAdminKeys() {
  static const AdminSecretKeys k{"Redis", 6379, AdminTls::kTlsFlag, true, {}};
  return k;
}

const AdminSecretKeys& mongoAdminKeys() {
  static const AdminSecretKeys k{"MongoDB", 27017, AdminTls::kTlsFlag, false, {{"authSource", "admin"}, {"replicaSet", ""}}};
  return k;
}

const std::string& AdminConnection::option(const std::string& key) const {
  static const std::string none;
  auto it = options.find(key);
  return it == options.end() ? none : it->second;
}

PResult<AdminConnection> parseAdminSecret(const Json& secret, const AdminSecretKeys& keys, bool tlsRequired) {
  AdminConnection a;
  a.secretName = jsonString(secret, {"metadata", "name"});
  auto data = specs::secretData(secret);
  auto get = [&](const std::string& key) {
    auto it = data.find(key);
    return it == data.end() ? std::string() : it->second;
  };
  a.host = get("host");
  a.username = get("username");
  a.password = get("password");
  a.caCert = get("ca.crt");
  if (a.host.empty()) return invalid(a.secretName, "key \"host\" is missing or empty");
  if (!validHost(a.host)) {
    return invalid(a.secretName, "key \"host\" must be a DNS name or an IP address (no scheme, port or path)");
  }
  if (a.username.empty()) return invalid(a.secretName, "key \"username\" is missing or empty");
  if (a.password.empty()) return invalid(a.secretName, "key \"password\" is missing or empty");
  const std::string port = get("port");
  if (port.empty()) {
    a.port = keys.defaultPort;
  } else {
    bool digits = port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
    a.port = digits ? std::stoi(port) : 0;
    if (a.port < 1 || a.port > 65535) return invalid(a.secretName, "key \"port\" must be a number from 1 to 65535");
  }
  for (const auto& [key, fallback] : keys.options) {
    std::string v = get(key);
    a.options[key] = v.empty() ? fallback : v;
  }
  auto tls = keys.tls == AdminTls::kSslmode ? parseSslmode(a, get("sslmode"), tlsRequired)
                                            : parseTlsFlag(a, keys, get("tls"), tlsRequired);
  if (!tls.ok()) return tls.error();
  if (!a.caCert.empty() && a.caCert.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return invalid(a.secretName, "key \"ca.crt\" is not a PEM certificate");
  }
  return a;
}

PResult<Json> readAdminSecret(kube::KubeClient& client, const specs::ServiceDatabase& sdb) {
  auto s = client.get(kube::resources::kSecrets, sdb.ns, sdb.adminSecretName);
  if (s.ok()) return std::move(*s);
  if (s.error().is(kube::ApiErrorReason::kNotFound)) {
    return Problem{"AdminSecretNotFound",
                   "spec.sharedServer.adminSecretRef.name: Secret \"" + sdb.adminSecretName +
                       "\" not found in namespace \"" + sdb.ns + "\"",
                   false, true};
  }
  if (s.error().is(kube::ApiErrorReason::kForbidden)) {
    return Problem{"AdminSecretForbidden",
                   "spec.sharedServer.adminSecretRef.name: the operator may not read Secret \"" + sdb.adminSecretName +
                       "\": " + s.error().message,
                   true, true};
  }
  return Problem{"ApiError", "reading Secret \"" + sdb.adminSecretName + "\": " + s.error().toString(), false, true};
}

}  // namespace sdb::controllers::servicedatabase
