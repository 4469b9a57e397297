// Credentials of a ServiceDatabase: one Secret per credential slot (specs/credentials_secret.h),
// passwords generated from the CSPRNG with the spec's policy and STORED BEFORE USE, and rotation
// by the protocol of operator/engines/engine.h:
//   1. write the Secret with `pending-password` (the current password stays);
//   2. engine.rotate(slot, pending);
//   3. promote: write the Secret with password = pending, without `pending-password`.
// A Secret that still holds `pending-password` (a crash between 1 and 3) is finished first:
// engine.whichPasswordWorks({current, pending}) says whether step 2 happened; if neither password
// works (the role was dropped or changed outside the operator) the engine reconcile is given the
// pending password, and it is promoted after. So at every instant the server accepts a password
// that the Secret holds.
//
// Rotation is due when the annotation servicedb.io/rotate-credentials has a value the Secret has
// not recorded (servicedb.io/rotation-request), or spec.credentials.rotationPeriod has passed since
// servicedb.io/password-set-at.
//
// Reads go to the cache unless the cache may lag behind this controller's own last write of that
// Secret (remembered by resourceVersion), and an absent Secret is confirmed with an uncached GET
// before a password is generated: a lagging cache can never make us replace a stored password.
//
// Contract: one reconcile at a time per ServiceDatabase (the workqueue guarantees it); SecretAccess
// is thread-safe and shared by all workers.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "controllers/servicedatabase/backend.h"
#include "controllers/servicedatabase/object_reader.h"
#include "operator/core/clock.h"
#include "operator/core/random.h"
#include "operator/kube/client.h"

namespace sdb::controllers::servicedatabase {

class SecretAccess {
 public:
  SecretAccess(kube::KubeClient& client, const ObjectReader& cache) : client_(client), cache_(cache) {}
  // The Secret, nullopt when it does not exist (confirmed by GET), or the API error.
  kube::KResult<std::optional<Json>> read(const std::string& ns, const std::string& name);
  void remember(const Json& written);
  void forget(const std::string& ns, const std::string& name);

 private:
  kube::KubeClient& client_;
  const ObjectReader& cache_;
  std::mutex mu_;
  std::map<std::string, std::string> written_;  // "ns/name" -> resourceVersion of our last write
};

struct SlotState {
  std::string slot;
  std::string secretName;
  Json live;  // the Secret as last read or written
  std::string password;
  std::optional<std::string> pending;
};

// What changed, for Events (never passwords).
struct Changes {
  std::vector<std::string> provisioning;  // "created Secret x", engine actions, ...
  std::vector<std::string> rotation;      // "rotated the app password (Secret x)"
  bool createdSecrets = false;
};

struct RotationDecision {
  std::vector<std::string> slots;  // slots to rotate now
  std::string why;                 // "annotation servicedb.io/rotate-credentials=<v>" or "rotationPeriod 720h"
  std::string request;             // the annotation value to record, "" for a periodic rotation
  std::optional<std::chrono::nanoseconds> nextDueIn;  // with a rotationPeriod: time to the next rotation
};

// Pure: which slots to rotate now, and when the next periodic rotation is due.
RotationDecision decideRotation(const specs::ServiceDatabase& sdb, const std::vector<SlotState>& slots,
                                std::chrono::system_clock::time_point now);

struct CredentialsDeps {
  kube::KubeClient& client;
  SecretAccess& secrets;
  Random& random;
  Clock& clock;
  std::string fieldManager;
};

class Credentials {
 public:
  Credentials(CredentialsDeps deps, const specs::ServiceDatabase& sdb, const Json& owner, const Backend& backend,
              const Session& session, Changes& changes)
      : d_(deps), sdb_(sdb), owner_(owner), backend_(backend), session_(session), changes_(changes) {}

  // Every slot's Secret exists, is ours, holds a password and the session's current entries. A
  // missing password is generated and written before anything uses it.
  PResult<std::vector<SlotState>> ensure();

  // Finishes interrupted rotations. Returns the password to give the engine per slot; slots listed
  // in `promoteAfterReconcile` must be promoted once engine.reconcile succeeded.
  struct Resumed {
    std::vector<engines::StoredCredential> forEngine;
    std::vector<std::string> promoteAfterReconcile;
  };
  PResult<Resumed> resumePending(std::vector<SlotState>& slots, engines::Engine& engine,
                                 const engines::ServiceIdentity& id);

  // Step 3 of the protocol for one slot.
  PResult<void> promote(SlotState& slot);

  // Steps 1-3 for the decided slots.
  PResult<void> rotate(std::vector<SlotState>& slots, const RotationDecision& decision, engines::Engine& engine,
                       const engines::ServiceIdentity& id);

 private:
  Result<std::string> generatePassword();
  Json desired(const SlotState& slot, const std::string& password, const std::optional<std::string>& pending,
               std::map<std::string, std::string> annotations) const;
  PResult<Json> apply(const Json& desired, const std::optional<Json>& live);
  Problem apiProblem(const kube::ApiError& e, const std::string& doing) const;

  CredentialsDeps d_;
  const specs::ServiceDatabase& sdb_;
  const Json& owner_;
  const Backend& backend_;
  const Session& session_;
  Changes& changes_;
};

// State annotations of a Secret that survive every rewrite.
std::map<std::string, std::string> stateAnnotations(const Json& secret);

}  // namespace sdb::controllers::servicedatabase
