// The key guard (key_guard.h): which key ids the retained backups of a target use, read from
// manifests only, and the message that names a missing key and the backups that need it.
#include "operator/backup/key_guard.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "operator/backup/runner.h"

namespace sdb::backup {
namespace {

namespace fs = std::filesystem;

// A pass-through Destination that records every path opened for reading.
class RecordingDestination final : public Destination {
 public:
  explicit RecordingDestination(std::unique_ptr<Destination> inner) : inner_(std::move(inner)) {}
  std::vector<std::string> opened;
  Result<std::unique_ptr<ObjectWriter>> create(const std::string& p) override { return inner_->create(p); }
  Result<std::unique_ptr<ObjectReader>> open(const std::string& p) override {
    opened.push_back(p);
    return inner_->open(p);
  }
  Result<std::vector<std::string>> list(const std::string& p) override { return inner_->list(p); }
  Status remove(const std::string& p) override { return inner_->remove(p); }
  std::string describe() const override { return inner_->describe(); }

 private:
  std::unique_ptr<Destination> inner_;
};

class SmallDump final : public DumpSource {
 public:
  std::string tool() const override { return "test"; }
  Status run(const Sink& sink) override {
    std::string data(10000, 'x');
    return sink(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  }
};

class KeyGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("sdb-keyguard-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    auto d = Destination::parse("dir:" + root_.string());
    ASSERT_TRUE(d.ok());
    dest_ = std::make_unique<RecordingDestination>(std::move(*d));
  }
  void TearDown() override { fs::remove_all(root_); }

  void backup(const std::string& target, const std::string& id, const std::string& keyId) {
    SmallDump dump;
    BackupRequest req;
    req.engine = "postgres";
    req.target = target;
    req.backupId = id;
    req.keyId = keyId;
    req.key.fill(static_cast<uint8_t>(keyId.size()));
    req.source = &dump;
    auto m = runBackup(req, *dest_);
    ASSERT_TRUE(m.ok()) << m.error().message;
  }
  void writeFile(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }

  fs::path root_;
  std::unique_ptr<RecordingDestination> dest_;
};

TEST_F(KeyGuardTest, ReadsTheKeyIdOfEveryRetainedBackupFromManifestsOnly) {
  backup("shop/orders", "b1", "k-2025");
  backup("shop/orders", "b2", "k-2025");
  backup("shop/orders", "b3", "k-2026");
  backup("shop/orders-eu", "x1", "k-other");  // another target: a sibling directory, not ours
  writeFile("shop/orders/b4.sdbk", "a stream whose manifest was never written (incomplete backup)");
  dest_->opened.clear();

  auto usage = keyIdsInUse(*dest_, "shop/orders");
  ASSERT_TRUE(usage.ok()) << usage.error().message;
  EXPECT_EQ(usage->target, "shop/orders");
  std::map<std::string, std::vector<std::string>> want = {{"k-2025", {"b1", "b2"}}, {"k-2026", {"b3"}}};
  EXPECT_EQ(usage->backupsByKeyId, want);
  EXPECT_TRUE(usage->unreadable.empty());
  ASSERT_EQ(dest_->opened.size(), 3u) << "one read per complete backup";
  for (const auto& p : dest_->opened) {
    EXPECT_TRUE(p.size() > 14 && p.compare(p.size() - 14, 14, ".manifest.json") == 0)
        << "only manifests are read, never a stream or the access log: " << p;
  }
}

TEST_F(KeyGuardTest, UnreadableManifestsAreReportedNotGuessed) {
  backup("shop/orders", "b1", "k1");
  writeFile("shop/orders/b2.manifest.json", "{not json");
  writeFile("shop/orders/b3.manifest.json", R"({"id":"b3","target":"shop/orders"})");
  writeFile("shop/orders/b4.manifest.json", R"({"id":"b4","keyId":7})");
  auto usage = keyIdsInUse(*dest_, "shop/orders");
  ASSERT_TRUE(usage.ok()) << usage.error().message;
  EXPECT_EQ(usage->backupsByKeyId.size(), 1u);
  ASSERT_EQ(usage->unreadable.size(), 3u);
  EXPECT_EQ(usage->unreadable[0].rfind("b2: manifest of b2", 0), 0u) << usage->unreadable[0];
  EXPECT_EQ(usage->unreadable[1], "b3: manifest has no keyId");
  EXPECT_EQ(usage->unreadable[2], "b4: manifest has no keyId");
}

TEST_F(KeyGuardTest, NoBackupsMeansNoKeyInUse) {
  auto usage = keyIdsInUse(*dest_, "shop/none");
  ASSERT_TRUE(usage.ok());
  EXPECT_TRUE(usage->backupsByKeyId.empty());
  EXPECT_TRUE(missingKeys(*usage, {}).empty());
}

TEST(KeyGuard, MissingKeysAreThoseInUseButNotAvailable) {
  KeyUsage usage;
  usage.target = "shop/orders";
  usage.backupsByKeyId = {{"k-2025", {"b1", "b2"}}, {"k-2026", {"b3"}}, {"k-2027", {"b4"}}};
  auto missing = missingKeys(usage, {"k-2026", "k-unused"});
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_EQ(missing[0].keyId, "k-2025");
  EXPECT_EQ(missing[0].backupIds, (std::vector<std::string>{"b1", "b2"}));
  EXPECT_EQ(missing[1].keyId, "k-2027");
  EXPECT_TRUE(missingKeys(usage, {"k-2025", "k-2026", "k-2027"}).empty());
}

TEST(KeyGuard, MessageNamesTheKeyTheBackupsAndTheRemedy) {
  EXPECT_EQ(describeMissingKey({"k-2025", {"b1", "b2"}}, "shop/orders"),
            "key \"k-2025\" is still used by retained backups b1, b2 of shop/orders; put it back into the key Secret");
  EXPECT_EQ(describeMissingKey({"k-2025", {"b1"}}, "shop/orders"),
            "key \"k-2025\" is still used by retained backup b1 of shop/orders; put it back into the key Secret");
  EXPECT_EQ(describeMissingKey({"k", {"a", "b", "c", "d"}}, "ns/n", 2),
            "key \"k\" is still used by retained backups a, b and 2 more of ns/n; put it back into the key Secret");
}

}  // namespace
}  // namespace sdb::backup
