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
  // Server-side apply with a fixed field manager, skipped when the live object already holds every
  // field we own (runtime::applyIfChanged): no write in the steady state, drift repaired otherwise.
  Json desired = {{"apiVersion", "v1"},
                  {"kind", "ConfigMap"},
                  {"metadata",
                   {{"name", cmName},
                    {"namespace", request.ns},
                    {"labels", {{"app.kubernetes.io/managed-by", "example-controller"},
                                {"example.servicedb.io/greeting", request.name}}},
                    {"annotations", {{kWrittenByAnnotation, identity_}}},
                    {"ownerReferences", Json::array({runtime::controllerReference(*greeting)})}}},
                  {"data", {{"message", message}}}};
  const bool drifted = live && jsonString(*live, {"data", "message"}) != message;
  auto applied = runtime::applyIfChanged(client_, kube::resources::kConfigMaps, desired,
                                         live ? std::optional<Json>(*live) : std::nullopt, kFieldManager);
  if (!applied.ok()) return runtime::ReconcileResult::retry("ConfigMap " + cmName + ": " + applied.error().toString());
  if (applied->applied) {
    ++cmWrites_;
    const char* what = !live ? "Created" : drifted ? "Updated" : "Stamped";
    logStructured(spdlog::level::info, "applied the ConfigMap",
                  {{"controller", context.controller}, {"namespace", request.ns}, {"name", request.name},
                   {"reconcileID", context.reconcileId}, {"configMap", cmName}, {"change", what}});
    if (events_) events_->event(*greeting, "Normal", what, "ConfigMap " + cmName + " holds the message");
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
