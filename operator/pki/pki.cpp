#include "operator/pki/pki.h"

#include <arpa/inet.h>

#include <algorithm>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace sdb::pki {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

Error sslError(const std::string& what) { return internalError("OpenSSL: " + what); }

Result<PKey> newKey() {
  PKey key(EVP_EC_gen("P-256"));
  if (!key) return sslError("EC key generation failed");
  return key;
}

std::string toPem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string keyToPem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<Cert> parseCert(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Cert c(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!c) return invalidArgument("not a PEM certificate");
  return c;
}

Result<PKey> parseKey(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PKey k(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!k) return invalidArgument("not a PEM private key");
  return k;
}

bool addExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A fresh certificate with a random 128-bit serial and the given validity window.
Result<Cert> baseCert(const std::string& cn, std::chrono::system_clock::time_point notBefore, std::chrono::seconds validity) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  time_t start = std::chrono::system_clock::to_time_t(notBefore);
  X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, 0, &start);
  X509_time_adj_ex(X509_getm_notAfter(cert.get()), 0, static_cast<long>(validity.count()), &start);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

}  // namespace

Result<KeyPair> createCa(const CaOptions& options) {
  auto key = newKey();
  if (!key.ok()) return key.error();
  auto cert = baseCert(options.commonName, std::chrono::system_clock::now() - std::chrono::minutes(5), options.validity);
  if (!cert.ok()) return cert.error();
  X509_set_issuer_name(cert->get(), X509_get_subject_name(cert->get()));
  X509_set_pubkey(cert->get(), key->get());
  if (!addExt(cert->get(), cert->get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !addExt(cert->get(), cert->get(), NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature") ||
      !addExt(cert->get(), cert->get(), NID_subject_key_identifier, "hash")) {
    return sslError("CA extensions");
  }
  if (X509_sign(cert->get(), key->get(), EVP_sha256()) == 0) return sslError("signing the CA");
  return KeyPair{toPem(cert->get()), keyToPem(key->get())};
}

Result<KeyPair> issueServerCert(const KeyPair& ca, const ServerCertOptions& options) {
  auto caCert = parseCert(ca.certificatePem);
  if (!caCert.ok()) return caCert.error().wrap("CA certificate");
  auto caKey = parseKey(ca.privateKeyPem);
  if (!caKey.ok()) return caKey.error().wrap("CA key");
  auto key = newKey();
  if (!key.ok()) return key.error();
  auto cert = baseCert(options.commonName, options.notBefore, options.validity);
  if (!cert.ok()) return cert.error();
  X509_set_issuer_name(cert->get(), X509_get_subject_name(caCert->get()));
  X509_set_pubkey(cert->get(), key->get());
  std::string san;
  for (const auto& d : options.dnsNames) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& ip : options.ipAddresses) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  if (san.empty()) return invalidArgument("a server certificate needs at least one DNS name or IP address");
  if (!addExt(cert->get(), caCert->get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !addExt(cert->get(), caCert->get(), NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
      !addExt(cert->get(), caCert->get(), NID_ext_key_usage,
              options.clientAuth ? "serverAuth,clientAuth" : "serverAuth") ||
      !addExt(cert->get(), caCert->get(), NID_subject_alt_name, san) ||
      !addExt(cert->get(), caCert->get(), NID_authority_key_identifier, "keyid:always")) {
    return sslError("server certificate extensions");
  }
  if (X509_sign(cert->get(), caKey->get(), EVP_sha256()) == 0) return sslError("signing the server certificate");
  return KeyPair{toPem(cert->get()), keyToPem(key->get())};
}

Result<std::chrono::system_clock::time_point> notAfter(const std::string& pem) {
  auto cert = parseCert(pem);
  if (!cert.ok()) return cert.error();
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert->get()), &tm) != 1) return sslError("reading notAfter");
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

Result<std::chrono::system_clock::time_point> notBefore(const std::string& pem) {
  auto cert = parseCert(pem);
  if (!cert.ok()) return cert.error();
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notBefore(cert->get()), &tm) != 1) return sslError("reading notBefore");
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

Result<std::vector<std::string>> subjectAltNames(const std::string& pem) {
  auto cert = parseCert(pem);
  if (!cert.ok()) return cert.error();
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert->get(), NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      const ASN1_IA5STRING* d = n->d.dNSName;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(d)), static_cast<size_t>(ASN1_STRING_length(d)));
    } else if (n->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = n->d.iPAddress;
      char buf[64] = {0};
      if (ASN1_STRING_length(ip) == 4) {
        inet_ntop(AF_INET, ASN1_STRING_get0_data(ip), buf, sizeof buf);
      } else if (ASN1_STRING_length(ip) == 16) {
        inet_ntop(AF_INET6, ASN1_STRING_get0_data(ip), buf, sizeof buf);
      }
      out.emplace_back(buf);
    }
  }
  GENERAL_NAMES_free(names);
  std::sort(out.begin(), out.end());
  return out;
}

bool issuedBy(const std::string& pem, const std::string& caPem) {
  auto cert = parseCert(pem);
  auto ca = parseCert(caPem);
  if (!cert.ok() || !ca.ok()) return false;
  EVP_PKEY* key = X509_get0_pubkey(ca->get());
  return key != nullptr && X509_verify(cert->get(), key) == 1;
}

Result<std::string> serialHex(const std::string& pem) {
  auto cert = parseCert(pem);
  if (!cert.ok()) return cert.error();
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert->get()), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string out(hex);
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

}  // namespace sdb::pki
