#include "controllers/servicedatabase/instance_tls.h"

#include <algorithm>

#include "operator/specs/credentials_secret.h"

namespace sdb::controllers::servicedatabase {

namespace res = kube::resources;

TlsDecision decideTls(const std::map<std::string, std::string>& data, const std::string& caPem,
                      std::vector<std::string> sans, std::chrono::system_clock::time_point now,
                      const InstanceTlsOptions& options) {
  auto get = [&](const char* k) {
    auto it = data.find(k);
    return it == data.end() ? std::string() : it->second;
  };
  const std::string cert = get("tls.crt");
  if (cert.empty() || get("tls.key").empty()) return {true, false, "no certificate yet", std::nullopt};
  auto from = pki::notBefore(cert);
  auto to = pki::notAfter(cert);
  auto have = pki::subjectAltNames(cert);
  if (!from.ok() || !to.ok() || !have.ok()) return {true, false, "the stored certificate is unreadable", std::nullopt};
  if (get("ca.crt") != caPem || !pki::issuedBy(cert, caPem)) {
    return {true, false, "the operator's CA changed", std::nullopt};
  }
  std::sort(sans.begin(), sans.end());
  sans.erase(std::unique(sans.begin(), sans.end()), sans.end());
  if (*have != sans) return {true, false, "the instance's names or address changed", std::nullopt};
  const auto life = *to - *from;
  if (life > options.validity + std::chrono::minutes(2)) return {true, false, "the configured validity is shorter", std::nullopt};
  const auto renewAt =
      *from + std::chrono::duration_cast<std::chrono::system_clock::duration>(life * options.renewAfter);
  if (now >= renewAt) return {true, false, "renewal due", std::nullopt};
  if (get("tls.pem") != specs::tlsCombinedPem(cert, get("tls.key"))) {
    return {false, true, "the Secret's tls.pem is missing or does not match tls.crt and tls.key", renewAt};
  }
  return {false, false, "", renewAt};
}

PResult<InstanceTls> ensureInstanceTls(kube::KubeClient& client, const ObjectReader& secrets,
                                       const specs::ServiceDatabase& sdb, const specs::InstanceNames& names,
                                       const pki::KeyPair& ca, const std::vector<std::string>& dnsNames,
                                       const std::vector<std::string>& ips, const InstanceTlsOptions& options,
                                       const std::string& fieldManager, std::chrono::system_clock::time_point now) {
  const std::string name = names.tlsSecret;
  runtime::ObjectPtr cached = secrets.get(sdb.ns, name);
  Json live;
  if (cached) {
    live = *cached;
  } else {
    auto r = client.get(res::kSecrets, sdb.ns, name);
    if (r.ok()) live = std::move(*r);
    else if (!r.error().is(kube::ApiErrorReason::kNotFound)) {
      return Problem{"ApiError", "reading Secret \"" + name + "\": " + r.error().toString(), false, true};
    }
  }
  std::vector<std::string> sans = dnsNames;
  sans.insert(sans.end(), ips.begin(), ips.end());
  auto data = live.is_null() ? std::map<std::string, std::string>{} : specs::secretData(live);
  TlsDecision d = decideTls(data, ca.certificatePem, sans, now, options);
  InstanceTls out;
  out.caPem = ca.certificatePem;
  if (!d.issue) {
    auto serial = pki::serialHex(data["tls.crt"]);
    out.serial = serial.ok() ? *serial : "";
    if (d.renewAt) {
      out.renewIn = std::chrono::duration_cast<std::chrono::seconds>(*d.renewAt - now) + std::chrono::seconds(1);
    }
    if (d.rewrite) {
      Json secret = specs::tlsSecret(sdb, names, data["tls.crt"], data["tls.key"], ca.certificatePem);
      kube::PatchOptions opts;
      opts.fieldManager = fieldManager;
      opts.force = true;
      auto applied = client.patch(res::kSecrets, sdb.ns, name, kube::PatchType::kApply, dumpJson(secret), opts);
      if (!applied.ok()) return Problem{"ApiError", "writing Secret \"" + name + "\": " + applied.error().toString(), false, true};
      out.rewritten = true;
      out.why = d.why;
    }
    return out;
  }
  pki::ServerCertOptions o;
  o.commonName = dnsNames.empty() ? names.service : dnsNames.front();
  o.dnsNames = dnsNames;
  o.ipAddresses = ips;
  o.validity = options.validity;
  o.notBefore = now - std::chrono::seconds(60);  // tolerate small clock skew between operator and clients
  o.validity += std::chrono::seconds(60);
  auto cert = pki::issueServerCert(ca, o);
  if (!cert.ok()) return Problem{"OperatorError", "issuing the server certificate: " + cert.error().message, false, true};
  Json secret = specs::tlsSecret(sdb, names, cert->certificatePem, cert->privateKeyPem, ca.certificatePem);
  kube::PatchOptions opts;
  opts.fieldManager = fieldManager;
  opts.force = true;
  auto applied = client.patch(res::kSecrets, sdb.ns, name, kube::PatchType::kApply, dumpJson(secret), opts);
  if (!applied.ok()) return Problem{"ApiError", "writing Secret \"" + name + "\": " + applied.error().toString(), false, true};
  auto serial = pki::serialHex(cert->certificatePem);
  out.serial = serial.ok() ? *serial : "";
  out.issued = true;
  out.why = d.why;
  const auto life = std::chrono::duration_cast<std::chrono::seconds>(o.validity);
  out.renewIn = std::chrono::seconds(static_cast<int64_t>(static_cast<double>(life.count()) * options.renewAfter)) -
                std::chrono::seconds(60) + std::chrono::seconds(1);
  return out;
}

}  // namespace sdb::controllers::servicedatabase
