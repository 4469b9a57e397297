// Leader election over a coordination.k8s.io/v1 Lease, after client-go's leaderelection package.
//
// - tryAcquireOrRenew(): one optimistic-concurrency round. Reads the Lease; creates it if missing;
//   takes it if it is free (empty holder) or expired, or renews it if we hold it. Expiry is judged
//   the way client-go does: from the local monotonic time at which *we* last saw the record change,
//   plus leaseDurationSeconds, so clock skew between replicas does not matter. A write races through
//   resourceVersion; a Conflict means someone else won this round.
// - A leader whose last successful renew is older than renewDeadline steps down: onStoppedLeading
//   runs (the manager stops its workers there) before the lease can expire for others
//   (renewDeadline < leaseDuration). Requests must time out within leaseDuration - renewDeadline.
// - release(): on shutdown the holder clears holderIdentity and sets leaseDurationSeconds=1 so a
//   standby takes over at once.
// - One term per elector, as client-go's Run(): once it has stepped down it never leads again and
//   never writes the Lease again (a renew that was in flight when the deadline passed is ignored, and
//   no later round writes), so a slow replica cannot start a second term behind the manager's back;
//   the manager exits and the process restarts as a standby.
//
// Contract: thread-safe. Tests drive tick() with a FakeClock; run() loops tick() every retryPeriod
// (real time) on its own thread, with a watchdog checking the renew deadline every 100 ms.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "operator/core/clock.h"
#include "operator/core/json.h"
#include "operator/kube/client.h"
#include "operator/runtime/metrics.h"

namespace sdb::runtime {

struct LeaderElectionOptions {
  std::string leaseName = "servicedb-operator-leader";
  std::string leaseNamespace;  // the operator's namespace
  std::string identity;        // unique per replica (pod name + random suffix)
  std::chrono::milliseconds leaseDuration{15000};
  std::chrono::milliseconds renewDeadline{10000};
  std::chrono::milliseconds retryPeriod{2000};
};

struct LeaderCallbacks {
  std::function<void()> onStartedLeading;
  std::function<void()> onStoppedLeading;
  std::function<void(const std::string& identity)> onNewLeader;
};

class LeaderElector {
 public:
  LeaderElector(kube::KubeClient& client, LeaderElectionOptions options, LeaderCallbacks callbacks,
                Clock& clock = SystemClock::instance(), RuntimeMetrics* metrics = nullptr);
  ~LeaderElector();

  // One round: try to acquire or renew, then enforce the renew deadline. Returns isLeader().
  bool tick();
  // Steps down if leading and the last successful renew is older than renewDeadline.
  void checkRenewDeadline();
  bool isLeader() const { return leading_.load(); }
  // True once this elector led and stepped down (it will not lead again).
  bool lostLeadership() const;
  std::string observedHolder() const;

  void start();  // run() on a thread
  // Stops the loop; if `release` and we lead, releases the lease. Idempotent.
  void stop(bool release);
  kube::KStatus release();

 private:
  bool tryAcquireOrRenew();
  void becomeLeader();
  void stepDown(const char* why);
  Json leaseFor(const Json* existing, bool acquiring) const;

  kube::KubeClient& client_;
  LeaderElectionOptions options_;
  LeaderCallbacks callbacks_;
  Clock& clock_;
  RuntimeMetrics* metrics_;

  mutable std::mutex mu_;
  std::string observedHolder_, observedRenewTime_;
  std::chrono::steady_clock::time_point observedAt_{};
  std::chrono::steady_clock::time_point lastRenew_{};
  std::atomic<bool> leading_{false};
  bool lost_ = false;  // under mu_: stepped down after leading; terminal

  std::atomic<bool> running_{false};
  std::mutex waitMu_;
  std::condition_variable waitCv_;
  std::thread loop_, watchdog_;
};

// "2026-11-25T03:15:00.123456Z": metav1.MicroTime.
std::string formatMicroTime(std::chrono::system_clock::time_point t);

}  // namespace sdb::runtime
