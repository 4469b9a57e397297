#include "controllers/placeholder/placeholder.h"

#include "operator/core/log.h"
#include "operator/runtime/conditions.h"
#include "operator/runtime/status_writer.h"

namespace sdb::controllers {

namespace {
constexpr const char* kReason = "NotImplemented";
constexpr const char* kFieldManager = "servicedb-operator";

int64_t generationOf(const Json& obj) {
  const Json* g = jsonAt(obj, {"metadata", "generation"});
  return g && g->is_number_integer() ? g->get<int64_t>() : 0;
}
}  // namespace

PlaceholderReconciler::PlaceholderReconciler(kube::KubeClient& client, runtime::KindCache& cache,
                                             kube::ResourceRef resource, Clock& clock, runtime::EventRecorder* events)
    : client_(client), cache_(cache), resource_(std::move(resource)), clock_(clock), events_(events) {}

Json PlaceholderReconciler::desiredStatus(const Json& object, std::chrono::system_clock::time_point now) const {
  Json status = object.contains("status") && object["status"].is_object() ? object["status"] : Json::object();
  int64_t gen = generationOf(object);
  std::string message = "the " + resource_.kind + " controller is not implemented yet in this version of servicedb-operator";
  status["observedGeneration"] = gen;
  runtime::setCondition(status, {runtime::conditions::kStalled, "True", kReason, message, gen}, now);
  runtime::setCondition(status, {runtime::conditions::kReady, "False", kReason, message, gen}, now);
  runtime::setCondition(status, {runtime::conditions::kReconciling, "False", kReason, message, gen}, now);
  return status;
}

runtime::ReconcileResult PlaceholderReconciler::reconcile(const runtime::Request& request,
                                                          const runtime::ReconcileContext& context) {
  auto cached = cache_.get(request.ns, request.name);
  if (!cached) return runtime::ReconcileResult::ok();  // gone: children go with owner references
  Json stored = cached->contains("status") ? (*cached)["status"] : Json::object();
  if (runtime::statusSemanticallyEqual(stored, desiredStatus(*cached, clock_.now()))) {
    return runtime::ReconcileResult::ok();  // already reported; no API call
  }
  auto written = runtime::updateStatusWithRetry(
      client_, resource_, request.ns, request.name,
      [&](const Json& obj, Json& status) { status = desiredStatus(obj, clock_.now()); }, kFieldManager);
  if (!written.ok()) {
    if (written.error().is(kube::ApiErrorReason::kNotFound)) return runtime::ReconcileResult::ok();
    return runtime::ReconcileResult::retry(written.error().toString());
  }
  if (written->written) {
    ++writes_;
    logStructured(spdlog::level::info, "reported NotImplemented on status",
                  {{"controller", context.controller},
                   {"namespace", request.ns},
                   {"name", request.name},
                   {"reconcileID", context.reconcileId}});
    if (events_) {
      events_->event(written->object, "Warning", kReason,
                     "the " + resource_.kind + " controller is not implemented yet");
    }
  }
  return runtime::ReconcileResult::ok();
}

std::vector<std::unique_ptr<PlaceholderReconciler>> addPlaceholderControllers(
    runtime::Manager& manager, const std::vector<kube::ResourceRef>& kinds) {
  std::vector<std::unique_ptr<PlaceholderReconciler>> out;
  for (const auto* ref = kinds.data(); ref != kinds.data() + kinds.size(); ++ref) {
    auto& cache = manager.cache(*ref);
    out.push_back(std::make_unique<PlaceholderReconciler>(manager.client(), cache, *ref, SystemClock::instance(),
                                                          &manager.events()));
    std::string name = ref->kind;
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    manager.addController(name, *out.back(), *ref);
  }
  return out;
}

}  // namespace sdb::controllers
