// The server certificate of one dedicated instance, kept in its TLS Secret ("<base>-tls": tls.crt,
// tls.key, ca.crt), issued by the operator's CA (ca_store.h).
//
// A certificate is (re)issued when the Secret is missing or unreadable, when it was not issued by
// the current CA (after a CA rotation), when its subject alternative names differ from the wanted
// ones (every DNS form of the instance's Services and pod, plus the clusterIP), or once
// `renewAfter` (default two thirds) of its validity (default 90 days) has passed. Both are
// configurable (`servicedb-operator run --instance-cert-validity`), so tests use short lives.
// A Secret whose certificate is fine but whose tls.pem is missing or stale (written before tls.pem
// existed, or edited) is rewritten with the same certificate and key: no new certificate.
//
// Contract: decideTls is pure; ensureInstanceTls reads the Secret from the cache (one uncached GET
// when the cache has none) and writes only when a certificate is issued. Private keys never reach
// logs or messages. Thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "controllers/servicedatabase/backend.h"
#include "controllers/servicedatabase/object_reader.h"
#include "operator/kube/client.h"
#include "operator/pki/pki.h"
#include "operator/specs/instance.h"

namespace sdb::controllers::servicedatabase {

struct InstanceTlsOptions {
  std::chrono::seconds validity{std::chrono::hours(24 * 90)};
  double renewAfter = 2.0 / 3.0;  // fraction of the validity after which a certificate is renewed
};

struct TlsDecision {
  bool issue = false;
  bool rewrite = false;  // keep the certificate, write the Secret again (tls.pem)
  std::string why;  // "no certificate yet", "renewal due", ... (for the event)
  std::optional<std::chrono::system_clock::time_point> renewAt;  // when the current one is due
};

// `data`: the Secret's decoded entries (empty when absent); `sans`: wanted DNS names and IPs.
TlsDecision decideTls(const std::map<std::string, std::string>& data, const std::string& caPem,
                      std::vector<std::string> sans, std::chrono::system_clock::time_point now,
                      const InstanceTlsOptions& options);

struct InstanceTls {
  std::string serial;       // of the certificate in the Secret
  std::string caPem;        // the CA clients verify against
  bool issued = false;      // a certificate was issued in this call
  bool rewritten = false;   // the Secret was written again with the same certificate (tls.pem)
  std::string why;          // why it was issued
  std::optional<std::chrono::seconds> renewIn;  // time until the next renewal
};

PResult<InstanceTls> ensureInstanceTls(kube::KubeClient& client, const ObjectReader& secrets,
                                       const specs::ServiceDatabase& sdb, const specs::InstanceNames& names,
                                       const pki::KeyPair& ca, const std::vector<std::string>& dnsNames,
                                       const std::vector<std::string>& ips, const InstanceTlsOptions& options,
                                       const std::string& fieldManager, std::chrono::system_clock::time_point now);

}  // namespace sdb::controllers::servicedatabase
