// Test support shared by the ServiceDatabase controller's unit and integration tests and its crash
// runner: a view of a shared FakeEngine, a KillSwitch that stops a run after N steps, and TestClient,
// a pass-through KubeClient decorator (not a fake: every call reaches the real store) that counts
// writes and consults the KillSwitch.
#pragma once

#include <atomic>
#include <functional>

#include "operator/engines/fake_engine.h"
#include "operator/kube/client.h"

namespace sdb::controllers::servicedatabase::testing {

// A view of a FakeEngine owned elsewhere (the engine factory must return unique_ptr<Engine>).
class FakeEngineView final : public engines::Engine {
 public:
  explicit FakeEngineView(engines::FakeEngine& fake) : fake_(fake) {}
  Result<engines::PlanSummary> reconcile(const ReconcileInput& in) override { return fake_.reconcile(in); }
  Result<engines::PlanSummary> remove(const engines::ServiceIdentity& id, engines::DeletionPolicy p) override {
    return fake_.remove(id, p);
  }
  Status rotate(const engines::ServiceIdentity& id, const engines::StoredCredential& c) override {
    return fake_.rotate(id, c);
  }
  Result<size_t> whichPasswordWorks(const engines::ServiceIdentity& id, const std::string& role,
                                    const std::vector<std::string>& candidates) override {
    return fake_.whichPasswordWorks(id, role, candidates);
  }

 private:
  engines::FakeEngine& fake_;
};

// Counts writes and, when armed, "kills the process" from the N-th step on: every later write (and
// every later engine call, through FakeEngine::beforeCall) fails. Steps are API writes and engine
// calls, in the order they happen.
class KillSwitch {
 public:
  void arm(int stepsAllowed) { allowed_ = stepsAllowed; steps_ = 0; }
  void disarm() { allowed_ = -1; }
  // Called before each step; false means the process is dead.
  bool step() {
    if (allowed_ < 0) { ++steps_; return true; }
    if (steps_ >= allowed_) return false;
    ++steps_;
    return true;
  }
  bool dead() const { return allowed_ >= 0 && steps_ >= allowed_; }
  int steps() const { return steps_; }
  std::function<void()> invariant;  // checked before every step (e.g. "the server accepts a stored password")

 private:
  int allowed_ = -1;
  int steps_ = 0;
};

// A pass-through KubeClient that counts writes and consults a KillSwitch.
class TestClient final : public kube::KubeClient {
 public:
  explicit TestClient(kube::KubeClient& inner) : inner_(inner) {}
  KillSwitch* kill = nullptr;
  std::atomic<int> writes{0};

  kube::KResult<Json> get(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                          const std::string& sub = "") override {
    return inner_.get(r, ns, name, sub);
  }
  kube::KResult<Json> list(const kube::ResourceRef& r, const std::string& ns, const kube::ListOptions& o = {}) override {
    return inner_.list(r, ns, o);
  }
  kube::KResult<std::unique_ptr<kube::WatchStream>> watch(const kube::ResourceRef& r, const std::string& ns,
                                                          const kube::WatchOptions& o = {}) override {
    return inner_.watch(r, ns, o);
  }
  kube::KResult<Json> create(const kube::ResourceRef& r, const std::string& ns, const Json& obj,
                             const kube::WriteOptions& o = {}, const std::string& name = "",
                             const std::string& sub = "") override {
    if (!allow()) return kube::networkError("injected: the process was killed");
    return inner_.create(r, ns, obj, o, name, sub);
  }
  kube::KResult<Json> update(const kube::ResourceRef& r, const std::string& ns, const Json& obj,
                             const kube::WriteOptions& o = {}, const std::string& sub = "") override {
    if (!allow()) return kube::networkError("injected: the process was killed");
    return inner_.update(r, ns, obj, o, sub);
  }
  kube::KResult<Json> patch(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                            kube::PatchType t, const std::string& body, const kube::PatchOptions& o = {},
                            const std::string& sub = "") override {
    if (!allow()) return kube::networkError("injected: the process was killed");
    return inner_.patch(r, ns, name, t, body, o, sub);
  }
  kube::KResult<Json> remove(const kube::ResourceRef& r, const std::string& ns, const std::string& name,
                             const kube::DeleteOptions& o = {}) override {
    if (!allow()) return kube::networkError("injected: the process was killed");
    return inner_.remove(r, ns, name, o);
  }

 private:
  bool allow() {
    if (kill) {
      if (kill->invariant) kill->invariant();
      if (!kill->step()) return false;
    }
    ++writes;
    return true;
  }
  kube::KubeClient& inner_;
};

}  // namespace sdb::controllers::servicedatabase::testing
