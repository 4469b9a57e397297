// servicedb-node-watchdog: cleans up after a local cluster that died without stopping its node
// (kill -9, a crash). The node starts it with the read end of a pipe on fd 3 and keeps the write
// end; the kernel closes that end when the cluster's process dies, however it dies. On EOF the
// watchdog takes the slot's lock (free once its owner is dead) and removes everything of the slot:
// the processes in the pods' network namespaces, the namespaces, veths, bridge, route and nftables
// table. A clean stop writes 'q' first, and the watchdog just exits.
//   servicedb-node-watchdog --lock-dir DIR --slot N
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <string>

#include "e2e/kubelet/cluster_slot.h"
#include "e2e/kubelet/node_network.h"

int main(int argc, char** argv) {
  std::string lockDir;
  int slot = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--lock-dir") lockDir = argv[i + 1];
    else if (flag == "--slot") slot = std::atoi(argv[i + 1]);
  }
  if (lockDir.empty() || slot < 0) {
    std::cerr << "usage: servicedb-node-watchdog --lock-dir DIR --slot N (started by the local node)\n";
    return 2;
  }
  ::setsid();  // outlive a kill of the cluster's process group
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) ::signal(s, SIG_IGN);
  char c = 0;
  ssize_t n;
  while ((n = ::read(3, &c, 1)) < 0 && errno == EINTR) {
  }
  if (n == 1 && c == 'q') return 0;
  auto held = sdb::kubelet::ClusterSlot::lock(lockDir, slot, std::chrono::seconds(30));
  if (!held.ok()) {
    std::cerr << "servicedb-node-watchdog: " << held.error().message << "\n";
    return 1;
  }
  sdb::kubelet::NodeNetwork network(**held);
  auto cleaned = network.tearDown();
  if (!cleaned.ok()) {
    std::cerr << "servicedb-node-watchdog: " << cleaned.error().message << "\n";
    return 1;
  }
  std::cerr << "servicedb-node-watchdog: the local cluster of slot " << slot << " died; its pods' processes and network are removed\n";
  return 0;
}
