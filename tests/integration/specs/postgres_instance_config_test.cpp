// The dedicated PostgreSQL instance's configuration against a real PostgreSQL 15, laid out as the
// pod lays it out: the ConfigMap's postgresql.conf and pg_hba.conf (root-owned, read-only), the TLS
// key root-owned with mode 0640 and the postgres group (as a Secret volume with fsGroup gives it),
// $PGDATA a fresh subdirectory initialised with the StatefulSet's POSTGRES_INITDB_ARGS, and the
// server started as the container starts it: `postgres -c config_file=...`. Only what a
// container on this machine cannot reproduce is overridden, appended after the generated lines:
// the port (a free one), and the absolute paths of the socket directory, hba_file and TLS files.
//
// Needs root (runuser) and /usr/lib/postgresql/15/bin; otherwise every test is skipped with the
// reason. A server that does not start with the generated files fails every test, with its log.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "operator/pki/pki.h"
#include "operator/specs/postgres_instance.h"
#include "tests/integration/fixtures/fixture_util.h"

namespace sdb::specs {
namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin";

Status run(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  if (rc != 0) return ioError("command failed (" + std::to_string(rc) + "): " + cmd);
  return okStatus();
}

std::string output(const std::string& cmd) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
  if (!p) return out;
  char buf[256];
  while (size_t n = std::fread(buf, 1, sizeof buf, p.get())) out.append(buf, n);
  return out;
}

ServiceDatabase instanceSdb() {
  auto s = parseServiceDatabase(Json::parse(R"({"apiVersion": "servicedb.io/v1alpha1", "kind": "ServiceDatabase",
    "metadata": {"name": "orders", "namespace": "shop", "uid": "7d1c2a9e-uid"},
    "spec": {"service": "orders-api", "engine": "postgres", "version": "15"}})"));
  return *s;
}

