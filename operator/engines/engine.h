// The engine-neutral contract between a controller (layer 6) and a database engine (layer 5).
//
// Contract: an engine turns "what this ServiceDatabase wants" into changes on one database server,
// in two steps: `observe` reads the server (I/O), `plan(desired, observed)` is pure and
// deterministic, `execute(plan)` performs the actions in order and stops at the first failure,
// returning which action failed. Re-running observe+plan+execute after a crash at any point
// converges (every action is idempotent given fresh observation). A steady state plans nothing,
// so a resync makes zero writes.
//
// Ownership: an engine never adopts, alters or drops an object that lacks the ownership marker
// (the ServiceDatabase uid); it reports a Blocker naming the object instead.
//
// Credentials ("stored before used"): an engine never invents passwords. The controller generates a
// password, persists it in a Secret, and only then hands it to the engine. Rotation protocol:
//   1. controller writes the Secret with `pending` = new password (the current one stays in place);
//   2. engine.rotate(role, pending)  -> server now accepts pending;
//   3. controller moves pending to current in the Secret and clears pending.
// After a crash between any two steps the controller calls engine.whichPasswordWorks(role,
// {current, pending}) and finishes (or restarts) the protocol from the answer. Server and Secret
// therefore always agree on at least one password that the Secret holds.
//
// Thread safety: an Engine instance may be used by one reconcile at a time; different instances
// are independent. Implementations hold no global state.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "operator/core/result.h"

namespace sdb::engines {

// Which ServiceDatabase is asking: identifies it and names its objects deterministically.
struct ServiceIdentity {
  std::string namespaceName;  // metadata.namespace
  std::string name;           // metadata.name
  std::string uid;            // metadata.uid: the ownership marker
  // spec.databaseName, when the user set one; empty: the engine derives a namespace-aware name.
  // Engines validate it (it is user input) and refuse names their server treats specially.
  // The PostgreSQL engine does not read it yet (it always derives).
  std::string databaseName = {};  // a default initializer keeps {ns, name, uid} valid under -Wextra
};

enum class DeletionPolicy { kRetain, kDelete };

// Something the engine will not touch, for a controller condition (reason + message).
struct Blocker {
  std::string reason;   // e.g. "ForeignObject"
  std::string object;   // e.g. "role \"a_orders_app\""
  std::string message;  // human sentence naming the object and why
};

// Engine-neutral summary of a plan for events, status and logs. Never contains secrets.
struct PlanSummary {
  std::vector<std::string> actions;  // one human line per action, in order
  std::vector<Blocker> blockers;
  bool empty() const { return actions.empty() && blockers.empty(); }
};

// The outcome of execute: how many actions ran, and the error naming the failed action.
struct ExecuteReport {
  size_t applied = 0;
  std::optional<Error> failure;  // message starts with the action's description
};

// A credential the controller already persisted. `password` never reaches logs.
struct StoredCredential {
  std::string role;      // "app" or "migration" (engine-neutral slot name)
  std::string password;
};

// What every engine offers the controller. `Desired` and `Observed` are engine-specific; the
// controller reaches them through `reconcile`, which is observe + plan + execute.
class Engine {
 public:
  virtual ~Engine() = default;

  // Brings the server to the desired state for `id`. Returns the plan that was (or, with
  // blockers, was not) executed so the controller can emit events and conditions.
  struct ReconcileInput {
    ServiceIdentity id;
    std::vector<StoredCredential> credentials;  // app + migration, already stored
    int connectionLimit = 20;
    bool dryRun = false;  // plan only
    // A restore Job makes the database (spec.restore): plan only the roles, and leave the database
    // alone even when it exists (the Job may be restoring into it).
    bool deferDatabase = false;
  };
  virtual Result<PlanSummary> reconcile(const ReconcileInput& input) = 0;

  // Deletion with the finalizer: Delete drops everything we own, Retain leaves all of it.
  // Objects with our names but without our marker are left alone and reported as blockers in
  // the summary; they do not make the call fail (they are not ours, so the finalizer may go).
  virtual Result<PlanSummary> remove(const ServiceIdentity& id, DeletionPolicy policy) = 0;

  // Step 2 of the rotation protocol above.
  virtual Status rotate(const ServiceIdentity& id, const StoredCredential& pending) = 0;

  // Crash recovery for rotation: the index of the first candidate the server accepts for
  // `role`, or NotFound if none does.
  virtual Result<size_t> whichPasswordWorks(const ServiceIdentity& id, const std::string& role,
                                            const std::vector<std::string>& candidates) = 0;

  // The credential slots this engine has, so a controller generates, stores and rotates exactly
  // these without engine-specific branches. PostgreSQL: app and migration; Redis: app only.
  virtual std::vector<std::string> credentialSlots() const { return {"app", "migration"}; }
};

}  // namespace sdb::engines
