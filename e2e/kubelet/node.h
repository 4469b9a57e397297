// The local cluster's node: the kubelet, the scheduler's binding step and the Service proxy for one
// machine, in-process with the store (e2e/README.md, "The node").
//
// - prepare() claims the cluster's slot and builds its bridge before the store opens (the slot
//   decides the Service range); start() then watches the store: pods without a node are bound to
//   this one, each pod bound here gets a PodWorker (pod_worker.h); Services, Endpoints and pods
//   feed the Service table and every pod's hosts file; NetworkPolicies, Namespaces and pods feed
//   each pod's policy table (network_policy.h); Secret and ConfigMap changes refresh volumes.
// - It publishes a Node object, the `kubernetes` Service (the slot's .1 clusterIP, port 443) with
//   an Endpoints object pointing at the API server's bridge listener, and Events from the kubelet.
// - It serves pods/log (apimachinery/pod_logs.h).
// - stop() stops every pod (grace capped by timings.shutdownGrace), and removes every namespace,
//   link, route and nftables table of the slot; pods stay in the store and start again next time.
// - If the process dies without stop() (kill -9), servicedb-node-watchdog, started by prepare(),
//   removes all of that, processes included.
//
// Contract: thread-safe. Call stop() before destroying; the store and the token issuer passed to
// start() outlive the node.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "e2e/apimachinery/pod_logs.h"
#include "e2e/apimachinery/service_account_tokens.h"
#include "e2e/apimachinery/store.h"
#include "e2e/kubelet/cluster_slot.h"
#include "e2e/kubelet/pod_worker.h"

namespace sdb::apimachinery {
class InProcessKubeClient;
}
namespace sdb::runtime {
class Informer;
class EventRecorder;
}  // namespace sdb::runtime

namespace sdb::kubelet {

struct NodeOptions {
  std::string dataDir;                  // the local cluster's data dir; the node uses DATA/node
  std::string nodeName = "servicedb-node";
  // Bind unscheduled pods to this node. Off when the workload controllers' scheduler runs, so one
  // scheduler binds each pod.
  bool bindPods = true;
  std::string containerInitPath;        // default: servicedb-container-init next to the executable
  ImageTableOptions images;             // operatorBinary default: servicedb-operator next to the executable
  NodeTimings timings;
  std::string lockDir = "/run/servicedb-localcluster";
  std::string watchdogPath;             // default: servicedb-node-watchdog next to the executable
};

class Node final : public NodeServices, public apimachinery::PodLogSource {
 public:
  // Claims the slot and sets up the bridge. Needs root.
  static Result<std::unique_ptr<Node>> prepare(NodeOptions options);
  ~Node() override;

  const ClusterSlot& slot() const { return *slot_; }

  // Starts running pods. apiPort: where the API server listens on the bridge address; caPem: the
  // cluster CA (ca.crt in pods).
  Status start(apimachinery::Store& store, const apimachinery::ServiceAccountTokens& tokens, int apiPort, std::string caPem);
  void stop();

  // PodLogSource.
  kube::KResult<std::unique_ptr<apimachinery::LogStream>> openLog(const std::string& ns, const std::string& pod,
                                                                  const apimachinery::PodLogOptions& options) override;

  // NodeServices.
  const std::string& nodeName() const override { return options_.nodeName; }
  std::string hostIP() const override { return slot_->bridgeIp(); }
  std::string nodeDir() const override { return nodeDir_; }
  std::string caPem() const override { return caPem_; }
  NodeNetwork& network() override { return *network_; }
  ContainerRuntime& runtime() override { return *runtime_; }
  const ImageTableOptions& imageTable() const override { return options_.images; }
  const NodeTimings& timings() const override { return options_.timings; }
  Clock& clock() override { return SystemClock::instance(); }
  std::string hostPasswd() const override { return hostPasswd_; }
  std::string hostGroup() const override { return hostGroup_; }
  int allocateOctet(const std::string& preferredIp) override;
  void releaseOctet(int octet) override;
  std::shared_ptr<const NetworkSnapshot> networkSnapshot() override;
  uint64_t sandboxAddress(const std::string& uid, const std::string& ip) override;
  uint64_t networkPublished() const override { return networkPublished_.load(); }
  std::vector<std::pair<std::string, std::string>> serviceEnv(const std::string& ns) override;
  ObjectLookup lookup(const std::string& ns) override;
  std::optional<Json> claim(const std::string& ns, const std::string& name) override;
  Result<std::pair<std::string, std::chrono::system_clock::time_point>> token(const Json& pod, const std::string& audience,
                                                                               int64_t expirationSeconds) override;
  void event(const Json& pod, const std::string& type, const std::string& reason, const std::string& message) override;
  kube::KResult<Json> writeStatus(const Json& pod, const Json& status) override;
  kube::KResult<Json> finishDeletion(const Json& pod) override;

 private:
  explicit Node(NodeOptions options);
  void onPod(const Json& pod);
  void onPodDeleted(const Json& pod);
  void markNetworkDirty();
  void proxyLoop();
  void publishNetwork();
  Status ensureClusterObjects(int apiPort);
  Status startWatchdog();
  void markPodsNotReady(const std::string& message);
  std::shared_ptr<PodWorker> workerFor(const std::string& uid);

  NodeOptions options_;
  std::unique_ptr<ClusterSlot> slot_;
  std::unique_ptr<NodeNetwork> network_;
  std::unique_ptr<ContainerRuntime> runtime_;
  std::string nodeDir_, caPem_, hostPasswd_, hostGroup_;
  apimachinery::Store* store_ = nullptr;
  const apimachinery::ServiceAccountTokens* tokens_ = nullptr;
  std::unique_ptr<apimachinery::InProcessKubeClient> client_;
  std::unique_ptr<runtime::EventRecorder> events_;
  std::unique_ptr<runtime::Informer> pods_, services_, endpoints_, secrets_, configMaps_;
  std::unique_ptr<runtime::Informer> namespaces_, networkPolicies_;  // NetworkPolicy enforcement

  std::mutex mu_;  // workers_, octets_, snapshot_
  std::map<std::string, std::shared_ptr<PodWorker>> workers_;  // by pod uid
  std::set<int> octets_;
  std::shared_ptr<const NetworkSnapshot> snapshot_;
  std::map<std::string, std::string> sandboxIps_;  // pod uid -> address, before status.podIP
  std::string hostTable_;

  std::mutex proxyMu_;
  std::condition_variable proxyCv_;
  bool networkDirty_ = true;
  uint64_t networkRequested_ = 0;  // tickets handed out by sandboxAddress
  std::atomic<uint64_t> networkPublished_{0};
  bool volumesDirty_ = false;
  std::atomic<bool> stopping_{false};
  bool started_ = false, stopped_ = false;
  std::thread proxy_;
  int watchdogPipe_ = -1;  // write end; closing it (even by dying) wakes the watchdog
  pid_t watchdog_ = 0;
};

}  // namespace sdb::kubelet
