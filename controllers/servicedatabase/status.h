// Status of a ServiceDatabase: what one reconcile found (an Outcome), turned into status fields
// and kstatus conditions, and written once, skipping writes that would change nothing.
//
// Conditions, each with observedGeneration: Ready, Reconciling, Stalled (kstatus) and
// CredentialsReady, plus the backends', the migration step's and deletionPolicy Snapshot's
// (NetworkIsolated, MigrationsApplied, FinalBackupReady). Other fields: observedGeneration, phase (printer column), endpoint,
// secretName, migrationSecretName, credentialsRotatedAt, schemaVersion and migrations (the last
// migration run, migrations.h). Fields this controller does not own (for example those later
// issues add) are kept as they are.
//
// Contract: desiredStatus is pure. writeStatus compares with the cached object first (no API call
// when equal), then PUTs /status on that copy (guarded by its resourceVersion); on a conflict it
// goes through runtime::updateStatusWithRetry (GET, recompute, PUT only when different, retry).
// Thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "controllers/servicedatabase/backend.h"
#include "operator/core/json.h"
#include "operator/kube/client.h"

namespace sdb::controllers::servicedatabase {

inline constexpr const char* kConditionCredentialsReady = "CredentialsReady";

struct Outcome {
  enum class State {
    kReady,        // everything converged
    kProgressing,  // not there yet; retrying (server unreachable, waiting for a Secret, ...)
    kStalled,      // needs a human: bad spec, foreign object, not implemented
  };
  State state = State::kProgressing;
  std::string reason;   // CamelCase; for kReady "Ready"
  std::string message;  // names the field or object at fault
  bool deleting = false;

  // CredentialsReady: "True", "False" or "Unknown", with its own reason and message.
  std::string credentialsStatus = "Unknown";
  std::string credentialsReason = "Pending";
  std::string credentialsMessage = "credentials have not been verified against the server yet";

  // Set when known in this reconcile; otherwise the stored values are kept.
  std::optional<Endpoint> endpoint;
  std::optional<std::string> secretName, migrationSecretName, rotatedAt;
  std::vector<ExtraCondition> extra;  // backend conditions (NetworkIsolated); absent ones are kept
  std::vector<std::string> removedConditions;  // types to drop (MigrationsApplied once spec.migrations is gone)
  std::optional<std::string> schemaVersion;    // status.schemaVersion
  std::optional<Json> migrations;              // status.migrations

  static Outcome fromProblem(const Problem& p) {
    Outcome o;
    o.state = p.stalled ? State::kStalled : State::kProgressing;
    o.reason = p.reason;
    o.message = p.message;
    o.extra = p.conditions;
    return o;
  }
};

// One word for the printer column: Ready, Failed (stalled), Deleting, Provisioning or Pending.
std::string phaseFor(const Outcome& outcome);

// The status `object` should have after this reconcile (starts from its current status).
Json desiredStatus(const Json& object, const Outcome& outcome, std::chrono::system_clock::time_point now);

struct StatusWrite {
  bool written = false;
  Json object;  // as the server answered, or the cached object when nothing was written
};

kube::KResult<StatusWrite> writeStatus(kube::KubeClient& client, const Json& cached, const Outcome& outcome,
                                       std::chrono::system_clock::time_point now, const std::string& fieldManager);

}  // namespace sdb::controllers::servicedatabase
