// What a failed Job's pod said, for a condition: the log tail of the Job's newest pod, redacted and
// cut (migration_log.h), read through the pods/log subresource or an injected reader (tests).
//
// Contract: thread-safe when `client` and `read` are; never returns a secret listed in `secrets`.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "operator/kube/client.h"

namespace sdb::controllers::servicedatabase {

using PodLogReader = std::function<kube::KResult<std::string>(const std::string& ns, const std::string& pod)>;

// "pod \"x\": <summary and log tail>" of the newest pod labelled job-name=<jobName>, or a sentence
// saying why there is none.
std::string jobPodLogReport(kube::KubeClient& client, const PodLogReader& read, const std::string& ns,
                            const std::string& jobName, const std::vector<std::string>& secrets);

}  // namespace sdb::controllers::servicedatabase
