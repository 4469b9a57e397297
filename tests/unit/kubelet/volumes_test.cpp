// The atomic writer (..data swap, unchanged content writes nothing) and fsGroup ownership, on a
// temporary directory.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "e2e/kubelet/volumes.h"

namespace sdb::kubelet {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class AtomicWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sdb-atomic-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  FakeClock clock_{std::chrono::system_clock::from_time_t(1764040000)};
};

TEST_F(AtomicWriterTest, UpdatesSwapDataAndNothingChangesWhenNothingChanged) {
  auto first = writeAtomically(dir_.string(), {{"password", {"one", 0600}}, {"sub/dir/file", {"x", 0644}}}, std::nullopt, clock_);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(*first);
  EXPECT_TRUE(fs::is_symlink(dir_ / "..data"));
  EXPECT_TRUE(fs::is_symlink(dir_ / "password"));
  EXPECT_EQ(slurp(dir_ / "password"), "one");
  EXPECT_EQ(slurp(dir_ / "sub" / "dir" / "file"), "x");
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "password").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  const auto before = fs::read_symlink(dir_ / "..data");
  clock_.advance(std::chrono::seconds(5));
  auto same = writeAtomically(dir_.string(), {{"password", {"one", 0600}}, {"sub/dir/file", {"x", 0644}}}, std::nullopt, clock_);
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(*same);
  EXPECT_EQ(fs::read_symlink(dir_ / "..data"), before);
  auto changed = writeAtomically(dir_.string(), {{"password", {"two", 0600}}}, std::nullopt, clock_);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  EXPECT_NE(fs::read_symlink(dir_ / "..data"), before);
  EXPECT_EQ(slurp(dir_ / "password"), "two");
  EXPECT_FALSE(fs::exists(dir_ / "sub")) << "a key that went away goes away";
  EXPECT_FALSE(fs::exists(dir_ / before)) << "the old timestamped directory is removed";
  EXPECT_FALSE(writeAtomically(dir_.string(), {{"../escape", {"x", 0644}}}, std::nullopt, clock_).ok());
}

TEST_F(AtomicWriterTest, FsGroupMakesFilesGroupReadable) {
  if (::geteuid() != 0) GTEST_SKIP() << "chown needs root; skipped";
  auto wrote = writeAtomically(dir_.string(), {{"tls.key", {"k", 0600}}}, 999u, clock_);
  ASSERT_TRUE(wrote.ok()) << wrote.error().message;
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "tls.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u) << "defaultMode 0600 | 0440, as SetVolumeOwnership does for read-only volumes";
  EXPECT_EQ(st.st_gid, 999u);
  EXPECT_EQ(st.st_uid, 0u);
  fs::create_directories(dir_ / "rw" / "nested");
  std::ofstream(dir_ / "rw" / "nested" / "f") << "x";
  ::chmod((dir_ / "rw" / "nested" / "f").c_str(), 0600);
  ASSERT_TRUE(setVolumeOwnership((dir_ / "rw").string(), 2000, false).ok());
  ASSERT_EQ(::stat((dir_ / "rw" / "nested" / "f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_gid, 2000u);
  ASSERT_EQ(::stat((dir_ / "rw" / "nested").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_ISGID);
}

}  // namespace
}  // namespace sdb::kubelet
