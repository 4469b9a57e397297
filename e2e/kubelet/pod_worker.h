// One pod on the node, from its network to its deletion, on its own thread (the kubelet's pod
// worker): network namespace and address, volumes, init containers one by one, then the containers;
// restarts per restartPolicy with the kubelet's back-off (10 s doubling to 5 min, reset after 10 min
// of running; the first restart is immediate); startup, liveness and readiness probes; a container
// whose spec changes (e.g. its image) is restarted; status written through the status subresource
// whenever it changes; graceful termination (the image's stop signal to the container's process
// group, SIGKILL at the grace deadline, then every process left in the pod's namespace) followed by
// the final delete with grace 0.
//
// Contract: the public methods are thread-safe and return at once; the worker thread does the
// work. The NodeServices outlive the worker. Destroying a worker joins its thread (call stop() or
// let the pod be deleted first).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "e2e/kubelet/container_runtime.h"
#include "e2e/kubelet/images.h"
#include "e2e/kubelet/network_policy.h"
#include "e2e/kubelet/node_network.h"
#include "e2e/kubelet/pod_spec.h"
#include "e2e/kubelet/services.h"
#include "e2e/kubelet/volumes.h"
#include "operator/core/clock.h"
#include "operator/kube/api_error.h"

namespace sdb::kubelet {

struct NodeTimings {
  std::chrono::milliseconds tick{200};                 // how often a worker looks at its containers
  std::chrono::milliseconds backoffInitial{10000};
  std::chrono::milliseconds backoffMax{300000};
  std::chrono::milliseconds backoffReset{600000};      // running this long forgets the back-off
  std::chrono::milliseconds configRetry{2000};         // CreateContainerConfigError, FailedMount
  std::chrono::milliseconds volumeResync{60000};       // tokens and missed updates
  std::chrono::seconds shutdownGrace{10};              // cap on a pod's grace when the node stops
};

// The table and hosts data every pod shares, versioned so the newest always wins, and what each pod
// needs to compute its own NetworkPolicy table.
struct NetworkSnapshot {
  uint64_t version = 0;
  std::string table;  // the Service table (services.h) for pods
  std::vector<ServiceView> services;
  std::shared_ptr<const PolicySnapshot> policies;  // null: enforce nothing
};

class NodeServices {
 public:
  virtual ~NodeServices() = default;
  virtual const std::string& nodeName() const = 0;
  virtual std::string hostIP() const = 0;
  virtual std::string nodeDir() const = 0;
  virtual std::string caPem() const = 0;
  virtual std::string clusterDomain() const { return "cluster.local"; }
  virtual NodeNetwork& network() = 0;
  virtual ContainerRuntime& runtime() = 0;
  virtual const ImageTableOptions& imageTable() const = 0;
  virtual const NodeTimings& timings() const = 0;
  virtual Clock& clock() = 0;
  virtual std::string hostPasswd() const = 0;
  virtual std::string hostGroup() const = 0;
  // A free last octet for the pod (its previous address's when free), 0 when the /24 is full.
  virtual int allocateOctet(const std::string& preferredIp) = 0;
  virtual void releaseOctet(int octet) = 0;
  virtual std::shared_ptr<const NetworkSnapshot> networkSnapshot() = 0;
  // The pod `uid` has its sandbox address `ip` ("" when torn down). NetworkPolicy counts the pod at
  // that address from the next publication on, before status.podIP is published, as CNI plugins
  // program policy when the sandbox is created. Returns a ticket for networkPublished().
  virtual uint64_t sandboxAddress(const std::string& uid, const std::string& ip) {
    (void)uid;
    (void)ip;
    return 0;
  }
  // The newest ticket whose publication (every pod's Service and NetworkPolicy tables) is loaded.
  virtual uint64_t networkPublished() const { return UINT64_MAX; }
  virtual std::vector<std::pair<std::string, std::string>> serviceEnv(const std::string& ns) = 0;
  virtual ObjectLookup lookup(const std::string& ns) = 0;
  virtual std::optional<Json> claim(const std::string& ns, const std::string& name) = 0;
  virtual Result<std::pair<std::string, std::chrono::system_clock::time_point>> token(const Json& pod, const std::string& audience,
                                                                                       int64_t expirationSeconds) = 0;
  virtual void event(const Json& pod, const std::string& type, const std::string& reason, const std::string& message) = 0;
  // PUT status (no resourceVersion precondition); NotFound once the pod is gone.
  virtual kube::KResult<Json> writeStatus(const Json& pod, const Json& status) = 0;
  // The kubelet's final delete: grace 0, with the pod's uid as precondition.
  virtual kube::KResult<Json> finishDeletion(const Json& pod) = 0;
};

class PodWorker {
 public:
  PodWorker(NodeServices& node, Json pod);
  ~PodWorker();
  PodWorker(const PodWorker&) = delete;
  PodWorker& operator=(const PodWorker&) = delete;

