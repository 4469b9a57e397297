// `servicedb-operator migrate` as a Job runs it: the real binary, a directory laid out like a mounted
// ConfigMap, the connection from the environment only, two processes at once, and the exit codes
// and summary line the operator reads.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "operator/core/json.h"
#include "tests/integration/migrate/migrate_test_support.h"

extern char** environ;

namespace sdb::migrate {
namespace {

namespace fs = std::filesystem;

std::string readAll(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Finished {
  int exitCode = -1;
  std::string out, err;
  Json summary;  // the last line of stdout
};

// One run of the binary with exactly `env` as its environment; output goes to files (no pipes to
// drain, so two can run at once).
class CliProcess {
 public:
  CliProcess(const std::vector<std::string>& args, const std::vector<std::string>& env, const fs::path& outDir,
             const std::string& tag)
      : out_(outDir / (tag + ".out")), err_(outDir / (tag + ".err")) {
    const fs::path binary = fs::read_symlink("/proc/self/exe").parent_path() / "servicedb-operator";
    std::vector<std::string> argv = {binary.string(), "migrate"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> a, e;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    std::vector<std::string> envCopy = env;
    for (auto& s : envCopy) e.push_back(s.data());
    e.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    spawned_ = posix_spawn(&pid_, a[0], &fa, nullptr, a.data(), e.data()) == 0;
    posix_spawn_file_actions_destroy(&fa);
  }
  Finished wait() {
    Finished f;
    if (!spawned_) return f;
    int status = 0;
    waitpid(pid_, &status, 0);
    f.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    f.out = readAll(out_);
    f.err = readAll(err_);
    std::string last = f.out;
    while (!last.empty() && last.back() == '\n') last.pop_back();
    last = last.substr(last.rfind('\n') == std::string::npos ? 0 : last.rfind('\n') + 1);
    auto j = parseJson(last, "summary line");
    if (j.ok()) f.summary = *j;
    return f;
  }

 private:
  fs::path out_, err_;
  pid_t pid_ = -1;
  bool spawned_ = false;
};

class MigrateCliIT : public MigrateIT {
 protected:
  void SetUp() override {
    MigrateIT::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    char tmpl[] = "/tmp/sdb-migrate-cli-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    work_ = tmpl;
    mount_ = work_ / "migrations";
    mount(kThreeMigrations);
  }
  void TearDown() override {
    if (!work_.empty()) fs::remove_all(work_);
  }
  // Writes the files as the kubelet mounts a ConfigMap: in a timestamped directory behind `..data`,
  // each key a symlink through it. A remount swaps `..data` to a new directory.
  void mount(const std::vector<std::pair<std::string, std::string>>& keys) {
    fs::create_directories(mount_);
    const std::string stamped = "..2024_05_01_10_00_0" + std::to_string(++mounts_);
    fs::create_directory(mount_ / stamped);
    for (const auto& [k, v] : keys) std::ofstream(mount_ / stamped / k, std::ios::binary) << v;
    fs::remove(mount_ / "..data");
    fs::create_directory_symlink(stamped, mount_ / "..data");
    for (const auto& [k, v] : keys)
      if (!fs::is_symlink(mount_ / k)) fs::create_symlink(fs::path("..data") / k, mount_ / k);
  }
  std::vector<std::string> pgEnv() const {
    return {"PATH=/usr/bin:/bin", "PGHOST=" + server_->host(), "PGPORT=" + std::to_string(server_->port()),
            "PGDATABASE=" + names_.database, "PGUSER=" + names_.migrationRole, std::string("PGPASSWORD=") + kMigrationPassword,
            "PGSSLMODE=verify-full", "PGSSLROOTCERT=" + server_->caFile()};
  }
  std::vector<std::string> urlEnv() const {
    return {"PATH=/usr/bin:/bin", "DATABASE_URL=postgresql://" + names_.migrationRole + ":" + kMigrationPassword + "@" +
                                      server_->host() + ":" + std::to_string(server_->port()) + "/" + names_.database +
                                      "?sslmode=verify-full&sslrootcert=" + server_->caFile()};
  }
  Finished run(const std::vector<std::string>& env, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--dir", mount_.string(), "--owner-role", names_.ownerRole};
    args.insert(args.end(), extra.begin(), extra.end());
    return CliProcess(args, env, work_, "run" + std::to_string(++runs_)).wait();
  }
  static void expectNoPassword(const Finished& f) {
    EXPECT_EQ(f.out.find(kMigrationPassword), std::string::npos) << f.out;
    EXPECT_EQ(f.err.find(kMigrationPassword), std::string::npos) << f.err;
  }

  fs::path work_, mount_;
  int mounts_ = 0, runs_ = 0;
};

TEST_F(MigrateCliIT, AppliesAMountedConfigMapAndEndsStdoutWithTheSummary) {
  Finished first = run(pgEnv());
  ASSERT_EQ(first.exitCode, 0) << first.out << first.err;
  EXPECT_EQ(first.summary["type"], "servicedb.io/migration-summary") << first.out;
  EXPECT_EQ(first.summary["result"], "applied");
  EXPECT_EQ(first.summary["schemaVersion"], "3");
  ASSERT_EQ(first.summary["applied"].size(), 3u);
  EXPECT_EQ(first.summary["applied"][2]["file"], "V3__indexes.sql");
  EXPECT_EQ(first.summary["applied"][2]["transactional"], false);
  EXPECT_NE(first.err.find("\"msg\":\"applying\""), std::string::npos) << "the JSON log goes to stderr: " << first.err;
  EXPECT_EQ(first.out.find("\"level\""), std::string::npos) << "stdout holds the summary alone: " << first.out;
  expectNoPassword(first);

  Finished again = run(urlEnv());
  ASSERT_EQ(again.exitCode, 0) << again.out << again.err;
  EXPECT_EQ(again.summary["result"], "upToDate");
  EXPECT_EQ(again.summary["alreadyApplied"], 3);
  expectNoPassword(again);

  auto more = kThreeMigrations;
  more.push_back({"V4__notes.sql", "CREATE TABLE billing.notes (id bigint GENERATED ALWAYS AS IDENTITY, body text);"});
  mount(more);
  Finished fourth = run(pgEnv());
  ASSERT_EQ(fourth.exitCode, 0) << fourth.out << fourth.err;
  EXPECT_EQ(fourth.summary["schemaVersion"], "4");
  EXPECT_EQ(fourth.summary["applied"][0]["version"], "4");
}

TEST_F(MigrateCliIT, TwoProcessesAtOnceApplyEachVersionExactlyOnce) {
  auto slow = kThreeMigrations;
  // Long enough for the second process to start and find the lock taken, even on a loaded machine.
  slow[0].second += "SELECT pg_sleep(1.5);\n";
  mount(slow);
  std::vector<std::string> args = {"--dir", mount_.string(), "--owner-role", names_.ownerRole};
  CliProcess a(args, urlEnv(), work_, "a"), b(args, pgEnv(), work_, "b");
  Finished fa = a.wait(), fb = b.wait();
  ASSERT_EQ(fa.exitCode, 0) << fa.out << fa.err;
  ASSERT_EQ(fb.exitCode, 0) << fb.out << fb.err;
  std::multiset<std::string> results = {fa.summary["result"].get<std::string>(), fb.summary["result"].get<std::string>()};
  EXPECT_EQ(results, (std::multiset<std::string>{"applied", "upToDate"})) << fa.out << fb.out;
  EXPECT_EQ(fa.summary["applied"].size() + fb.summary["applied"].size(), 3u);
  EXPECT_NE((fa.err + fb.err).find("waiting for the migration lock"), std::string::npos) << "the runs did not overlap";
  EXPECT_EQ(value("SELECT string_agg(version || ':' || n, ',' ORDER BY version) FROM "
                  "(SELECT version, count(*) AS n FROM servicedb_schema_history GROUP BY version) h"),
            "1:1,2:1,3:1");
  expectNoPassword(fa);
  expectNoPassword(fb);
}

TEST_F(MigrateCliIT, ExitCodesSayWhetherTheInputOrAMigrationWasAtFault) {
  ASSERT_EQ(run(pgEnv()).exitCode, 0);
  auto bad = kThreeMigrations;
  bad.push_back({"V4__fails.sql", "CREATE TABLE x (id int);\nSELECT 1/0;\n"});
  mount(bad);
  Finished failed = run(pgEnv());
  EXPECT_EQ(failed.exitCode, 1) << failed.out << failed.err;
  EXPECT_EQ(failed.summary["result"], "failed");
  EXPECT_EQ(failed.summary["failure"]["file"], "V4__fails.sql");
  EXPECT_EQ(failed.summary["failure"]["sqlstate"], "22012");  // division_by_zero
  EXPECT_EQ(failed.summary["schemaVersion"], "3");

  auto edited = kThreeMigrations;
  edited[0].second = "-- edited after it was applied\n" + edited[0].second;
  fs::remove(mount_ / "V4__fails.sql");
  mount(edited);
  Finished refused = run(pgEnv());
  EXPECT_EQ(refused.exitCode, 2) << refused.out << refused.err;
  EXPECT_EQ(refused.summary["result"], "refused");
  EXPECT_NE(refused.summary["error"].get<std::string>().find("V1__create_orders.sql has changed"), std::string::npos);

  std::ofstream(mount_ / "V5_no_separator.sql") << "SELECT 1;";
  Finished badName = run(pgEnv());
  EXPECT_EQ(badName.exitCode, 2);
  EXPECT_NE(badName.summary["error"].get<std::string>().find("\"V5_no_separator.sql\""), std::string::npos);

  Finished unreachable = CliProcess({"--dir", mount_.string()}, {"PGHOST=127.0.0.1", "PGPORT=1", "PGCONNECT_TIMEOUT=2"},
                                    work_, "unreachable")
                             .wait();
  EXPECT_EQ(unreachable.exitCode, 2) << "bad names are refused before connecting: " << unreachable.out;
  fs::remove(mount_ / "V5_no_separator.sql");
  // A server that refuses is tried again for --connect-retry (default 30 s), then the run fails.
  const auto started = std::chrono::steady_clock::now();
  Finished down = CliProcess({"--dir", mount_.string(), "--connect-retry", "2s"},
                             {"PGHOST=127.0.0.1", "PGPORT=1", "PGCONNECT_TIMEOUT=2"}, work_, "down")
                      .wait();
  EXPECT_EQ(down.exitCode, 1) << down.out << down.err;
  EXPECT_EQ(down.summary["result"], "failed");
  EXPECT_NE(down.err.find("cannot connect yet; trying again"), std::string::npos) << down.err;
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

}  // namespace
}  // namespace sdb::migrate
