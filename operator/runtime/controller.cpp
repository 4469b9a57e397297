#include "operator/runtime/controller.h"

#include <cstdio>

#include "operator/core/log.h"
#include "operator/runtime/object_helpers.h"

namespace sdb::runtime {

namespace {
std::string groupOf(const std::string& apiVersion) {
  auto slash = apiVersion.find('/');
  return slash == std::string::npos ? "" : apiVersion.substr(0, slash);
}
}  // namespace

Controller::Controller(ControllerOptions options, Reconciler& reconciler)
    : options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : SystemClock::instance()),
      reconciler_(reconciler) {
  auto limiter = options_.limiter ? std::move(options_.limiter) : defaultControllerRateLimiter(clock_);
  std::shared_ptr<WorkQueueMetrics> qm = options_.metrics ? options_.metrics->queueMetrics(options_.name) : nullptr;
  queue_ = std::make_unique<WorkQueue>(WorkQueueOptions{options_.name}, clock_, std::move(limiter), qm);
}

Controller::~Controller() { stop(std::chrono::milliseconds(0)); }

Controller& Controller::For(Informer& informer) {
  auto enqueue = [this](const ObjectPtr& obj) { queue_->add(objectKey(*obj)); };
  InformerHandlers h{enqueue, [enqueue](const ObjectPtr&, const ObjectPtr& n) { enqueue(n); }, enqueue};
  h.needsOldObject = false;  // the key is the new object's; a compact cache need not decode the old one
  informer.addHandlers(std::move(h));
  return *this;
}

Controller& Controller::Owns(Informer& informer, const std::string& ownerKind, const std::string& ownerGroup) {
  auto enqueueOwner = [this, ownerKind, ownerGroup](const ObjectPtr& obj) {
    auto ref = controllerOf(*obj);
    if (!ref || ref->value("kind", "") != ownerKind || groupOf(ref->value("apiVersion", "")) != ownerGroup) return;
    queue_->add(objectKey(jsonString(*obj, {"metadata", "namespace"}), ref->value("name", "")));
  };
  informer.addHandlers({enqueueOwner,
                        [enqueueOwner](const ObjectPtr& o, const ObjectPtr& n) {
                          enqueueOwner(n);
                          // An owner change re-parents the child: tell the old owner too.
                          if (o != n) enqueueOwner(o);
                        },
                        enqueueOwner});
  return *this;
}

void Controller::start() {
  if (started_.exchange(true)) return;
  for (int i = 0; i < std::max(1, options_.workers); ++i) workers_.emplace_back([this] { worker(); });
}

bool Controller::stop(std::chrono::milliseconds timeout) {
  queue_->shutDown();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (inFlight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  bool drained = inFlight_.load() == 0;
  for (auto& t : workers_) {
    if (!t.joinable()) continue;
    if (drained) {
      t.join();
    } else {
      t.detach();  // a reconcile overran the shutdown budget; the process is about to exit
    }
  }
  workers_.clear();
  return drained;
}

void Controller::worker() {
  while (true) {
    if (queue_->shuttingDown()) return;  // stop taking work; queued keys are dropped
    auto key = queue_->get();
    if (!key) return;
    ++inFlight_;
    processOne(*key);
    queue_->done(*key);
    --inFlight_;
  }
}

void Controller::processOne(const std::string& key) {
  auto [ns, name] = splitKey(key);
  char id[24];
  std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(nextId_.fetch_add(1)));
  ReconcileContext ctx{options_.name, id};
  LogFields fields{{"controller", options_.name}, {"namespace", ns}, {"name", name}, {"reconcileID", id}};
  logStructured(spdlog::level::debug, "reconciling", fields);
  auto start = clock_.monotonic();
  ReconcileResult result;
  try {
    result = reconciler_.reconcile(Request{ns, name}, ctx);
  } catch (const std::exception& e) {
    result = ReconcileResult::retry(std::string("panic: ") + e.what());
  } catch (...) {
    result = ReconcileResult::retry("panic: unknown exception");
  }
  double seconds = std::chrono::duration<double>(clock_.monotonic() - start).count();
  ++reconciles_;
  std::string label;
  switch (result.kind) {
    case ReconcileResult::Kind::kOk:
      queue_->forget(key);
      label = "success";
      break;
    case ReconcileResult::Kind::kRequeueAfter:
      queue_->forget(key);
      queue_->addAfter(key, result.after);
      label = "requeue_after";
      break;
    case ReconcileResult::Kind::kRetry: {
      queue_->addRateLimited(key);
      label = "error";
      auto f = fields;
      f.emplace_back("error", result.error);
      logStructured(spdlog::level::err, "reconcile failed; retrying with backoff", f);
      break;
    }
    case ReconcileResult::Kind::kTerminal: {
      queue_->forget(key);
      label = "error";
      auto f = fields;
      f.emplace_back("error", result.error);
      logStructured(spdlog::level::err, "reconcile failed terminally; not requeued", f);
      break;
    }
  }
  if (options_.metrics) {
    options_.metrics->reconcileDone(options_.name, label, seconds);
    if (label == "error") options_.metrics->reconcileError(options_.name, result.kind == ReconcileResult::Kind::kTerminal);
  }
  logStructured(spdlog::level::debug, "reconciled", fields);
}

}  // namespace sdb::runtime
