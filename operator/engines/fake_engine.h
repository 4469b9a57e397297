// An in-memory Engine for controller unit tests (ARCHITECTURE.md §2: interfaces between 5 and 6).
//
// Contract: models one server's state for many ServiceDatabases: which services exist, the
// password each credential slot currently accepts, and foreign names that block. Records every
// call. Fault hooks: `failNext` makes the next call return that error; `beforeCall`, when set, is
// asked before every call (with the line recorded in `calls`) and fails it by returning an error,
// so a test can "kill" the engine from any call on. Not thread-safe.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>

#include "operator/engines/engine.h"

namespace sdb::engines {

class FakeEngine final : public Engine {
 public:
  struct Service {
    std::string uid;
    std::map<std::string, std::string> passwords;  // slot -> password the server accepts
    bool databaseDeferred = false;  // the last reconcile had deferDatabase (a restore Job makes it)
  };

  std::map<std::string, Service> services;  // "<ns>/<name>"
  std::set<std::string> foreign;            // "<ns>/<name>" whose names are taken by others
  std::optional<Error> failNext;
  std::function<std::optional<Error>(const std::string& call)> beforeCall;
  std::vector<std::string> calls;  // "reconcile ns/name", "remove ns/name", "rotate ns/name app"

  Result<PlanSummary> reconcile(const ReconcileInput& in) override {
    const std::string key = in.id.namespaceName + "/" + in.id.name;
    calls.push_back("reconcile " + key);
    if (auto e = takeFailure()) return *e;
    PlanSummary s;
    if (foreign.count(key)) {
      s.blockers.push_back({"ForeignObject", "database \"" + key + "\"", "exists without our marker"});
      return s;
    }
    Service& svc = services[key];
    if (svc.uid != in.id.uid) s.actions.push_back("mark " + key);
    svc.uid = in.id.uid;
    svc.databaseDeferred = in.deferDatabase;
    for (const auto& c : in.credentials)
      if (svc.passwords[c.role] != c.password) {
        svc.passwords[c.role] = c.password;
        s.actions.push_back("set password of " + c.role);
      }
    return s;
  }

  Result<PlanSummary> remove(const ServiceIdentity& id, DeletionPolicy policy) override {
    const std::string key = id.namespaceName + "/" + id.name;
    calls.push_back("remove " + key);
    if (auto e = takeFailure()) return *e;
    PlanSummary s;
    if (policy == DeletionPolicy::kDelete && services.erase(key)) s.actions.push_back("drop " + key);
    return s;
  }

  Status rotate(const ServiceIdentity& id, const StoredCredential& pending) override {
    const std::string key = id.namespaceName + "/" + id.name;
    calls.push_back("rotate " + key + " " + pending.role);
    if (auto e = takeFailure()) return *e;
    services[key].passwords[pending.role] = pending.password;
    return okStatus();
  }

  Result<size_t> whichPasswordWorks(const ServiceIdentity& id, const std::string& role,
                                    const std::vector<std::string>& candidates) override {
    const std::string key = id.namespaceName + "/" + id.name;
    calls.push_back("which " + key + " " + role);
    if (auto e = takeFailure()) return *e;
    auto& pw = services[key].passwords[role];
    for (size_t i = 0; i < candidates.size(); ++i)
      if (candidates[i] == pw) return i;
    return notFound("no candidate password is accepted for " + role);
  }

 private:
  std::optional<Error> takeFailure() {
    auto e = failNext;
    failNext.reset();
    if (!e && beforeCall) e = beforeCall(calls.back());
    return e;
  }
};

}  // namespace sdb::engines
