#include "controllers/servicedatabase/status.h"

#include "operator/runtime/conditions.h"
#include "operator/runtime/status_writer.h"

namespace sdb::controllers::servicedatabase {

namespace cond = runtime::conditions;

std::string phaseFor(const Outcome& o) {
  if (o.deleting) return "Deleting";
  switch (o.state) {
    case Outcome::State::kReady: return "Ready";
    case Outcome::State::kStalled: return "Failed";
    case Outcome::State::kProgressing: return o.reason == "Provisioning" ? "Provisioning" : "Pending";
  }
  return "Pending";
}

Json desiredStatus(const Json& object, const Outcome& o, std::chrono::system_clock::time_point now) {
  Json status = object.contains("status") && object["status"].is_object() ? object["status"] : Json::object();
  const Json* g = jsonAt(object, {"metadata", "generation"});
  const int64_t gen = g && g->is_number_integer() ? g->get<int64_t>() : 0;
  status["observedGeneration"] = gen;
  status["phase"] = phaseFor(o);

  const bool ready = o.state == Outcome::State::kReady;
  const bool stalled = o.state == Outcome::State::kStalled;
  const bool progressing = o.state == Outcome::State::kProgressing || o.deleting;
  runtime::setCondition(status, {cond::kReady, ready ? "True" : "False", o.reason, o.message, gen}, now);
  runtime::setCondition(status, {cond::kReconciling, progressing && !stalled ? "True" : "False", o.reason, o.message, gen},
                        now);
  runtime::setCondition(status, {cond::kStalled, stalled ? "True" : "False", o.reason, o.message, gen}, now);
  runtime::setCondition(status,
                        {kConditionCredentialsReady, o.credentialsStatus, o.credentialsReason, o.credentialsMessage, gen},
                        now);
  for (const auto& c : o.extra) runtime::setCondition(status, {c.type, c.status, c.reason, c.message, gen}, now);
  for (const auto& type : o.removedConditions) runtime::removeCondition(status, type);
  if (o.endpoint) {
    status["endpoint"] = {{"host", o.endpoint->host}, {"port", o.endpoint->port}, {"database", o.endpoint->database}};
  }
  if (o.secretName) status["secretName"] = *o.secretName;
  if (o.migrationSecretName) status["migrationSecretName"] = *o.migrationSecretName;
  if (o.rotatedAt && !o.rotatedAt->empty()) status["credentialsRotatedAt"] = *o.rotatedAt;
  if (o.schemaVersion) status["schemaVersion"] = *o.schemaVersion;
  if (o.migrations) status["migrations"] = *o.migrations;
  return status;
}

kube::KResult<StatusWrite> writeStatus(kube::KubeClient& client, const Json& cached, const Outcome& outcome,
                                       std::chrono::system_clock::time_point now, const std::string& fieldManager) {
  StatusWrite out;
  Json stored = cached.contains("status") ? cached["status"] : Json::object();
  if (runtime::statusSemanticallyEqual(stored, desiredStatus(cached, outcome, now))) {
    out.object = cached;
    return out;
  }
  // First try: PUT /status on the copy we hold (its resourceVersion guards it), which saves the GET
  // of updateStatusWithRetry when our copy is current, as it is right after our own writes.
  if (!jsonString(cached, {"metadata", "resourceVersion"}).empty()) {
    Json obj = cached;
    obj["status"] = desiredStatus(cached, outcome, now);
    kube::WriteOptions opts;
    opts.fieldManager = fieldManager;
    auto put = client.updateStatus(kube::resources::kServiceDatabases, jsonString(cached, {"metadata", "namespace"}),
                                   obj, opts);
    if (put.ok()) {
      out.written = true;
      out.object = std::move(*put);
      return out;
    }
    if (!put.error().is(kube::ApiErrorReason::kConflict)) return put.error();
  }
  auto w = runtime::updateStatusWithRetry(
      client, kube::resources::kServiceDatabases, jsonString(cached, {"metadata", "namespace"}),
      jsonString(cached, {"metadata", "name"}),
      [&](const Json& fresh, Json& status) { status = desiredStatus(fresh, outcome, now); }, fieldManager);
  if (!w.ok()) return w.error();
  out.written = w->written;
  out.object = std::move(w->object);
  return out;
}

}  // namespace sdb::controllers::servicedatabase
