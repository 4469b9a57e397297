// PLUMBING ONLY: the mongodump/mongorestore wiring of the backup runners, driven by FAKE tools
// (tests/integration/mongo/fake_tools) that talk to no server. What is proven here: the exact argv,
// that the connection string travels only in a 0600 config file that is removed afterwards, that
// the dump streams through the encryption (several chunks) and back byte for byte, and that a
// failing dump, a failing restore tool and a tampered stream all fail the run. Whether mongodump
// and mongorestore really do what that argv asks is checked only by backup_test.cpp, which needs a
// real MongoDB and the real tools.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "operator/backup/mongo_tools.h"

namespace sdb::backup {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines(const fs::path& p) {
  std::vector<std::string> out;
  std::ifstream in(p);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

class MongoBackupPlumbing : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sdb-mongoplumb.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "tools-out");
    fs::create_directories(dir_ / "tmp");
    const char* src = std::getenv("SERVICEDB_SOURCE_DIR");
    ASSERT_NE(src, nullptr);
    oldPath_ = std::getenv("PATH") ? std::getenv("PATH") : "";
    ::setenv("PATH", (std::string(src) + "/tests/integration/mongo/fake_tools:" + oldPath_).c_str(), 1);
    ::setenv("FAKE_TOOLS_DIR", (dir_ / "tools-out").c_str(), 1);
    ::setenv("TMPDIR", (dir_ / "tmp").c_str(), 1);
    ::unsetenv("FAKE_DUMP_FAIL_AFTER");
    ::unsetenv("FAKE_RESTORE_EXIT");
    auto d = Destination::parse("dir:" + (dir_ / "dest").string());
    ASSERT_TRUE(d.ok()) << d.error().message;
    dest_ = std::move(d).value();
    key_.fill(7);
  }
  void TearDown() override {
    ::setenv("PATH", oldPath_.c_str(), 1);
    ::unsetenv("TMPDIR");
    fs::remove_all(dir_);
  }

  BackupRequest request(const std::string& id) {
    BackupRequest r;
    r.engineVersion = "7.0.0";
    r.target = "a/orders";
    r.backupId = id;
    r.keyId = "k1";
    r.key = key_;
    r.chunkSize = 1 << 20;
    r.actor = "test";
    return r;
  }
  RestoreRequest restoreRequest(const std::string& id) {
    RestoreRequest r;
    r.target = "a/orders";
    r.backupId = id;
    r.keys = {{"k1", key_}};
    r.actor = "test";
    return r;
  }
  bool tmpIsEmpty() const { return fs::is_empty(dir_ / "tmp"); }

  const MongoToolsConnection conn_{"mongodb://a_orders_app:p%40ss@db-0:27017/a_orders?tls=true&authSource=a_orders",
                                   "/var/run/secrets/db/ca.crt"};
  fs::path dir_;
  std::string oldPath_;
  std::unique_ptr<Destination> dest_;
  Key key_{};
};

