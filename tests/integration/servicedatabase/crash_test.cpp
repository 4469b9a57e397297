// kill -9 of the controller process after every API write and every SQL write of provisioning and
// of a rotation, then a rerun: it must converge with exactly the three roles, no pending password,
// and passwords that real psql logs in with. The controller runs as servicedatabase_crash_runner,
// which stops itself right after its N-th write; this test then sends SIGKILL, so nothing after that
// write runs (no destructor, no flush).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/servicedatabase/controller_it_support.h"

using namespace sdb;
using namespace sdb::controllers::servicedatabase;
using namespace sdb::controllers::servicedatabase::testing;

namespace {

struct RunResult {
  bool killed = false;  // stopped at the injected point and killed with SIGKILL
  int exitCode = -1;
  std::string output;
};

class CrashIT : public ControllerIT {
 protected:
  std::string runner() const {
    const char* bin = std::getenv("SERVICEDB_BINARY_DIR");
    return std::string(bin ? bin : "build") + "/bin/servicedatabase_crash_runner";
  }

  // Runs the controller process; with stopAfter > 0, kills it with SIGKILL once it stopped itself.
  RunResult run(const std::string& dir, const std::string& ns, const std::string& name, long stopAfter) {
    int out[2];
    EXPECT_EQ(::pipe(out), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      std::string n = std::to_string(stopAfter);
      ::execl(runner().c_str(), runner().c_str(), "--store", dir.c_str(), "--namespace", ns.c_str(), "--name",
              name.c_str(), "--stop-after", n.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    RunResult r;
    int status = 0;
    ::waitpid(pid, &status, WUNTRACED);
    if (WIFSTOPPED(status)) {
      ::kill(pid, SIGKILL);  // kill -9 at the injected point
      ::waitpid(pid, &status, 0);
      r.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    } else if (WIFEXITED(status)) {
      r.exitCode = WEXITSTATUS(status);
    }
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out[0], buf, sizeof buf)) > 0) r.output.append(buf, static_cast<size_t>(n));
    ::close(out[0]);
    return r;
  }

  // A store on disk with the namespace, the CRDs, the admin Secret and one ServiceDatabase.
  std::string prepare(const std::string& ns, const std::string& name) {
    std::string dir = tmpDir_ + "/store-" + name;
    std::filesystem::create_directories(dir);
    withStore(dir, [&] {
      EXPECT_TRUE(runtime::testing::installServicedbCrds(*inproc_));
      addNamespace(ns);
      create(ns, name);
    });
    return dir;
  }

  template <class F>
  void withStore(const std::string& dir, F f) {
    apimachinery::StoreOptions so;
    so.dataDir = dir;
    auto s = apimachinery::Store::open(so);
    ASSERT_TRUE(s.ok()) << s.error().toString();
    auto local = std::make_unique<apimachinery::InProcessKubeClient>(**s);
    inproc_.swap(local);
    f();
    inproc_.swap(local);
  }

  // The server accepts, for each login, a password its Secret holds (checked at the kill point).
  void expectConsistent(const std::string& dir, const std::string& ns, const std::string& name, const std::string& at) {
    withStore(dir, [&] {
      for (const char* slot : {"", "migration-"}) {
        auto data = secret(ns, name + "-" + slot + "credentials");
        if (data.empty()) continue;
        const std::string role = data["username"];
        if (server_->superuserQuery("SELECT count(*) FROM pg_roles WHERE rolname = '" + role + "'")->value_or("0") ==
            "0")
          continue;  // not created yet: nothing to be consistent with
        bool current = engines::postgres::PgServerTest::login(role, data["password"], "postgres").ok() ||
                       !isAuthFailure(role, data["password"]);
        bool pending = data.count("pending-password") &&
                       (engines::postgres::PgServerTest::login(role, data["pending-password"], "postgres").ok() ||
                        !isAuthFailure(role, data["pending-password"]));
        EXPECT_TRUE(current || pending) << at << ": the server accepts no stored password of " << role;
      }
    });
  }
  bool isAuthFailure(const std::string& role, const std::string& password) {
    auto c = engines::postgres::PgServerTest::login(role, password, "postgres");
    return !c.ok() && c.error().code == ErrorCode::kPermissionDenied;
  }

