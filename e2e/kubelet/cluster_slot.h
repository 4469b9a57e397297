// A local cluster's slot: the number that keeps its network objects apart from every other local
// cluster running on the same machine (parallel ctest, other developers' tests).
//
// Slot N owns: pod addresses 198.18.N.0/24 (the bridge is .1), Service addresses 198.19.N.0/24
// (kubernetes.default is .1), bridge `sdbbr<N>`, host veths `sdb<N>v<octet>`, network namespaces
// `sdb<N>-<octet>-<namespace>.<pod>` and nftables table `ip sdb<N>`.
//
// Claiming: an exclusive flock(2) on /run/servicedb-localcluster/slot-N.lock, held for the process's
// life (the kernel drops it when the process dies, even by SIGKILL). The slot is persisted in
// DATA/node/slot, so a restart on the same data dir takes the same slot and its Services keep their
// addresses; slot-N.owner names the data dir, so new clusters leave slots of stopped ones alone while
// those data dirs exist. Whoever holds slot N's lock may remove anything named for slot N: its owner
// is dead. A restart on the same data dir waits a few seconds for the lock (the dead cluster's
// watchdog may hold it while it cleans up).
//
// Contract: claim() is safe against concurrent claims by other processes. The object releases the
// lock when destroyed. Accessors are const and thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "operator/core/result.h"

namespace sdb::kubelet {

struct ClusterSlotOptions {
  std::string dataDir;  // the local cluster's data dir
  std::string lockDir = "/run/servicedb-localcluster";
  int slots = 256;
};

class ClusterSlot {
 public:
  static Result<std::unique_ptr<ClusterSlot>> claim(const ClusterSlotOptions& options);
  // Slot `number`'s lock, waiting up to `timeout` (the watchdog cleaning up after a dead cluster).
  static Result<std::unique_ptr<ClusterSlot>> lock(const std::string& lockDir, int number, std::chrono::milliseconds timeout);
  ~ClusterSlot();
  ClusterSlot(const ClusterSlot&) = delete;
  ClusterSlot& operator=(const ClusterSlot&) = delete;

  int number() const { return number_; }
  std::string podPrefix() const { return "198.18." + std::to_string(number_) + "."; }      // + octet
  std::string serviceCidrPrefix() const { return "198.19." + std::to_string(number_) + "."; }
  std::string podCidr() const { return podPrefix() + "0/24"; }
  std::string serviceCidr() const { return serviceCidrPrefix() + "0/24"; }
  std::string bridgeIp() const { return podPrefix() + "1"; }
  std::string kubernetesServiceIp() const { return serviceCidrPrefix() + "1"; }
  std::string bridgeName() const { return "sdbbr" + std::to_string(number_); }
  std::string vethPrefix() const { return "sdb" + std::to_string(number_) + "v"; }
  std::string netnsPrefix() const { return "sdb" + std::to_string(number_) + "-"; }
  std::string nftTable() const { return "sdb" + std::to_string(number_); }

 private:
  ClusterSlot(int number, int lockFd) : number_(number), lockFd_(lockFd) {}
  int number_;
  int lockFd_;
};

}  // namespace sdb::kubelet