TEST_F(MongoBackupPlumbing, DumpStreamsThroughEncryptionAndBackByteForByte) {
  ::setenv("FAKE_DUMP_BYTES", std::to_string(5 * (1 << 20) + 123).c_str(), 1);
  auto manifest = backupWithMongodump(request("b1"), conn_, "a_orders", *dest_);
  ASSERT_TRUE(manifest.ok()) << manifest.error().message;
  EXPECT_EQ((*manifest)["engine"], "mongodb");
  EXPECT_EQ((*manifest)["size"], 5 * (1 << 20) + 123);
  EXPECT_EQ((*manifest)["chunks"], 6);

  auto argv = lines(dir_ / "tools-out/mongodump.argv");
  ASSERT_EQ(argv.size(), 4u);
  EXPECT_EQ(argv[0].rfind("--config=" + (dir_ / "tmp").string() + "/sdb-mongotools.", 0), 0u) << argv[0];
  EXPECT_EQ(argv[1], "--archive") << "the archive goes to stdout";
  EXPECT_EQ(argv[2], "--db=a_orders");
  EXPECT_EQ(argv[3], "--excludeCollection=_servicedb");
  for (const auto& a : argv) EXPECT_EQ(a.find("p%40ss"), std::string::npos) << "no secret in argv";
  EXPECT_EQ(slurp(dir_ / "tools-out/mongodump.config-mode"), "600\n");
  EXPECT_EQ(slurp(dir_ / "tools-out/mongodump.config"),
            "uri: \"mongodb://a_orders_app:p%40ss@db-0:27017/a_orders?tls=true&authSource=a_orders"
            "&tlsCAFile=%2Fvar%2Frun%2Fsecrets%2Fdb%2Fca.crt\"\n");
  EXPECT_TRUE(tmpIsEmpty()) << "the config file is removed after the dump";

  const std::string dumped = slurp(dir_ / "tools-out/dumped.bin");
  ASSERT_EQ(dumped.size(), 5u * (1 << 20) + 123);
  const std::string stream = slurp(dir_ / "dest/a/orders/b1.sdbk");
  EXPECT_EQ(stream.find(dumped.substr(1000, 64)), std::string::npos) << "no plaintext in the stream";

  auto restored = restoreWithMongorestore(restoreRequest("latest"), {"mongodb://admin:pw@db-0:27017/?authSource=admin", ""},
                                          "a_orders", "a_orders_restore", *dest_);
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  EXPECT_EQ(slurp(dir_ / "tools-out/restored.bin"), dumped);
  EXPECT_EQ(lines(dir_ / "tools-out/mongorestore.argv"),
            (std::vector<std::string>{lines(dir_ / "tools-out/mongorestore.argv")[0], "--archive", "--nsInclude=a_orders.*",
                                      "--nsFrom=a_orders.*", "--nsTo=a_orders_restore.*", "--stopOnError"}));
  EXPECT_EQ(slurp(dir_ / "tools-out/mongorestore.config-mode"), "600\n");
  EXPECT_TRUE(tmpIsEmpty());
}

TEST_F(MongoBackupPlumbing, AFailingDumpFailsTheBackupAndLeavesNoBackup) {
  ::setenv("FAKE_DUMP_BYTES", "0", 1);
  ::setenv("FAKE_DUMP_FAIL_AFTER", std::to_string(3 * (1 << 20)).c_str(), 1);
  auto manifest = backupWithMongodump(request("b2"), conn_, "a_orders", *dest_);
  ASSERT_FALSE(manifest.ok());
  EXPECT_NE(manifest.error().message.find("mongodump exited with 3"), std::string::npos) << manifest.error().message;
  EXPECT_EQ(latestBackupId(*dest_, "a/orders").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(tmpIsEmpty());
}

TEST_F(MongoBackupPlumbing, AFailingRestoreToolFailsTheRestore) {
  ::setenv("FAKE_DUMP_BYTES", "100000", 1);
  ASSERT_TRUE(backupWithMongodump(request("b3"), conn_, "a_orders", *dest_).ok());
  ::setenv("FAKE_RESTORE_EXIT", "1", 1);
  auto restored = restoreWithMongorestore(restoreRequest("b3"), conn_, "a_orders", "fresh", *dest_);
  ASSERT_FALSE(restored.ok());
  EXPECT_NE(restored.error().message.find("mongorestore exited with 1"), std::string::npos) << restored.error().message;
  EXPECT_TRUE(tmpIsEmpty());
}

TEST_F(MongoBackupPlumbing, ATamperedLastChunkNeverReachesTheRestoreTool) {
  ::setenv("FAKE_DUMP_BYTES", std::to_string(3 * (1 << 20) + 5).c_str(), 1);
  ASSERT_TRUE(backupWithMongodump(request("b4"), conn_, "a_orders", *dest_).ok());
  const std::string dumped = slurp(dir_ / "tools-out/dumped.bin");
  const fs::path file = dir_ / "dest/a/orders/b4.sdbk";
  std::string bytes = slurp(file);
  bytes[bytes.size() - 20] ^= 0x01;  // inside the last chunk's ciphertext
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  auto restored = restoreWithMongorestore(restoreRequest("b4"), conn_, "a_orders", "fresh", *dest_);
  ASSERT_FALSE(restored.ok());
  EXPECT_NE(restored.error().message.find("chunk 3"), std::string::npos) << restored.error().message;
  const std::string got = slurp(dir_ / "tools-out/restored.bin");
  EXPECT_LE(got.size(), 3u * (1 << 20)) << "the tampered chunk's plaintext never reached mongorestore";
  EXPECT_EQ(got, dumped.substr(0, got.size()));
}

}  // namespace
}  // namespace sdb::backup
