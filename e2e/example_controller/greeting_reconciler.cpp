#include "e2e/example_controller/greeting_reconciler.h"

#include "operator/core/log.h"
#include "operator/runtime/conditions.h"
#include "operator/runtime/object_helpers.h"
#include "operator/runtime/status_writer.h"

namespace sdb::example {

namespace {

int64_t generationOf(const Json& obj) {
  const Json* g = jsonAt(obj, {"metadata", "generation"});
  return g && g->is_number_integer() ? g->get<int64_t>() : 0;
}

kube::WriteOptions writeOptions() {
  kube::WriteOptions o;
  o.fieldManager = kFieldManager;
  return o;
}

}  // namespace

GreetingReconciler::GreetingReconciler(kube::KubeClient& client, runtime::KindCache& greetings,
                                       runtime::KindCache& configMaps, std::string identity,
                                       runtime::EventRecorder* events, Clock& clock)
    : client_(client), greetings_(greetings), configMaps_(configMaps), identity_(std::move(identity)), events_(events),
      clock_(clock) {}

Json GreetingReconciler::desiredStatus(const Json& greeting, const std::string& cmName, bool ready,
                                       const std::string& reason, const std::string& message,
                                       std::chrono::system_clock::time_point now) const {
  Json status = greeting.contains("status") && greeting["status"].is_object() ? greeting["status"] : Json::object();
  const int64_t gen = generationOf(greeting);
  status["observedGeneration"] = gen;
  if (ready) status["configMapName"] = cmName;
  runtime::setCondition(status, {runtime::conditions::kReady, ready ? "True" : "False", reason, message, gen}, now);
  runtime::setCondition(status, {runtime::conditions::kReconciling, "False", reason, message, gen}, now);
  runtime::setCondition(status, {runtime::conditions::kStalled, ready ? "False" : "True", reason, message, gen}, now);
  return status;
}

runtime::ReconcileResult GreetingReconciler::writeStatus(const runtime::Request& request, const Json& greeting,
                                                         const std::string& cmName, bool ready,
                                                         const std::string& reason, const std::string& message) {
  Json stored = greeting.contains("status") ? greeting["status"] : Json::object();
  if (runtime::statusSemanticallyEqual(stored, desiredStatus(greeting, cmName, ready, reason, message, clock_.now()))) {
    return runtime::ReconcileResult::ok();
  }
  auto written = runtime::updateStatusWithRetry(
      client_, kGreetings, request.ns, request.name,
      [&](const Json& obj, Json& status) { status = desiredStatus(obj, cmName, ready, reason, message, clock_.now()); },
      kFieldManager);
  if (!written.ok()) {
    if (written.error().is(kube::ApiErrorReason::kNotFound)) return runtime::ReconcileResult::ok();
    return runtime::ReconcileResult::retry("status: " + written.error().toString());
  }
  return ready ? runtime::ReconcileResult::ok() : runtime::ReconcileResult::terminal(message);
}

runtime::ReconcileResult GreetingReconciler::reconcile(const runtime::Request& request,
                                                       const runtime::ReconcileContext& context) {
  auto greeting = greetings_.get(request.ns, request.name);
  if (!greeting) return runtime::ReconcileResult::ok();  // gone: its ConfigMap goes with the owner reference
  if (jsonAt(*greeting, {"metadata", "deletionTimestamp"})) return runtime::ReconcileResult::ok();
  const std::string message = jsonString(*greeting, {"spec", "message"});
  const std::string cmName = request.name + "-greeting";
  const std::string uid = jsonString(*greeting, {"metadata", "uid"});

  auto live = configMaps_.get(request.ns, cmName);
  if (live) {
    auto owner = runtime::controllerOf(*live);
    if (!owner || owner->value("uid", "") != uid) {
      return writeStatus(request, *greeting, cmName, false, "ForeignConfigMap",
                         "ConfigMap " + cmName + " exists and is not controlled by this Greeting");
    }
  }
  if (!live || jsonString(*live, {"data", "message"}) != message) {
    Json cm = live ? *live
                   : Json{{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                          {"metadata", {{"name", cmName}, {"namespace", request.ns},
                                        {"labels", {{"app.kubernetes.io/managed-by", "example-controller"},
                                                    {"example.servicedb.io/greeting", request.name}}}}}};
    cm["data"]["message"] = message;
    cm["metadata"]["annotations"][kWrittenByAnnotation] = identity_;
    runtime::setControllerReference(*greeting, cm);
    // A write from a stale cache fails (AlreadyExists, or Conflict on the resourceVersion we read) and
    // is retried once the cache caught up: never a blind overwrite.
    auto written = live ? client_.update(kube::resources::kConfigMaps, request.ns, cm, writeOptions())
                        : client_.create(kube::resources::kConfigMaps, request.ns, cm, writeOptions());
    if (!written.ok()) return runtime::ReconcileResult::retry("ConfigMap " + cmName + ": " + written.error().toString());
    ++cmWrites_;
    logStructured(spdlog::level::info, live ? "updated the ConfigMap" : "created the ConfigMap",
                  {{"controller", context.controller}, {"namespace", request.ns}, {"name", request.name},
                   {"reconcileID", context.reconcileId}, {"configMap", cmName}});
    if (events_) events_->event(*greeting, "Normal", live ? "Updated" : "Created", "ConfigMap " + cmName + " holds the message");
  }
  return writeStatus(request, *greeting, cmName, true, "Reconciled", "ConfigMap " + cmName + " holds the message");
}

std::unique_ptr<GreetingReconciler> addGreetingController(runtime::Manager& manager, const std::string& identity) {
  auto& greetings = manager.cache(kGreetings);
  auto& configMaps = manager.cache(kube::resources::kConfigMaps);
  auto r = std::make_unique<GreetingReconciler>(manager.client(), greetings, configMaps, identity, &manager.events());
  manager.addController("greeting", *r, kGreetings, {kube::resources::kConfigMaps});
  return r;
}

}  // namespace sdb::example
