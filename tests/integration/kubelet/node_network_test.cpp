// NodeNetwork on the real kernel: two pods on the slot's bridge, a Service VIP DNATed at the client
// (pod and host), fast rejects for unserved ports, and nothing of the slot left after tearDown(),
// checked with ip and nft themselves.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <filesystem>
#include <fstream>

#include "e2e/kubelet/node_network.h"
#include "e2e/kubelet/process.h"
#include "e2e/kubelet/services.h"

namespace sdb::kubelet {
namespace {

namespace fs = std::filesystem;

std::string sh(const std::string& cmd, const std::string& netns = "") {
  CommandOptions o;
  o.argv = {"sh", "-c", cmd};
  o.netnsPath = netns;
  o.timeout = std::chrono::seconds(10);
  auto r = runCommand(o);
  return r.ok() ? r->out + r->err : r.error().message;
}

// A python HTTP server in `netns`, on port 8080; returns its pid.
pid_t serveHttp(const std::string& netns, const std::string& dir) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(netns.c_str(), O_RDONLY);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) ::_exit(1);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execlp("python3", "python3", "-m", "http.server", "8080", "--bind", "0.0.0.0", "--directory", dir.c_str(), nullptr);
    ::_exit(127);
  }
  return pid;
}

class NodeNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces, veth, bridge, nftables); skipped";
    dir_ = fs::temp_directory_path() / ("sdb-netns-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    auto slot = ClusterSlot::claim({dir_.string()});
    ASSERT_TRUE(slot.ok()) << slot.error().message;
    slot_ = std::move(*slot);
    net_ = std::make_unique<NodeNetwork>(*slot_);
    auto up = net_->setUp();
    ASSERT_TRUE(up.ok()) << up.error().message;
  }
  void TearDown() override {
    for (pid_t p : servers_) {
      ::kill(p, SIGKILL);
      ::waitpid(p, nullptr, 0);
    }
    if (net_) {
      EXPECT_TRUE(net_->tearDown().ok());
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  fs::path dir_;
  std::unique_ptr<ClusterSlot> slot_;
  std::unique_ptr<NodeNetwork> net_;
  std::vector<pid_t> servers_;
};

TEST_F(NodeNetworkTest, PodsTalkAndAServiceAddressReachesItsEndpointFromPodsAndHost) {
  auto a = net_->createPod(2, "default.a");
  ASSERT_TRUE(a.ok()) << a.error().message;
  auto b = net_->createPod(3, "default.b");
  ASSERT_TRUE(b.ok()) << b.error().message;
  std::ofstream(dir_ / "hello.txt") << "hello from b\n";
  servers_.push_back(serveHttp(b->netnsPath, dir_.string()));
  std::string got;
  for (int i = 0; i < 50 && got.find("hello from b") == std::string::npos; ++i) {
    got = sh("curl -s -m 2 http://" + b->ip + ":8080/hello.txt", a->netnsPath);
    if (got.find("hello from b") == std::string::npos) ::usleep(100000);
  }
  EXPECT_NE(got.find("hello from b"), std::string::npos) << "pod a -> pod b: " << got;

  ServiceView svc;
  svc.ns = "default";
  svc.name = "web";
  svc.clusterIP = slot_->serviceCidrPrefix() + "10";
  svc.ports = {{"http", 80, "TCP", {{b->ip, 8080}}}};
  const std::string table = renderServiceTable(slot_->nftTable(), slot_->serviceCidr(), {svc});
  ASSERT_TRUE(net_->loadRules(a->netnsPath, slot_->nftTable(), table).ok());
  ASSERT_TRUE(net_->loadRules(b->netnsPath, slot_->nftTable(), table).ok());
  ASSERT_TRUE(net_->loadRules("", slot_->nftTable(), table).ok());
  EXPECT_NE(sh("curl -s -m 3 http://" + svc.clusterIP + "/hello.txt", a->netnsPath).find("hello from b"), std::string::npos)
      << "pod -> clusterIP";
  EXPECT_NE(sh("curl -s -m 3 http://" + svc.clusterIP + "/hello.txt", b->netnsPath).find("hello from b"), std::string::npos)
      << "pod -> its own Service (hairpin)";
  EXPECT_NE(sh("curl -s -m 3 http://" + svc.clusterIP + "/hello.txt").find("hello from b"), std::string::npos)
      << "host -> clusterIP";
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_NE(sh("curl -s -m 5 http://" + svc.clusterIP + ":81/ || echo refused", a->netnsPath).find("refused"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2)) << "an unserved port is rejected at once";
  // Loading again replaces the table (one transaction), it does not add to it.
  ASSERT_TRUE(net_->loadRules(a->netnsPath, slot_->nftTable(), table).ok());
  EXPECT_EQ(sh("nft list tables", a->netnsPath), "table ip " + slot_->nftTable() + "\n");

  ASSERT_TRUE(net_->deletePod(*b).ok());
  servers_.clear();
  EXPECT_EQ(sh("ip netns list | grep -c '^" + b->netnsName + "' || true"), "0\n");
}

TEST_F(NodeNetworkTest, TearDownLeavesNothingOfTheSlot) {
  ASSERT_TRUE(net_->createPod(5, "x.y").ok());
  ASSERT_TRUE(net_->loadRules("", slot_->nftTable(), renderServiceTable(slot_->nftTable(), slot_->serviceCidr(), {})).ok());
  ASSERT_TRUE(net_->tearDown().ok());
  EXPECT_EQ(sh("ip netns list | grep -c '^" + slot_->netnsPrefix() + "' || true"), "0\n");
  EXPECT_EQ(sh("ip -o link show | grep -cE ': (" + slot_->vethPrefix() + "[0-9]+|" + slot_->bridgeName() + ")[:@]' || true"), "0\n");
  EXPECT_EQ(sh("nft list tables | grep -cx 'table ip " + slot_->nftTable() + "' || true"), "0\n");
  EXPECT_EQ(sh("ip route show " + slot_->serviceCidr()), "");
  net_.reset();
}

TEST(ClusterSlotTest, ARunningClusterKeepsItsSlotAndAnotherDataDirGetsAnother) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (/run); skipped";
  const fs::path a = fs::temp_directory_path() / ("sdb-slot-a-" + std::to_string(::getpid()));
  const fs::path b = fs::temp_directory_path() / ("sdb-slot-b-" + std::to_string(::getpid()));
  auto first = ClusterSlot::claim({a.string()});
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = ClusterSlot::claim({b.string()});
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_NE((*first)->number(), (*second)->number());
  auto again = ClusterSlot::claim({a.string()});
  EXPECT_FALSE(again.ok()) << "the same data dir twice";
  const int n = (*first)->number();
  first->reset();
  auto restarted = ClusterSlot::claim({a.string()});
  ASSERT_TRUE(restarted.ok()) << restarted.error().message;
  EXPECT_EQ((*restarted)->number(), n) << "a restart keeps the slot";
  fs::remove_all(a);
  fs::remove_all(b);
}

}  // namespace
}  // namespace sdb::kubelet