class PostgresInstanceConfig : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Status s = start();
    if (!s.ok()) (s.error().code == ErrorCode::kFailedPrecondition ? skip_ : failure_) = s.error().toString();
  }
  static void TearDownTestSuite() {
    if (running_) (void)run("runuser -u postgres -- " + std::string(kBin) + "/pg_ctl -D " + dir_ + "/data/pgdata -m immediate stop >/dev/null 2>&1");
    if (!dir_.empty()) (void)run("rm -rf '" + dir_ + "'");
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_TRUE(failure_.empty()) << failure_;
  }

  static Status start() {
    if (::geteuid() != 0) return Error(ErrorCode::kFailedPrecondition, "needs root to run postgres via runuser");
    if (::access((std::string(kBin) + "/initdb").c_str(), X_OK) != 0) {
      return Error(ErrorCode::kFailedPrecondition, std::string(kBin) + "/initdb not found");
    }
    const passwd* pg = ::getpwnam("postgres");
    if (pg == nullptr) return Error(ErrorCode::kFailedPrecondition, "no postgres OS user");
    char tmpl[] = "/tmp/sdb-pgcfg.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return ioError("mkdtemp");
    dir_ = tmpl;
    ::chmod(dir_.c_str(), 0755);

    const ServiceDatabase sdb = instanceSdb();
    PostgresInstanceOptions o;
    o.extraSettings = {{"log_statement", "mod"}};
    auto cm = postgresConfigMap(sdb, o);
    if (!cm.ok()) return cm.error();
    auto sts = postgresStatefulSet(sdb, o, configMapHash(*cm));
    if (!sts.ok()) return sts.error();
    std::string initdbArgs;
    for (const auto& e : (*sts)["spec"]["template"]["spec"]["containers"][0]["env"]) {
      if (e["name"] == "POSTGRES_INITDB_ARGS") initdbArgs = e["value"];
    }

    // The TLS Secret volume: root-owned, group postgres (fsGroup), mode 0640 (defaultMode).
    auto ca = pki::createCa({"servicedb test CA", std::chrono::hours(24)});
    if (!ca.ok()) return ca.error();
    pki::ServerCertOptions sc;
    sc.commonName = instanceNames(sdb).service;
    sc.dnsNames = instanceDnsNames(sdb);
    sc.validity = std::chrono::hours(24);
    sc.notBefore = std::chrono::system_clock::now() - std::chrono::minutes(5);
    auto cert = pki::issueServerCert(*ca, sc);
    if (!cert.ok()) return cert.error();
    for (const char* sub : {"/tls", "/etc", "/run", "/data"}) ::mkdir((dir_ + sub).c_str(), 0755);
    SDB_TRY(testing::writeFile(dir_ + "/tls/tls.crt", cert->certificatePem, 0640));
    SDB_TRY(testing::writeFile(dir_ + "/tls/tls.key", cert->privateKeyPem, 0640));
    SDB_TRY(testing::writeFile(dir_ + "/ca.crt", ca->certificatePem, 0644));
    for (const char* f : {"/tls/tls.crt", "/tls/tls.key"}) {
      if (::chown((dir_ + f).c_str(), 0, pg->pw_gid) != 0) return ioError("chown");
    }
    // emptyDir for the socket; the PVC's root, group-writable by fsGroup.
    if (::chown((dir_ + "/run").c_str(), pg->pw_uid, pg->pw_gid) != 0) return ioError("chown run");
    if (::chown((dir_ + "/data").c_str(), 0, pg->pw_gid) != 0) return ioError("chown data");
    ::chmod((dir_ + "/data").c_str(), 02775);
    // The ConfigMap volume: root-owned files.
    SDB_TRY(testing::writeFile(dir_ + "/etc/pg_hba.conf", (*cm)["data"]["pg_hba.conf"], 0644));
    SDB_TRY(testing::writeFile(dir_ + "/pwfile", password_ + "\n", 0600, pg));

    // What docker-entrypoint does on first start: mkdir $PGDATA, chmod 00700, initdb.
    const std::string pgdata = dir_ + "/data/pgdata";
    SDB_TRY(run("runuser -u postgres -- mkdir -m 0700 " + pgdata));
    SDB_TRY(run("runuser -u postgres -- " + std::string(kBin) + "/initdb -D " + pgdata + " --username=postgres --pwfile=" +
                dir_ + "/pwfile " + initdbArgs + " >" + dir_ + "/initdb.log 2>&1"));
    Status started = okStatus();
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto port = testing::freePort();
      if (!port.ok()) return port.error();
      port_ = *port;
      const std::string overrides = "\n# Test overrides: this machine's paths and a free port.\nport = " + std::to_string(port_) +
                                    "\nunix_socket_directories = '" + dir_ + "/run'\nhba_file = '" + dir_ +
                                    "/etc/pg_hba.conf'\nssl_cert_file = '" + dir_ + "/tls/tls.crt'\nssl_key_file = '" + dir_ +
                                    "/tls/tls.key'\n";
      SDB_TRY(testing::writeFile(dir_ + "/etc/postgresql.conf", (*cm)["data"]["postgresql.conf"].get<std::string>() + overrides, 0644));
      started = run("runuser -u postgres -- " + std::string(kBin) + "/pg_ctl -D " + pgdata + " -o '-c config_file=" + dir_ +
                    "/etc/postgresql.conf' -l " + dir_ + "/run/postgres.log -w -t 30 start >/dev/null 2>&1");
      if (started.ok()) break;
    }
    if (!started.ok()) {
      std::ifstream log(dir_ + "/run/postgres.log");
      std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
      return started.error().wrap("postgres did not start with the generated configuration; log:\n" + text);
    }
    running_ = true;
    return okStatus();
  }

  // The first value of `sql`, or the connection's error.
  static Result<std::string> query(const std::string& conninfo, const std::string& sql) {
    PGconn* c = PQconnectdb((conninfo + " port=" + std::to_string(port_) + " dbname=postgres connect_timeout=5").c_str());
    if (PQstatus(c) != CONNECTION_OK) {
      std::string m = PQerrorMessage(c);
      PQfinish(c);
      return ioError(m);
    }
    PGresult* r = PQexec(c, sql.c_str());
    Result<std::string> out = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0
                                  ? Result<std::string>(std::string(PQgetvalue(r, 0, 0)))
                                  : Result<std::string>(ioError(PQerrorMessage(c)));
    PQclear(r);
    PQfinish(c);
    return out;
  }
  static std::string tls(const std::string& host) {
    return "host=" + host + " hostaddr=127.0.0.1 user=postgres password=" + password_ + " sslmode=verify-full sslrootcert=" +
           dir_ + "/ca.crt";
  }

  static inline std::string dir_, skip_, failure_;
  static inline int port_ = 0;
  static inline bool running_ = false;
  static inline const std::string password_ = "superuser-pw-for-the-test";
};

