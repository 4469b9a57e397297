// A small certificate authority over OpenSSL: ECDSA P-256 keys, a self-signed CA, and server
// certificates with DNS and IP subject alternative names. Used by the local cluster for its API
// server, and by the operator for each database instance's server certificate.
//
// Contract: pure functions over PEM strings, thread-safe. Validity is given explicitly, so tests can
// issue short-lived certificates. Private keys are returned as PEM; callers store them in Secrets or
// files with mode 0600 and never log them.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "operator/core/result.h"

namespace sdb::pki {

struct KeyPair {
  std::string certificatePem;
  std::string privateKeyPem;
};

struct CaOptions {
  std::string commonName = "servicedb-operator CA";
  std::chrono::seconds validity = std::chrono::hours(24 * 365 * 10);
};

struct ServerCertOptions {
  std::string commonName;
  std::vector<std::string> dnsNames;
  std::vector<std::string> ipAddresses;
  std::chrono::seconds validity = std::chrono::hours(24 * 90);
  std::chrono::system_clock::time_point notBefore = std::chrono::system_clock::now();
  bool clientAuth = false;  // also valid as a TLS client certificate (extendedKeyUsage clientAuth)
};

Result<KeyPair> createCa(const CaOptions& options);
Result<KeyPair> issueServerCert(const KeyPair& ca, const ServerCertOptions& options);

// Expiry of a PEM certificate, for renewal decisions.
Result<std::chrono::system_clock::time_point> notAfter(const std::string& certificatePem);
Result<std::chrono::system_clock::time_point> notBefore(const std::string& certificatePem);
// Subject alternative names (DNS names and IP addresses as text), sorted, for "does it still fit" checks.
Result<std::vector<std::string>> subjectAltNames(const std::string& certificatePem);
// Whether `certificatePem` was signed by the CA certificate `caPem` (signature check only).
bool issuedBy(const std::string& certificatePem, const std::string& caPem);
// Serial number in hex, to tell renewed certificates apart.
Result<std::string> serialHex(const std::string& certificatePem);

}  // namespace sdb::pki
