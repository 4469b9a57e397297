#include "e2e/workloads/workloads.h"

#include "e2e/apimachinery_client/inprocess_client.h"
#include "e2e/workloads/cronjob.h"
#include "e2e/workloads/deployment.h"
#include "e2e/workloads/endpoints.h"
#include "e2e/workloads/field_manager_client.h"
#include "e2e/workloads/job.h"
#include "e2e/workloads/replicaset.h"
#include "e2e/workloads/scheduler.h"
#include "e2e/workloads/statefulset.h"
#include "e2e/workloads/volume_binder.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/event_recorder.h"

namespace sdb::workloads {

namespace res = kube::resources;

struct Workloads::Impl {
  WorkloadsOptions options;
  apimachinery::InProcessKubeClient store;
  FieldManagerClient client;  // the controllers' writes carry manager kube-controller-manager
  Clock& clock;
  Random& random;
  Informers informers;
  Context ctx;
  // One event recorder per component, so `kubectl describe` shows who acted.
  std::vector<std::unique_ptr<runtime::EventRecorder>> recorders;
  std::vector<std::unique_ptr<runtime::Reconciler>> reconcilers;
  std::vector<std::unique_ptr<runtime::Controller>> controllers;
  bool started = false;

  Impl(apimachinery::Store& s, WorkloadsOptions o)
      : options(std::move(o)),
        store(s),
        client(store, "kube-controller-manager"),
        clock(options.clock ? *options.clock : SystemClock::instance()),
        random(options.random ? *options.random : CryptoRandom::instance()),
        ctx{client, clock, random, options, informers} {}

  std::unique_ptr<runtime::Informer> informer(const kube::ResourceRef& ref) {
    runtime::InformerOptions o;
    o.resource = ref;
    return std::make_unique<runtime::Informer>(client, o, clock);
  }

  runtime::EventRecorder& recorder(const std::string& component) {
    runtime::EventRecorderOptions o;
    o.component = component;
    recorders.push_back(std::make_unique<runtime::EventRecorder>(client, o, clock));
    return *recorders.back();
  }

  template <class R, class... Args>
  R& controller(const std::string& name, Args&&... args) {
    auto r = std::make_unique<R>(ctx, std::forward<Args>(args)...);
    R& ref = *r;
    runtime::ControllerOptions o;
    o.name = name;
    o.workers = options.workersPerController;
    o.clock = &clock;
    controllers.push_back(std::make_unique<runtime::Controller>(std::move(o), ref));
    ref.wire(*controllers.back());
    reconcilers.push_back(std::move(r));
    return ref;
  }

  std::vector<runtime::Informer*> allInformers() {
    return {informers.pods.get(), informers.statefulSets.get(), informers.controllerRevisions.get(),
            informers.deployments.get(), informers.replicaSets.get(), informers.jobs.get(), informers.cronJobs.get(),
            informers.services.get(), informers.endpoints.get(), informers.claims.get(), informers.storageClasses.get()};
  }
};

Workloads::Workloads(apimachinery::Store& store, WorkloadsOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {
  Informers& i = impl_->informers;
  i.pods = impl_->informer(res::kPods);
  i.statefulSets = impl_->informer(res::kStatefulSets);
  i.controllerRevisions = impl_->informer(res::kControllerRevisions);
  i.deployments = impl_->informer(res::kDeployments);
  i.replicaSets = impl_->informer(res::kReplicaSets);
  i.jobs = impl_->informer(res::kJobs);
  i.cronJobs = impl_->informer(res::kCronJobs);
  i.services = impl_->informer(res::kServices);
  i.endpoints = impl_->informer(res::kEndpoints);
  i.claims = impl_->informer(res::kPersistentVolumeClaims);
  i.storageClasses = impl_->informer(res::kStorageClasses);
}

Workloads::~Workloads() { stop(); }

Status Workloads::start(std::chrono::milliseconds syncTimeout) {
  Impl& m = *impl_;
  if (m.started) return okStatus();
  if (m.options.defaultStorageClass) SDB_TRY(ensureDefaultStorageClass(m.client));
  m.controller<Scheduler>("scheduler", m.recorder("default-scheduler"));
  m.controller<VolumeBinder>("persistentvolume-binder", m.recorder("persistentvolume-controller"));
  m.controller<EndpointsController>("endpoints");
  m.controller<StatefulSetController>("statefulset", m.recorder("statefulset-controller"));
  m.controller<JobController>("job", m.recorder("job-controller"));
  m.controller<CronJobController>("cronjob", m.recorder("cronjob-controller"));
  m.controller<ReplicaSetController>("replicaset", m.recorder("replicaset-controller"));
  m.controller<DeploymentController>("deployment", m.recorder("deployment-controller"));
  for (auto* inf : m.allInformers()) inf->start();
  for (auto* inf : m.allInformers()) {
    if (!inf->waitForSync(syncTimeout)) {
      return Error(ErrorCode::kTimeout, "workload controllers: the " + inf->resource().groupResource() +
                                            " informer did not sync in time");
    }
  }
  for (auto& r : m.recorders) r->start();
  for (auto& c : m.controllers) c->start();
  m.started = true;
  return okStatus();
}

void Workloads::stop() {
  Impl& m = *impl_;
  for (auto& c : m.controllers) c->stop(std::chrono::seconds(5));
  for (auto* inf : m.allInformers()) inf->stop();
  for (auto& r : m.recorders) r->stop(std::chrono::seconds(1));
  m.started = false;
}

uint64_t Workloads::reconciles() const {
  uint64_t n = 0;
  for (const auto& c : impl_->controllers) n += c->reconciles();
  return n;
}

}  // namespace sdb::workloads
