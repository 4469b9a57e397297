// A Job's outcome, and what a failed Job's pod said, for a condition: the log tail of the Job's newest pod, redacted and
// cut (migration_log.h), read through the pods/log subresource or an injected reader (tests).
//
// Contract: thread-safe when `client` and `read` are; never returns a secret listed in `secrets`.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "operator/kube/client.h"
#include "operator/runtime/conditions.h"

namespace sdb::controllers::servicedatabase {

using PodLogReader = std::function<kube::KResult<std::string>(const std::string& ns, const std::string& pod)>;

// The Job's condition `type` (Complete, Failed) when its status is "True".
std::optional<runtime::Condition> trueJobCondition(const Json& job, const std::string& type);

// "pod \"x\": <summary and log tail>" of the newest pod labelled job-name=<jobName>, or a sentence
// saying why there is none.
std::string jobPodLogReport(kube::KubeClient& client, const PodLogReader& read, const std::string& ns,
                            const std::string& jobName, const std::vector<std::string>& secrets);

}  // namespace sdb::controllers::servicedatabase