  void update(Json pod);   // a newer version of the pod object
  void podDeleted();       // the object is gone (force deletion): stop at once, clean up
  void refreshVolumes();   // Secrets/ConfigMaps changed
  // The node is stopping: stop the containers (grace capped by timings().shutdownGrace), remove the
  // network, keep the pod object and its directory for the next start.
  void stop();
  bool done() const { return done_.load(); }

  // Loads the Service table into the pod's namespace and rewrites its hosts file when `snapshot`
  // is newer than what the pod has, and reloads the pod's NetworkPolicy table (`inet sdb-policy`)
  // when its text changes. Called by the node on every change, and by the worker itself.
  void syncNetwork(const std::shared_ptr<const NetworkSnapshot>& snapshot);

  std::string uid() const { return uid_; }
  // Log file of a container: the current run, or the previous one; "" when there is none.
  std::string logFile(const std::string& container, bool previous) const;
  // Whether the container is running now (kubectl logs -f follows until it is not).
  bool containerRunning(const std::string& container) const;

 private:
  struct Terminated {
    int exitCode = 0;
    int signal = 0;
    std::string reason, message;
    std::string startedAt, finishedAt, containerID;
  };
  struct ProbeState {
    int successes = 0, failures = 0;
    std::chrono::steady_clock::time_point next{};
  };
  struct Container {
    std::string name;
    bool init = false;
    Json spec;
    std::string specHash;
    pid_t pid = 0;
    int restartCount = 0;
    int runs = 0;  // runs of this worker (log files)
    std::string startedAt;
    std::chrono::steady_clock::time_point startedMono{};
    std::string containerID;
    std::optional<Terminated> current, last;
    std::string waitingReason = "ContainerCreating", waitingMessage;
    bool everStarted = false;
    bool ready = false, started = false;
    bool completed = false;  // init container that exited 0
    std::chrono::steady_clock::time_point notBefore{};  // back-off
    std::chrono::milliseconds backoff{0};
    std::chrono::steady_clock::time_point killDeadline{};
    bool stopping = false;
    bool restartAfterStop = false;
    ProbeState startup, liveness, readiness;
    Image image;
    ResolvedContainer resolved;
    ContainerLaunch launch;
  };

  void run();
  bool tick();  // false when the worker is finished
  bool prepare();
  void startContainer(Container& c);
  void reap(Container& c);
  void probe(Container& c);
  void stopContainer(Container& c, std::chrono::milliseconds grace, const std::string& why);
  bool terminate(std::chrono::milliseconds grace, bool finalDelete);
  void teardownNetwork();
  void writeStatus();
  Json computeStatus();
  std::string phase() const;
  std::string restartPolicy() const;
  void setContainerSpecs(const Json& pod);
  Result<ContainerLaunch> buildLaunch(Container& c);
  std::string podDir() const;
  bool waitFor(std::chrono::milliseconds d);

  NodeServices& node_;
  const std::string uid_;

  mutable std::mutex mu_;  // pod_, flags, network, containers' pid/logs for readers
  std::condition_variable cv_;
  Json pod_;
  bool podChanged_ = true;
  bool deleted_ = false;
  bool nodeStopping_ = false;
  bool volumesDirty_ = true;
  std::atomic<bool> done_{false};

  // Worker-thread state.
  std::vector<Container> containers_;  // init containers first
  std::optional<PodNetwork> network_;
  uint64_t networkVersion_ = 0;
  std::string hostsWritten_;
  std::string policyWritten_;  // the loaded NetworkPolicy table ("" = none loaded yet)
  PodVolumes volumes_;
  std::map<std::string, PreparedVolume> prepared_;
  uint64_t publishTicket_ = 0;  // containers start once the node published the sandbox address
  std::chrono::steady_clock::time_point publishDeadline_{};
  std::chrono::steady_clock::time_point nextVolumeSync_{}, nextPrepare_{};
  std::string prepareError_, prepareReason_;
  std::string startTime_;
  Json lastStatus_;
  bool terminalTornDown_ = false;
  std::thread thread_;
};

}  // namespace sdb::kubelet
