#include "e2e/apimachinery/builtin_admission.h"

#include <cctype>

#include "e2e/apimachinery/selectors.h"
#include "e2e/cron/cron_schedule.h"

namespace sdb::apimachinery {

namespace {

void setDefault(Json& o, const char* key, const Json& value) {
  if (!o.contains(key) || o[key].is_null()) o[key] = value;
}

Json& objectAt(Json& o, const char* key) {
  if (!o.contains(key) || !o[key].is_object()) o[key] = Json::object();
  return o[key];
}

// Go's %#v of a map[string]string, as field.Invalid prints it.
std::string goMap(const Json& labels) {
  std::string s = "map[string]string{";
  bool first = true;
  if (labels.is_object()) {
    for (auto it = labels.begin(); it != labels.end(); ++it) {
      s += (first ? "" : ", ") + Json(it.key()).dump() + ":" + it.value().dump();
      first = false;
    }
  }
  return s + "}";
}

std::string quoted(const Json& v) { return v.is_string() ? Json(v.get<std::string>()).dump() : v.dump(); }

void defaultClaimTemplates(Json& spec) {
  if (!spec.contains("volumeClaimTemplates") || !spec["volumeClaimTemplates"].is_array()) return;
  for (auto& t : spec["volumeClaimTemplates"]) {
    if (!t.is_object()) continue;
    setDefault(t, "apiVersion", "v1");
    setDefault(t, "kind", "PersistentVolumeClaim");
    setDefault(objectAt(t, "spec"), "volumeMode", "Filesystem");
    setDefault(t, "status", {{"phase", "Pending"}});
  }
}

void defaultStatefulSet(Json& spec) {
  setDefault(spec, "replicas", 1);
  setDefault(spec, "podManagementPolicy", "OrderedReady");
  Json& strategy = objectAt(spec, "updateStrategy");
  setDefault(strategy, "type", "RollingUpdate");
  if (strategy["type"] == "RollingUpdate") setDefault(objectAt(strategy, "rollingUpdate"), "partition", 0);
  setDefault(spec, "revisionHistoryLimit", 10);
  Json& retention = objectAt(spec, "persistentVolumeClaimRetentionPolicy");
  setDefault(retention, "whenDeleted", "Retain");
  setDefault(retention, "whenScaled", "Retain");
  defaultClaimTemplates(spec);
}

void defaultDeployment(Json& spec) {
  setDefault(spec, "replicas", 1);
  Json& strategy = objectAt(spec, "strategy");
  setDefault(strategy, "type", "RollingUpdate");
  if (strategy["type"] == "RollingUpdate") {
    Json& ru = objectAt(strategy, "rollingUpdate");
    setDefault(ru, "maxUnavailable", "25%");
    setDefault(ru, "maxSurge", "25%");
  }
  setDefault(spec, "revisionHistoryLimit", 10);
  setDefault(spec, "progressDeadlineSeconds", 600);
}

void defaultJobSpec(Json& spec) {
  if (!spec.contains("completions") && !spec.contains("parallelism")) {
    spec["completions"] = 1;
    spec["parallelism"] = 1;
  }
  setDefault(spec, "parallelism", 1);
  setDefault(spec, "backoffLimit", 6);
  setDefault(spec, "completionMode", "NonIndexed");
  setDefault(spec, "suspend", false);
  setDefault(spec, "podReplacementPolicy", spec.contains("podFailurePolicy") ? "Failed" : "TerminatingOrFailed");
}

// The selector kube-apiserver generates for a Job (manualSelector unset or false).
void generateJobSelector(Json& job) {
  const std::string name = jsonString(job, {"metadata", "name"});
  const std::string uid = jsonString(job, {"metadata", "uid"});
  Json& spec = objectAt(job, "spec");
  if (spec.value("manualSelector", false)) return;
  Json& labels = objectAt(objectAt(objectAt(spec, "template"), "metadata"), "labels");
  for (const char* k : {"job-name", "batch.kubernetes.io/job-name"}) setDefault(labels, k, name);
  for (const char* k : {"controller-uid", "batch.kubernetes.io/controller-uid"}) setDefault(labels, k, uid);
  Json& selector = objectAt(spec, "selector");
  setDefault(objectAt(selector, "matchLabels"), "batch.kubernetes.io/controller-uid", uid);
  Json& meta = objectAt(job, "metadata");
  if (!meta.contains("labels") || !meta["labels"].is_object() || meta["labels"].empty()) meta["labels"] = labels;
}

void requireSelectorMatchesTemplate(const Json& spec, const std::string& kind, std::vector<kube::StatusCause>& causes) {
  const Json* sel = jsonAt(spec, {"selector"});
  if (!sel || sel->is_null()) {
    causes.push_back({"FieldValueRequired", "Required value", "spec.selector"});
    return;
  }
  auto parsed = LabelSelector::fromJson(*sel);
  if (!parsed.ok()) {
    causes.push_back({"FieldValueInvalid", "Invalid value: " + sel->dump() + ": " + parsed.error().message, "spec.selector"});
    return;
  }
  if (parsed->empty()) {
    causes.push_back({"FieldValueInvalid", "Invalid value: " + sel->dump() + ": empty selector is invalid for " + kind, "spec.selector"});
    return;
  }
  const Json* labels = jsonAt(spec, {"template", "metadata", "labels"});
  Json l = labels ? *labels : Json::object();
  if (!parsed->matches(Json{{"metadata", {{"labels", l}}}})) {
    causes.push_back({"FieldValueInvalid", "Invalid value: " + goMap(l) + ": `selector` does not match template `labels`",
                      "spec.template.metadata.labels"});
  }
}

void validateRestartPolicy(const Json& podTemplate, const std::string& path, bool job,
                           std::vector<kube::StatusCause>& causes) {
  const Json* rp = jsonAt(podTemplate, {"spec"});
  const Json policy = rp && rp->contains("restartPolicy") ? (*rp)["restartPolicy"] : Json();
  const std::string field = path + ".spec.restartPolicy";
  if (job) {
    if (policy.is_null()) {
      causes.push_back({"FieldValueRequired", "Required value: valid values: \"OnFailure\", \"Never\"", field});
    } else if (policy != "OnFailure" && policy != "Never") {
      causes.push_back({"FieldValueNotSupported",
                        "Unsupported value: " + quoted(policy) + ": supported values: \"OnFailure\", \"Never\"", field});
    }
  } else if (!policy.is_null() && policy != "Always") {
    causes.push_back({"FieldValueNotSupported", "Unsupported value: " + quoted(policy) + ": supported values: \"Always\"", field});
  }
}

void validateCronJob(const Json& spec, std::vector<kube::StatusCause>& causes) {
  const std::string schedule = spec.value("schedule", "");
  if (schedule.empty()) {
    causes.push_back({"FieldValueRequired", "Required value", "spec.schedule"});
  } else if (auto s = cron::Schedule::parse(schedule); !s.ok()) {
    causes.push_back({"FieldValueInvalid", "Invalid value: " + Json(schedule).dump() + ": " + s.error().message, "spec.schedule"});
  }
  if (spec.contains("timeZone") && !spec["timeZone"].is_null()) {
    const std::string tz = spec["timeZone"].is_string() ? spec["timeZone"].get<std::string>() : "";
    if (tz.empty()) {
      causes.push_back({"FieldValueInvalid", "Invalid value: \"\": timeZone must be nil or non-empty string", "spec.timeZone"});
    } else if (tz == "Local" || tz == "local") {
      causes.push_back({"FieldValueInvalid",
                        "Invalid value: " + Json(tz).dump() +
                            ": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
                        "spec.timeZone"});
    } else if (auto z = cron::TimeZone::load(tz); !z.ok()) {
      causes.push_back({"FieldValueInvalid", "Invalid value: " + Json(tz).dump() + ": unknown time zone " + tz, "spec.timeZone"});
    }
  }
  const std::string policy = spec.value("concurrencyPolicy", "Allow");
  if (policy != "Allow" && policy != "Forbid" && policy != "Replace") {
    causes.push_back({"FieldValueNotSupported",
                      "Unsupported value: " + Json(policy).dump() + ": supported values: \"Allow\", \"Forbid\", \"Replace\"",
                      "spec.concurrencyPolicy"});
  }
  const Json* tmpl = jsonAt(spec, {"jobTemplate", "spec", "template"});
  validateRestartPolicy(tmpl ? *tmpl : Json::object(), "spec.jobTemplate.spec.template", true, causes);
}

void validateClaim(const Json& spec, const std::string& path, std::vector<kube::StatusCause>& causes) {
  const Json* modes = jsonAt(spec, {"accessModes"});
  if (!modes || !modes->is_array() || modes->empty()) {
    causes.push_back({"FieldValueRequired", "Required value: at least 1 access mode is required", path + ".accessModes"});
  }
  const Json* storage = jsonAt(spec, {"resources", "requests"});
  if (!storage || !storage->contains("storage")) {
    causes.push_back({"FieldValueRequired", "Required value", path + ".resources[storage]"});
  }
}

}  // namespace

void defaultBuiltin(const ResourceInfo& info, Json& obj, bool creating) {
  if (info.crd || !obj.is_object()) return;
  const std::string& r = info.ref.resource;
  const std::string& g = info.ref.group;
  if (g == "apps" && r == "statefulsets") {
    defaultStatefulSet(objectAt(obj, "spec"));
  } else if (g == "apps" && r == "deployments") {
    defaultDeployment(objectAt(obj, "spec"));
  } else if (g == "apps" && r == "replicasets") {
    setDefault(objectAt(obj, "spec"), "replicas", 1);
  } else if (g == "batch" && r == "jobs") {
    defaultJobSpec(objectAt(obj, "spec"));
    if (creating) generateJobSelector(obj);
  } else if (g == "batch" && r == "cronjobs") {
    Json& spec = objectAt(obj, "spec");
    setDefault(spec, "concurrencyPolicy", "Allow");
    setDefault(spec, "suspend", false);
    setDefault(spec, "successfulJobsHistoryLimit", 3);
    setDefault(spec, "failedJobsHistoryLimit", 1);
  } else if (g.empty() && r == "persistentvolumeclaims") {
    setDefault(objectAt(obj, "spec"), "volumeMode", "Filesystem");
    if (creating) setDefault(obj, "status", {{"phase", "Pending"}});
  } else if (g == "storage.k8s.io" && r == "storageclasses") {
    setDefault(obj, "reclaimPolicy", "Delete");
    setDefault(obj, "volumeBindingMode", "Immediate");
  }
}

std::vector<kube::StatusCause> validateBuiltin(const ResourceInfo& info, const Json& obj, bool creating) {
  std::vector<kube::StatusCause> causes;
  if (info.crd || !obj.is_object()) return causes;
  const std::string& r = info.ref.resource;
  const std::string& g = info.ref.group;
  const Json spec = obj.contains("spec") && obj["spec"].is_object() ? obj["spec"] : Json::object();
  const Json tmpl = spec.contains("template") && spec["template"].is_object() ? spec["template"] : Json::object();
  if (g == "apps" && (r == "statefulsets" || r == "deployments" || r == "replicasets")) {
    std::string kind = info.ref.kind;
    for (auto& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (creating) requireSelectorMatchesTemplate(spec, kind, causes);  // then builtin_rules guard the selector
    validateRestartPolicy(tmpl, "spec.template", false, causes);
    if (r == "statefulsets" && spec.contains("volumeClaimTemplates") && spec["volumeClaimTemplates"].is_array()) {
      for (size_t i = 0; i < spec["volumeClaimTemplates"].size(); ++i) {
        const Json& t = spec["volumeClaimTemplates"][i];
        const std::string path = "spec.volumeClaimTemplates[" + std::to_string(i) + "]";
        if (jsonString(t, {"metadata", "name"}).empty()) {
          causes.push_back({"FieldValueRequired", "Required value: name or generateName is required", path + ".metadata.name"});
        }
        validateClaim(t.value("spec", Json::object()), path + ".spec", causes);
      }
    }
  } else if (g == "batch" && r == "jobs") {
    if (creating) requireSelectorMatchesTemplate(spec, "job", causes);
    validateRestartPolicy(tmpl, "spec.template", true, causes);
  } else if (g == "batch" && r == "cronjobs") {
    validateCronJob(spec, causes);
  } else if (g.empty() && r == "persistentvolumeclaims") {
    validateClaim(spec, "spec", causes);
  }
  return causes;
}

}  // namespace sdb::apimachinery