TEST_F(PostgresInstanceConfig, TlsScramLoginVerifiesEveryServiceName) {
  for (const auto& name : instanceDnsNames(instanceSdb())) {
    auto ssl = query(tls(name), "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    ASSERT_TRUE(ssl.ok()) << name << ": " << ssl.error().message;
    EXPECT_EQ(*ssl, "true") << name;
  }
  auto wrongName = query(tls("orders-postgres.elsewhere"), "SELECT 1");
  ASSERT_FALSE(wrongName.ok());
  EXPECT_NE(wrongName.error().message.find("does not match host name"), std::string::npos) << wrongName.error().message;
}

TEST_F(PostgresInstanceConfig, SettingsAreInEffect) {
  struct Case {
    std::string setting, want;
  };
  for (const auto& c : std::vector<Case>{{"shared_buffers", "128MB"},
                                         {"max_connections", "100"},
                                         {"ssl", "on"},
                                         {"ssl_min_protocol_version", "TLSv1.2"},
                                         {"password_encryption", "scram-sha-256"},
                                         {"listen_addresses", "*"},
                                         {"log_statement", "mod"},
                                         {"hba_file", dir_ + "/etc/pg_hba.conf"},
                                         {"data_directory", dir_ + "/data/pgdata"}}) {
    auto v = query(tls("localhost"), "SHOW " + c.setting);
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(*v, c.want) << c.setting;
  }
  auto errors = query(tls("localhost"), "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL");
  ASSERT_TRUE(errors.ok()) << errors.error().message;
  EXPECT_EQ(*errors, "0");
}

TEST_F(PostgresInstanceConfig, InitdbStoredTheSuperuserPasswordAsScram) {
  auto v = query(tls("localhost"), "SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'postgres'");
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v, "SCRAM-SHA-256$");
}

TEST_F(PostgresInstanceConfig, PlainTextAndWrongPasswordsAreRefused) {
  auto plain = query("host=127.0.0.1 user=postgres password=" + password_ + " sslmode=disable", "SELECT 1");
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.error().message.find("no encryption"), std::string::npos) << plain.error().message;
  auto wrong = query("host=localhost hostaddr=127.0.0.1 user=postgres password=nope sslmode=require", "SELECT 1");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("password authentication failed"), std::string::npos) << wrong.error().message;
}

TEST_F(PostgresInstanceConfig, TheSocketAdmitsOnlyTheMatchingOsUser) {
  auto root = query("host=" + dir_ + "/run user=postgres", "SELECT 1");
  ASSERT_FALSE(root.ok()) << "root is not the postgres OS user";
  EXPECT_NE(root.error().message.find("Peer authentication failed"), std::string::npos) << root.error().message;
  const std::string psql = "runuser -u postgres -- " + std::string(kBin) + "/psql -h " + dir_ + "/run -p " + std::to_string(port_) +
                           " -U postgres -d postgres -tAc 'SELECT current_user' 2>&1";
  EXPECT_EQ(output(psql), "postgres\n");
}

}  // namespace
}  // namespace sdb::specs
