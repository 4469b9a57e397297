#include "controllers/servicedatabase/admin_secret.h"

#include "operator/specs/credentials_secret.h"

namespace sdb::controllers::servicedatabase {

namespace {
Problem invalid(const std::string& secret, const std::string& message) {
  // A human must fix the Secret; we do not watch user Secrets, so we poll with backoff meanwhile.
  return {"InvalidAdminSecret", "Secret \"" + secret + "\" (spec.sharedServer.adminSecretRef): " + message, true, true};
}
}  // namespace

PResult<AdminConnection> parseAdminSecret(const Json& secret, int defaultPort, bool tlsRequired) {
  AdminConnection a;
  a.secretName = jsonString(secret, {"metadata", "name"});
  auto data = specs::secretData(secret);
  auto get = [&](const char* key) {
    auto it = data.find(key);
    return it == data.end() ? std::string() : it->second;
  };
  a.host = get("host");
  a.username = get("username");
  a.password = get("password");
  a.caCert = get("ca.crt");
  a.database = get("database");
  a.sslmode = get("sslmode");
  if (a.host.empty()) return invalid(a.secretName, "key \"host\" is missing or empty");
  if (a.username.empty()) return invalid(a.secretName, "key \"username\" is missing or empty");
  if (a.password.empty()) return invalid(a.secretName, "key \"password\" is missing or empty");
  const std::string port = get("port");
  if (port.empty()) {
    a.port = defaultPort;
  } else {
    bool digits = port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
    a.port = digits ? std::stoi(port) : 0;
    if (a.port < 1 || a.port > 65535) return invalid(a.secretName, "key \"port\" must be a number from 1 to 65535");
  }
  if (a.sslmode.empty()) a.sslmode = tlsRequired ? "verify-full" : "disable";
  static const char* modes[] = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
  bool known = false;
  for (const char* m : modes) known = known || a.sslmode == m;
  if (!known) {
    return invalid(a.secretName,
                   "key \"sslmode\" must be disable, allow, prefer, require, verify-ca or verify-full, got \"" +
                       a.sslmode + "\"");
  }
  bool requiresTls = a.sslmode == "require" || a.sslmode == "verify-ca" || a.sslmode == "verify-full";
  if (tlsRequired && !requiresTls) {
    return invalid(a.secretName, "sslmode \"" + a.sslmode +
                                     "\" does not require TLS, but spec.tls.enabled is true; use verify-full with "
                                     "ca.crt, or set spec.tls.enabled to false");
  }
  if ((a.sslmode == "verify-ca" || a.sslmode == "verify-full") && a.caCert.empty()) {
    return invalid(a.secretName, "sslmode \"" + a.sslmode + "\" needs the server's CA in key \"ca.crt\"");
  }
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
