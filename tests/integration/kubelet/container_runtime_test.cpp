// Containers on the real kernel through servicedb-container-init: the root filesystem it builds
// (overlay over the host, fresh /tmp, own hostname, volumes, read-only root), identities, exec into
// a running container, and a clear reason when the program does not exist.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "e2e/kubelet/container_runtime.h"
#include "e2e/kubelet/node_network.h"

namespace sdb::kubelet {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ContainerRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (namespaces, mounts); skipped";
    init_ = std::string(std::getenv("SERVICEDB_BINARY_DIR") ? std::getenv("SERVICEDB_BINARY_DIR") : "build") + "/bin/servicedb-container-init";
    ASSERT_TRUE(fs::exists(init_)) << init_;
    dir_ = fs::temp_directory_path() / ("sdb-ctr-" + std::to_string(::getpid()));
    fs::create_directories(dir_ / "volume");
    fs::create_directories(dir_ / "pod");
    std::ofstream(dir_ / "volume" / "file") << "from the volume\n";
    std::ofstream(dir_ / "pod" / "hosts") << "127.0.0.1 localhost\n198.18.0.9 friend\n";
    // No DNS server in a pod: a refused query fails at once instead of timing out.
    std::ofstream(dir_ / "pod" / "resolv.conf") << "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n";
    auto slot = ClusterSlot::claim({dir_.string()});
    ASSERT_TRUE(slot.ok()) << slot.error().message;
    slot_ = std::move(*slot);
    net_ = std::make_unique<NodeNetwork>(*slot_);
    ASSERT_TRUE(net_->setUp().ok());
    auto pod = net_->createPod(4, "test.ctr");
    ASSERT_TRUE(pod.ok()) << pod.error().message;
    pod_ = *pod;
    runtime_ = std::make_unique<ContainerRuntime>(init_);
  }
  void TearDown() override {
    runtime_.reset();
    if (net_) {
      EXPECT_TRUE(net_->tearDown().ok());
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  ContainerLaunch spec(std::vector<std::string> argv) {
    ContainerLaunch l;
    l.netnsPath = pod_.netnsPath;
    l.stagingDir = (dir_ / ("stage" + std::to_string(++n_))).string();
    l.hostname = "ctr-host";
    l.argv = std::move(argv);
    l.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GREETING=hi"};
    l.mounts = {{(dir_ / "volume").string(), "/data", true}, {(dir_ / "pod").string(), "/run/servicedb/pod", true}};
    l.links = {{"/etc/hosts", "/run/servicedb/pod/hosts"}, {"/etc/resolv.conf", "/run/servicedb/pod/resolv.conf"}};
    l.files = {{"/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nsomeone:x:999:999::/tmp:/bin/sh\n", 0644}};
    return l;
  }
  // Runs to completion; returns exit code and the log.
  std::pair<int, std::string> run(ContainerLaunch l) {
    l.mounts.push_back({(dir_ / "volume").string(), "/var/run/sdb-test-volume", true});
    const std::string log = (dir_ / ("log" + std::to_string(n_))).string();
    auto pid = runtime_->start(l, log);
    EXPECT_TRUE(pid.ok()) << pid.error().message;
    if (!pid.ok()) return {-1, ""};
    int status = 0;
    ::waitpid(*pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), slurp(log)};
  }
  std::string init_;
  fs::path dir_;
  std::unique_ptr<ClusterSlot> slot_;
  std::unique_ptr<NodeNetwork> net_;
  PodNetwork pod_;
  std::unique_ptr<ContainerRuntime> runtime_;
  int n_ = 0;
};

TEST_F(ContainerRuntimeTest, TheContainerSeesItsOwnRootVolumesHostsAndAddress) {
  auto [code, log] = run(spec({"sh", "-c",
                               "echo greeting=$GREETING; echo host=$(hostname); cat /data/file; getent hosts friend; "
                               "echo tmp=$(ls -A /tmp | wc -l); touch /data/x 2>/dev/null || echo volume-ro; "
                               "touch /etc/written && echo root-rw; ip -4 -o addr show eth0 | awk '{print $4}'; "
                               "echo pgid=$(ps -o pgid= -p $$ | tr -d ' ') pid=$$; echo via-symlink=$(cat /var/run/sdb-test-volume/file); exit 3"}));
  EXPECT_EQ(code, 3);
  EXPECT_NE(log.find("greeting=hi\n"), std::string::npos) << log;
  EXPECT_NE(log.find("host=ctr-host\n"), std::string::npos) << log;
  EXPECT_NE(log.find("from the volume\n"), std::string::npos) << log;
  EXPECT_NE(log.find("198.18.0.9      friend"), std::string::npos) << log;
  EXPECT_NE(log.find("tmp=0\n"), std::string::npos) << "a fresh /tmp: " << log;
  EXPECT_NE(log.find("volume-ro\n"), std::string::npos) << log;
  EXPECT_NE(log.find("root-rw\n"), std::string::npos) << log;
  EXPECT_NE(log.find(pod_.ip + "/24"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists("/etc/written")) << "writes stay in the container's layer";
  EXPECT_NE(log.find("via-symlink=from the volume\n"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists("/run/sdb-test-volume")) << "a mount under /var/run (a symlink to /run) stays in the container";
  const auto pgid = log.find("pgid=");
  ASSERT_NE(pgid, std::string::npos);
  std::istringstream ids(log.substr(pgid));
  std::string a, b;
  ids >> a >> b;
  EXPECT_EQ(a.substr(5), b.substr(4)) << "the shell leads its own process group: " << log;
}

TEST_F(ContainerRuntimeTest, ReadOnlyRootUserIdentityAndWorkingDir) {
  auto l = spec({"sh", "-c", "id -u; id -un; id -G; pwd; touch /etc/x 2>/dev/null || echo root-ro; touch /tmp/x 2>/dev/null || echo tmp-ro"});
  l.readOnlyRootFilesystem = true;
  l.uid = 999;
  l.gid = 999;
  l.supplementalGroups = {999, 2000};
  l.workingDir = "/srv/work";
  auto [code, log] = run(l);
  EXPECT_EQ(code, 0) << log;
  EXPECT_EQ(log, "999\nsomeone\n999 2000\n/srv/work\nroot-ro\ntmp-ro\n");
}

TEST_F(ContainerRuntimeTest, AMissingProgramFailsToStartWithItsReason) {
  auto pid = runtime_->start(spec({"no-such-program-here"}), (dir_ / "log-missing").string());
  ASSERT_FALSE(pid.ok());
  EXPECT_EQ(pid.error().message, "exec: \"no-such-program-here\": executable file not found in $PATH");
}

TEST_F(ContainerRuntimeTest, ExecRunsInsideTheRunningContainer) {
  auto l = spec({"sh", "-c", "echo inside > /tmp/marker; exec sleep 30"});
  auto pid = runtime_->start(l, (dir_ / "log-exec").string());
  ASSERT_TRUE(pid.ok()) << pid.error().message;
  ContainerLaunch e = l;
  e.execPid = *pid;
  e.argv = {"sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do [ -f /tmp/marker ] && break; sleep 0.1; done; cat /tmp/marker; hostname; echo $GREETING"};
  auto r = runtime_->exec(e, std::chrono::seconds(10));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exitCode, 0) << r->err;
  EXPECT_EQ(r->out, "inside\nctr-host\nhi\n");
  ::kill(-*pid, SIGKILL);
  ::waitpid(*pid, nullptr, 0);
}

}  // namespace
}  // namespace sdb::kubelet
