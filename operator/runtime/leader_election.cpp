#include "operator/runtime/leader_election.h"

#include <cstdio>

#include "operator/core/log.h"

namespace sdb::runtime {

namespace {
kube::WriteOptions writeOptions() {
  kube::WriteOptions o;
  o.fieldManager = "servicedb-operator";
  return o;
}
}  // namespace

std::string formatMicroTime(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  if (secs > t) secs -= std::chrono::seconds(1);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
  std::string base = formatRfc3339(secs);  // ends in Z
  char frac[32];
  std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(micros));
  return base.substr(0, base.size() - 1) + frac + "Z";
}

LeaderElector::LeaderElector(kube::KubeClient& client, LeaderElectionOptions options, LeaderCallbacks callbacks,
                             Clock& clock, RuntimeMetrics* metrics)
    : client_(client), options_(std::move(options)), callbacks_(std::move(callbacks)), clock_(clock), metrics_(metrics) {
  if (metrics_) metrics_->leaderStatus(options_.leaseName, false);
}

LeaderElector::~LeaderElector() { stop(false); }

std::string LeaderElector::observedHolder() const {
  std::lock_guard<std::mutex> lock(mu_);
  return observedHolder_;
}

Json LeaderElector::leaseFor(const Json* existing, bool acquiring) const {
  Json lease = existing ? *existing
                        : Json{{"apiVersion", "coordination.k8s.io/v1"},
                               {"kind", "Lease"},
                               {"metadata", {{"name", options_.leaseName}, {"namespace", options_.leaseNamespace}}},
                               {"spec", Json::object()}};
  auto now = formatMicroTime(clock_.now());
  Json& spec = lease["spec"];
  spec["holderIdentity"] = options_.identity;
  spec["leaseDurationSeconds"] =
      static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(options_.leaseDuration).count());
  spec["renewTime"] = now;
  if (acquiring) {
    spec["acquireTime"] = now;
    int64_t transitions = spec.contains("leaseTransitions") && spec["leaseTransitions"].is_number_integer()
                              ? spec["leaseTransitions"].get<int64_t>()
                              : 0;
    spec["leaseTransitions"] = existing ? transitions + 1 : 0;
  }
  return lease;
}

bool LeaderElector::lostLeadership() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lost_;
}

bool LeaderElector::tryAcquireOrRenew() {
  if (lostLeadership()) return false;
  auto current = client_.get(kube::resources::kLeases, options_.leaseNamespace, options_.leaseName);
  auto now = clock_.monotonic();
  if (!current.ok()) {
    if (!current.error().is(kube::ApiErrorReason::kNotFound)) return false;
    auto created = client_.create(kube::resources::kLeases, options_.leaseNamespace, leaseFor(nullptr, true),
                                  writeOptions());
    if (!created.ok()) return false;
    std::lock_guard<std::mutex> lock(mu_);
    observedHolder_ = options_.identity;
    observedRenewTime_ = jsonString(*created, {"spec", "renewTime"});
    observedAt_ = now;
    return true;
  }
  std::string holder = jsonString(*current, {"spec", "holderIdentity"});
  std::string renewTime = jsonString(*current, {"spec", "renewTime"});
  int64_t durationSec = options_.leaseDuration.count() / 1000;
  if (const Json* d = jsonAt(*current, {"spec", "leaseDurationSeconds"}); d && d->is_number_integer()) {
    durationSec = d->get<int64_t>();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (holder != observedHolder_ || renewTime != observedRenewTime_) {
      if (holder != observedHolder_ && callbacks_.onNewLeader && !holder.empty()) callbacks_.onNewLeader(holder);
      observedHolder_ = holder;
      observedRenewTime_ = renewTime;
      observedAt_ = now;
    }
    bool expired = now >= observedAt_ + std::chrono::seconds(durationSec);
    if (!holder.empty() && holder != options_.identity && !expired) return false;
  }
  bool acquiring = holder != options_.identity;
  // The read may have been slow: if we stepped down meanwhile, writing now would renew a term the
  // manager has already ended.
  if (lostLeadership()) return false;
  auto updated = client_.update(kube::resources::kLeases, options_.leaseNamespace, leaseFor(&*current, acquiring),
                                writeOptions());
  if (!updated.ok()) return false;  // Conflict: another candidate won the round
  std::lock_guard<std::mutex> lock(mu_);
  observedHolder_ = options_.identity;
  observedRenewTime_ = jsonString(*updated, {"spec", "renewTime"});
  observedAt_ = now;
  return true;
}

void LeaderElector::becomeLeader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (lost_) return;
    lastRenew_ = clock_.monotonic();
    if (leading_.exchange(true)) return;
  }
  logStructured(spdlog::level::info, "became leader",
                {{"lease", options_.leaseNamespace + "/" + options_.leaseName}, {"identity", options_.identity}});
  if (metrics_) metrics_->leaderStatus(options_.leaseName, true);
  if (callbacks_.onStartedLeading) callbacks_.onStartedLeading();
}

void LeaderElector::stepDown(const char* why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!leading_.exchange(false)) return;
    lost_ = true;
  }
  logStructured(spdlog::level::warn, "stopped leading",
                {{"lease", options_.leaseNamespace + "/" + options_.leaseName}, {"reason", why}});
  if (metrics_) metrics_->leaderStatus(options_.leaseName, false);
  if (callbacks_.onStoppedLeading) callbacks_.onStoppedLeading();
}

void LeaderElector::checkRenewDeadline() {
  if (!leading_.load()) return;
  std::chrono::steady_clock::time_point last;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last = lastRenew_;
  }
  if (clock_.monotonic() - last >= options_.renewDeadline) stepDown("failed to renew the lease within the renew deadline");
}

bool LeaderElector::tick() {
  if (tryAcquireOrRenew()) {
    becomeLeader();
  } else {
    checkRenewDeadline();
    // Someone else holds it and we believed we led: they overwrote us; stop at once.
    if (leading_.load() && observedHolder() != options_.identity) stepDown("the lease has another holder");
  }
  return leading_.load();
}

void LeaderElector::start() {
  if (running_.exchange(true)) return;
  loop_ = std::thread([this] {
    while (running_.load()) {
      tick();
      std::unique_lock<std::mutex> lock(waitMu_);
      waitCv_.wait_for(lock, options_.retryPeriod, [&] { return !running_.load(); });
    }
  });
  watchdog_ = std::thread([this] {
    while (running_.load()) {
      checkRenewDeadline();
      std::unique_lock<std::mutex> lock(waitMu_);
      waitCv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return !running_.load(); });
    }
  });
}

void LeaderElector::stop(bool releaseLease) {
  if (running_.exchange(false)) {
    waitCv_.notify_all();
    if (loop_.joinable()) loop_.join();
    if (watchdog_.joinable()) watchdog_.join();
  }
  if (releaseLease && leading_.load()) {
    auto released = release();
    if (!released.ok()) {
      logStructured(spdlog::level::warn, "could not release the lease", {{"error", released.error().toString()}});
    }
  }
}

kube::KStatus LeaderElector::release() {
  auto current = client_.get(kube::resources::kLeases, options_.leaseNamespace, options_.leaseName);
  if (!current.ok()) return current.error();
  if (jsonString(*current, {"spec", "holderIdentity"}) != options_.identity) {
    leading_ = false;
    return {};
  }
  Json lease = *current;
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = formatMicroTime(clock_.now());
  auto updated = client_.update(kube::resources::kLeases, options_.leaseNamespace, lease, writeOptions());
  if (!updated.ok()) return updated.error();
  stepDown("released the lease");
  return {};
}

}  // namespace sdb::runtime
