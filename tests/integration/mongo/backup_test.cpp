// The real MongoDB backup round trip through `servicedb-operator backup|restore --engine mongodb`:
// runs only where a MongoDB (see mongo_test_support.h) and mongodump/mongorestore (MongoDB's
// database tools, not packaged by Debian) are available; skipped with the reason elsewhere.
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "operator/engines/mongo/credentials.h"
#include "tests/integration/mongo/mongo_test_support.h"

namespace sdb::engines::mongo {
namespace {

namespace fs = std::filesystem;

class MongoBackupIntegration : public MongoServerTest {
 protected:
  void SetUp() override {
    MongoServerTest::SetUp();
    if (IsSkipped()) return;
    if (sdb::testing::findOnPath("mongodump").empty() || sdb::testing::findOnPath("mongorestore").empty())
      GTEST_SKIP() << "MongoDB backup round trip skipped: mongodump/mongorestore not on PATH (MongoDB's database tools "
                      "are not packaged by Debian)";
    char tmpl[] = "/tmp/sdb-mongobk.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "keys");
    std::ofstream(dir_ / "keys/k1") << std::string(64, 'a') << "\n";
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  // Runs the operator binary with MONGODB_URI/MONGODB_TLS_CA_FILE in its environment; exit code.
  int op(const std::string& args, const ConnectionOptions& as) {
    ::setenv("MONGODB_URI", as.uri.c_str(), 1);
    ::setenv("MONGODB_TLS_CA_FILE", server_->caFile().c_str(), 1);
    const std::string bin = std::string(std::getenv("SERVICEDB_BINARY_DIR")) + "/bin/servicedb-operator";
    int rc = std::system((bin + " " + args + " >" + (dir_ / "out.txt").string() + " 2>&1").c_str());
    ::unsetenv("MONGODB_URI");
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
  }
  long count(const std::string& db) {
    auto r = server_->rootCommand(db, R"({"count": "items"})");
    return r.ok() ? r->value("n", -1L) : -1L;
  }
  fs::path dir_;
};

TEST_F(MongoBackupIntegration, BackupRestoreRoundTripIntoAFreshDatabase) {
  MongoEngine e = engine();
  auto in = input(ns("bk"), "svc", "uid-1");
  ASSERT_TRUE(e.reconcile(in).ok());
  Names n = *namesFor(in.id);
  std::string docs;
  for (int i = 0; i < 2000; ++i) docs += (i ? "," : "") + std::string(R"({"i": )") + std::to_string(i) + "}";
  ASSERT_TRUE(as(n.appUser, "app-pw-1", n.database, R"({"insert": "items", "documents": [)" + docs + "]}").ok());
  const std::string common = "--engine mongodb --target " + in.id.namespaceName + "/svc --destination dir:" +
                             (dir_ / "dest").string() + " --keys-dir " + (dir_ / "keys").string();
  const ConnectionOptions app = server_->as(n.appUser, "app-pw-1", n.database);

  ASSERT_EQ(op("backup " + common + " --backup-id b1", app), 0) << std::ifstream(dir_ / "out.txt").rdbuf();
  const std::string into = n.database.substr(0, 50) + "_r1";
  ASSERT_EQ(op("restore " + common + " --backup-id b1 --into " + into, server_->root()), 0)
      << std::ifstream(dir_ / "out.txt").rdbuf();
  EXPECT_EQ(count(into), 2000);
  auto marker = server_->rootCommand(into, R"({"find": "_servicedb"})");
  EXPECT_TRUE((*marker)["cursor"]["firstBatch"].empty()) << "the ownership marker is not part of a backup";
  EXPECT_EQ(op("restore " + common + " --backup-id b1 --into " + into, server_->root()), 2) << "only into a fresh database";

  fs::path stream = dir_ / "dest" / in.id.namespaceName / "svc" / "b1.sdbk";
  std::string bytes;
  {
    std::ifstream f(stream, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  bytes[bytes.size() - 20] ^= 1;
  std::ofstream(stream, std::ios::binary | std::ios::trunc) << bytes;
  const std::string bad = n.database.substr(0, 50) + "_r2";
  EXPECT_EQ(op("restore " + common + " --backup-id b1 --into " + bad, server_->root()), 1);
  auto listed = server_->rootCommand("admin", R"({"listDatabases": 1, "nameOnly": true})");
  for (const auto& d : (*listed)["databases"]) EXPECT_NE(d["name"], bad) << "a failed restore leaves no database";
  (void)server_->rootCommand(into, R"({"dropDatabase": 1})");
}

}  // namespace
}  // namespace sdb::engines::mongo
