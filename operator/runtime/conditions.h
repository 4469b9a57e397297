// kstatus-style conditions on an object's status.conditions (metav1.Condition shape:
// type, status "True"/"False"/"Unknown", reason, message, observedGeneration, lastTransitionTime).
//
// Conventions (sigs.k8s.io/cli-utils kstatus): `Ready` is the summary; `Reconciling=True` while work is
// in progress; `Stalled=True` when progress needs a human (bad spec, not implemented). A condition
// keeps its lastTransitionTime unless its status flips, so rewriting the same conditions is a no-op.
//
// Contract: pure functions over JSON values; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "operator/core/json.h"

namespace sdb::runtime {

namespace conditions {
inline constexpr const char* kReady = "Ready";
inline constexpr const char* kReconciling = "Reconciling";
inline constexpr const char* kStalled = "Stalled";
}  // namespace conditions

struct Condition {
  std::string type;
  std::string status;  // "True", "False" or "Unknown"
  std::string reason;  // CamelCase
  std::string message;
  int64_t observedGeneration = 0;
};

// Sets (or adds) the condition in status["conditions"]. lastTransitionTime is `now` when the
// condition is new or its status changes, otherwise kept. Returns true if anything changed.
bool setCondition(Json& status, const Condition& condition, std::chrono::system_clock::time_point now);
// The condition of that type, or nullopt.
std::optional<Condition> findCondition(const Json& status, const std::string& type);
bool isConditionTrue(const Json& status, const std::string& type);
bool removeCondition(Json& status, const std::string& type);

// Equality of two status values ignoring every condition's lastTransitionTime (so a recomputed
// status with fresh timestamps compares equal to the stored one when nothing else moved).
bool statusSemanticallyEqual(const Json& a, const Json& b);

}  // namespace sdb::runtime
