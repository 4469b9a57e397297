// CommandsTarget with real processes: every command gets the whole stream, one that may stop early
// can close its stdin, and a failing or killed command is reported by name.
#include "operator/backup/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sdb::backup {
namespace {

namespace fs = std::filesystem;

struct IgnoreSigpipe {
  IgnoreSigpipe() { signal(SIGPIPE, SIG_IGN); }
} ignoreSigpipe;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class CommandsTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sdb-commands-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& n) const { return (dir_ / n).string(); }
  static Status feed(CommandsTarget& t, size_t bytes) {
    std::string chunk(64 * 1024, 'x');
    for (size_t sent = 0; sent < bytes; sent += chunk.size()) {
      SDB_TRY(t.write(reinterpret_cast<const uint8_t*>(chunk.data()), std::min(chunk.size(), bytes - sent)));
    }
    return okStatus();
  }
  fs::path dir_;
};

TEST_F(CommandsTargetTest, EveryCommandGetsTheWholeStream) {
  CommandsTarget t({{{"sh", "-c", "cat > " + path("a")}, false}, {{"sh", "-c", "wc -c > " + path("b")}, false}});
  ASSERT_TRUE(t.start().ok());
  ASSERT_TRUE(feed(t, 3 * 1024 * 1024).ok());
  ASSERT_TRUE(t.commit().ok());
  EXPECT_EQ(fs::file_size(path("a")), 3u * 1024 * 1024);
  EXPECT_EQ(std::stoul(slurp(path("b"))), 3u * 1024 * 1024);
}

TEST_F(CommandsTargetTest, ACommandThatMayStopEarlyStopsWithoutFailingTheOthers) {
  CommandsTarget t({{{"sh", "-c", "cat > " + path("all")}, false}, {{"head", "-c", "10"}, true}});
  ASSERT_TRUE(t.start().ok());
  ASSERT_TRUE(feed(t, 8 * 1024 * 1024).ok());  // far past any pipe buffer: head is gone by then
  ASSERT_TRUE(t.commit().ok());
  EXPECT_EQ(fs::file_size(path("all")), 8u * 1024 * 1024);
}

TEST_F(CommandsTargetTest, ACommandThatMayNotStopEarlyFailsTheWrite) {
  CommandsTarget t({{{"head", "-c", "10"}, false}});
  ASSERT_TRUE(t.start().ok());
  Status s = feed(t, 8 * 1024 * 1024);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("head stopped reading"), std::string::npos) << s.error().message;
  t.abort();
}

TEST_F(CommandsTargetTest, ANonZeroExitFailsTheCommitNamingTheCommand) {
  CommandsTarget t({{{"sh", "-c", "cat >/dev/null"}, false}, {{"sh", "-c", "cat >/dev/null; exit 3"}, false}});
  ASSERT_TRUE(t.start().ok());
  ASSERT_TRUE(feed(t, 1000).ok());
  Status s = t.commit();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "sh exited with 3");
}

TEST_F(CommandsTargetTest, AbortKillsEveryCommandBeforeItSeesTheEnd) {
  // A command that would create its file only after reading to the end never does.
  CommandsTarget t({{{"sh", "-c", "cat >/dev/null && touch " + path("finished")}, false}});
  ASSERT_TRUE(t.start().ok());
  ASSERT_TRUE(feed(t, 1000).ok());
  t.abort();
  EXPECT_FALSE(fs::exists(path("finished")));
}

TEST_F(CommandsTargetTest, AMissingProgramFailsTheCommit) {
  CommandsTarget t({{{"/nonexistent/servicedb-tool"}, true}});
  ASSERT_TRUE(t.start().ok());
  (void)feed(t, 1000);
  Status s = t.commit();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("exited with 127"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace sdb::backup
