// Pod Security admission (k8s.io/pod-security-admission) for namespaces labelled
// pod-security.kubernetes.io/{enforce,warn}=<privileged|baseline|restricted>, with the library's check
// names, order and messages:
// - enforce rejects a Pod that violates the level: 403 `pods "x" is forbidden: violates PodSecurity
//   "restricted:latest": privileged (container "c" must not set securityContext.privileged=true), ...`;
// - warn (which defaults to the enforce level) adds `would violate PodSecurity "...": ...` warnings
//   for Pods and for the pod templates of Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs and
//   CronJobs. Workloads are never rejected (kube's behaviour): their controllers then fail to create
//   pods and record FailedCreate events with the enforce message.
// Checks: baseline hostNamespaces, hostPathVolumes, hostPorts, privileged, capabilities_baseline,
// seccompProfile_baseline; restricted allowPrivilegeEscalation, capabilities_restricted,
// restrictedVolumes, runAsNonRoot, runAsUser, seccompProfile_restricted. Not modelled: appArmor,
// seLinuxOptions, procMount, sysctls, windowsHostProcess, probe/lifecycle host fields, exemptions;
// every `*-version` is evaluated with the latest checks (the label's value is only printed).
//
// Contract: pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "e2e/apimachinery/registry.h"
#include "operator/core/json.h"
#include "operator/kube/api_error.h"

namespace sdb::apimachinery {

enum class PodSecurityLevel { kPrivileged, kBaseline, kRestricted };

struct PodSecurityViolation {
  std::string reason;  // "privileged", "runAsNonRoot != true", ...
  std::string detail;  // `container "c" must not set securityContext.privileged=true`
};

// The checks of `level` in the library's order, failures only.
std::vector<PodSecurityViolation> evaluatePodSecurity(PodSecurityLevel level, const Json& podSpec);
// "reason (detail), reason (detail)".
std::string formatViolations(const std::vector<PodSecurityViolation>& violations);

struct PodSecurityAdmission {
  std::optional<kube::ApiError> denied;  // enforce, Pods only
  std::vector<std::string> warnings;
};

// Admission of a create of `obj` (of kind `info`) into the namespace object `ns`.
PodSecurityAdmission admitPodSecurity(const ResourceInfo& info, const Json& obj, const Json& ns);

}  // namespace sdb::apimachinery
