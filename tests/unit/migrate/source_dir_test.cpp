#include "operator/migrate/source_dir.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace sdb::migrate {
namespace {

namespace fs = std::filesystem;

class SourceDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sdb-migrate-src-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }
  // The layout the kubelet gives a mounted ConfigMap: the keys live in a timestamped directory,
  // `..data` links to it, and each key is a link through `..data`.
  void mountLikeKubelet(const std::vector<std::pair<std::string, std::string>>& keys) {
    const fs::path stamped = dir_ / "..2024_05_01_10_00_00.123456789";
    for (const auto& [k, v] : keys) write(stamped / k, v);
    fs::create_directory_symlink(stamped.filename(), dir_ / "..data");
    for (const auto& [k, v] : keys) fs::create_symlink(fs::path("..data") / k, dir_ / k);
  }
  fs::path dir_;
};

TEST_F(SourceDirTest, ReadsAConfigMapMountInVersionOrderAndWarnsAboutOtherFiles) {
  mountLikeKubelet({{"V10__ten.sql", "SELECT 10;"}, {"V2__two.sql", "SELECT 2;"}, {"README.md", "notes"}});
  write(dir_ / ".hidden.sql", "not a migration");
  auto loaded = loadMigrations(dir_.string());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_EQ(loaded->files.size(), 2u);
  EXPECT_EQ(loaded->files[0].fileName, "V2__two.sql");
  EXPECT_EQ(loaded->files[0].sql, "SELECT 2;");
  EXPECT_EQ(loaded->files[1].fileName, "V10__ten.sql");
  EXPECT_EQ(loaded->warnings, std::vector<std::string>{"ignoring README.md: not a .sql file"});
}

TEST_F(SourceDirTest, ABadSqlNameOrADuplicateVersionIsAnErrorNamingTheFile) {
  write(dir_ / "V1__init.sql", "SELECT 1;");
  write(dir_ / "V2_oops.sql", "SELECT 2;");
  auto bad = loadMigrations(dir_.string());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("\"V2_oops.sql\""), std::string::npos) << bad.error().message;
  fs::remove(dir_ / "V2_oops.sql");
  write(dir_ / "V1_0__same.sql", "SELECT 1;");
  auto dup = loadMigrations(dir_.string());
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("V1_0__same.sql and V1__init.sql have the same version 1"), std::string::npos)
      << dup.error().message;
}

TEST_F(SourceDirTest, EmptyDirectoryIsNothingAndAMissingOneIsAnError) {
  auto empty = loadMigrations(dir_.string());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->files.empty());
  auto missing = loadMigrations((dir_ / "nope").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kIO);
}

}  // namespace
}  // namespace sdb::migrate