  void expectConverged(const std::string& dir, const std::string& ns, const std::string& name, const std::string& at) {
    withStore(dir, [&] {
      auto ready = condition(ns, name, "Ready");
      ASSERT_TRUE(ready && ready->status == "True") << at;
      auto app = secret(ns, name + "-credentials"), mig = secret(ns, name + "-migration-credentials");
      EXPECT_EQ(app.count("pending-password"), 0u) << at;
      EXPECT_EQ(mig.count("pending-password"), 0u) << at;
      auto a = psql(app, "SELECT current_user");
      EXPECT_TRUE(a.ok()) << at << ": " << a.output;
      auto m = psql(mig, "SELECT current_user");
      EXPECT_TRUE(m.ok()) << at << ": " << m.output;
    });
    std::string like = ns + "\\_" + name + "\\_%";
    EXPECT_EQ(server_->superuserQuery("SELECT count(*) FROM pg_roles WHERE rolname LIKE '" + like + "'")->value_or(""),
              "3")
        << at << ": orphaned or duplicate roles";
    EXPECT_EQ(server_->superuserQuery("SELECT count(*) FROM pg_database WHERE datname = '" + ns + "_" + name + "'")
                  ->value_or(""),
              "1")
        << at;
  }
};

TEST_F(CrashIT, KillNineAfterEveryWriteOfProvisioningThenRerunConverges) {
  ASSERT_EQ(::access(runner().c_str(), X_OK), 0) << runner();
  long total = 0;
  for (long n = 1;; ++n) {
    const std::string name = "p" + std::to_string(n);
    const std::string dir = prepare("crash", name);
    RunResult killed = run(dir, "crash", name, n);
    if (!killed.killed) {
      ASSERT_EQ(killed.exitCode, 0) << killed.output;
      total = n - 1;
      break;  // n is past the last write: this run completed
    }
    const std::string at = killed.output.substr(0, killed.output.find('\n'));
    std::printf("provisioning, kill -9 %s\n", at.c_str());
    expectConsistent(dir, "crash", name, at);
    RunResult rerun = run(dir, "crash", name, 0);
    ASSERT_EQ(rerun.exitCode, 0) << at << "\n" << rerun.output;
    expectConverged(dir, "crash", name, at);
    // Converged means quiet: one more run writes nothing.
    RunResult quiet = run(dir, "crash", name, 0);
    EXPECT_NE(quiet.output.find("writes=0"), std::string::npos) << at << ": " << quiet.output;
    ASSERT_LT(n, 60) << "runaway";
  }
  // finalizer, 2 Secrets, the engine's actions (>= 10), status, 1 Event.
  EXPECT_GE(total, 15);
  std::printf("provisioning: killed after each of %ld writes\n", total);
}

TEST_F(CrashIT, KillNineAfterEveryWriteOfARotationThenRerunConverges) {
  long total = 0;
  for (long n = 1;; ++n) {
    const std::string name = "r" + std::to_string(n);
    const std::string dir = prepare("crashrot", name);
    ASSERT_EQ(run(dir, "crashrot", name, 0).exitCode, 0);
    std::map<std::string, std::string> before;
    withStore(dir, [&] {
      before = secret("crashrot", name + "-credentials");
      auto p = inproc_->patch(res::kServiceDatabases, "crashrot", name, kube::PatchType::kMerge,
                              R"({"metadata":{"annotations":{"servicedb.io/rotate-credentials":"r1"}}})");
      ASSERT_TRUE(p.ok());
    });
    RunResult killed = run(dir, "crashrot", name, n);
    if (!killed.killed) {
      ASSERT_EQ(killed.exitCode, 0) << killed.output;
      total = n - 1;
      break;
    }
    const std::string at = killed.output.substr(0, killed.output.find('\n'));
    std::printf("rotation, kill -9 %s\n", at.c_str());
    expectConsistent(dir, "crashrot", name, at);
    RunResult rerun = run(dir, "crashrot", name, 0);
    ASSERT_EQ(rerun.exitCode, 0) << at << "\n" << rerun.output;
    expectConverged(dir, "crashrot", name, at);
    withStore(dir, [&] {
      EXPECT_NE(secret("crashrot", name + "-credentials")["password"], before["password"]) << at << ": not rotated";
    });
    ASSERT_LT(n, 40) << "runaway";
  }
  // 2 pending writes, 2 ALTER ROLE, 2 promotions, status, 1 Event.
  EXPECT_GE(total, 8);
  std::printf("rotation: killed after each of %ld writes\n", total);
}

}  // namespace
