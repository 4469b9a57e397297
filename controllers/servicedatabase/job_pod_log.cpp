#include "controllers/servicedatabase/job_pod_log.h"

#include "controllers/servicedatabase/migration_log.h"

namespace sdb::controllers::servicedatabase {

namespace res = kube::resources;

std::optional<runtime::Condition> trueJobCondition(const Json& job, const std::string& type) {
  const Json* status = jsonAt(job, {"status"});
  if (!status) return std::nullopt;
  auto c = runtime::findCondition(*status, type);
  if (!c || c->status != "True") return std::nullopt;
  return c;
}

std::string jobPodLogReport(kube::KubeClient& client, const PodLogReader& read, const std::string& ns,
                            const std::string& jobName, const std::vector<std::string>& secrets) {
  kube::ListOptions lo;
  lo.labelSelector = "job-name=" + jobName;
  auto pods = client.list(res::kPods, ns, lo);
  if (!pods.ok()) return "its pods could not be listed: " + pods.error().toString();
  const Json* newest = nullptr;
  for (const auto& p : (*pods)["items"]) {
    auto key = [](const Json& o) {
      return jsonString(o, {"metadata", "creationTimestamp"}) + jsonString(o, {"metadata", "name"});
    };
    if (!newest || key(p) > key(*newest)) newest = &p;
  }
  if (!newest) return "it has no pod left to read a log from";
  const std::string pod = jsonString(*newest, {"metadata", "name"});
  kube::KResult<std::string> log = std::string();
  if (read) {
    log = read(ns, pod);
  } else {
    auto raw = client.get(res::kPods, ns, pod, "log");
    if (!raw.ok()) log = raw.error();
    else log = raw->is_string() ? raw->get<std::string>() : raw->dump();
  }
  if (!log.ok()) return "the log of pod \"" + pod + "\" could not be read: " + log.error().toString();
  return "pod \"" + pod + "\": " + migrationLogReport(*log, secrets);
}

}  // namespace sdb::controllers::servicedatabase
