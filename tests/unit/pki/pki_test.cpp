// Certificates checked by an outside verifier: `openssl verify` and `openssl x509`.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "operator/pki/pki.h"

namespace sdb::pki {
namespace {

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  char buf[512];
  while (p && fgets(buf, sizeof buf, p)) out += buf;
  if (p) pclose(p);
  return out;
}

TEST(Pki, ServerCertificateVerifiesAgainstItsCaWithSans) {
  auto ca = createCa({});
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  ServerCertOptions o;
  o.commonName = "orders.shop.svc";
  o.dnsNames = {"orders", "orders.shop.svc", "orders.shop.svc.cluster.local"};
  o.ipAddresses = {"198.19.0.7"};
  auto server = issueServerCert(*ca, o);
  ASSERT_TRUE(server.ok()) << server.error().message;
  auto dir = std::filesystem::temp_directory_path() / ("sdb-pki-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "ca.crt") << ca->certificatePem;
  std::ofstream(dir / "server.crt") << server->certificatePem;
  EXPECT_NE(run("openssl verify -CAfile " + (dir / "ca.crt").string() + " -verify_hostname orders.shop.svc " +
                (dir / "server.crt").string()).find(": OK"), std::string::npos);
  EXPECT_NE(run("openssl verify -CAfile " + (dir / "ca.crt").string() + " -verify_ip 198.19.0.7 " + (dir / "server.crt").string())
                .find(": OK"), std::string::npos);
  EXPECT_EQ(run("openssl verify -CAfile " + (dir / "ca.crt").string() + " -verify_hostname other.svc " + (dir / "server.crt").string())
                .find(": OK"), std::string::npos);
  std::string text = run("openssl x509 -noout -text -in " + (dir / "server.crt").string());
  EXPECT_NE(text.find("prime256v1"), std::string::npos);
  EXPECT_NE(text.find("TLS Web Server Authentication"), std::string::npos);
  auto expiry = notAfter(server->certificatePem);
  ASSERT_TRUE(expiry.ok());
  auto days = std::chrono::duration_cast<std::chrono::hours>(*expiry - std::chrono::system_clock::now()).count() / 24;
  EXPECT_NEAR(days, 90, 1);
  auto again = issueServerCert(*ca, o);
  EXPECT_NE(*serialHex(server->certificatePem), *serialHex(again->certificatePem));
  std::filesystem::remove_all(dir);
}

TEST(Pki, NeedsASubjectAltName) {
  auto ca = createCa({});
  auto s = issueServerCert(*ca, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "a server certificate needs at least one DNS name or IP address");
}

TEST(Pki, ReadsBackValidityWindowSansAndIssuer) {
  auto ca = createCa({});
  auto otherCa = createCa({});
  ASSERT_TRUE(ca.ok() && otherCa.ok());
  ServerCertOptions o;
  o.commonName = "db";
  o.dnsNames = {"db.shop.svc", "db"};
  o.ipAddresses = {"198.19.0.9"};
  o.validity = std::chrono::seconds(90);
  auto server = issueServerCert(*ca, o);
  ASSERT_TRUE(server.ok()) << server.error().message;
  auto from = notBefore(server->certificatePem);
  auto to = notAfter(server->certificatePem);
  ASSERT_TRUE(from.ok() && to.ok());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(*to - *from).count(), 90);
  auto sans = subjectAltNames(server->certificatePem);
  ASSERT_TRUE(sans.ok()) << sans.error().message;
  EXPECT_EQ(*sans, (std::vector<std::string>{"198.19.0.9", "db", "db.shop.svc"}));
  EXPECT_TRUE(issuedBy(server->certificatePem, ca->certificatePem));
  EXPECT_FALSE(issuedBy(server->certificatePem, otherCa->certificatePem));
  EXPECT_FALSE(issuedBy("not a certificate", ca->certificatePem));
}

}  // namespace
}  // namespace sdb::pki
