#include "operator/runtime/metrics.h"

#include <prometheus/text_serializer.h>

namespace sdb::runtime {

namespace {
using prometheus::Histogram;

Histogram::BucketBoundaries reconcileBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7,
          0.8,   0.9,  1.0,   1.25, 1.5, 1.75, 2.0, 2.5,  3.0, 3.5,  4.0, 4.5,  5,   6,   7,
          8,     9,    10,    15,   20,  25,   30,  40,   50,  60};
}
// client-go's workqueue buckets: 10^-8 .. 10^1.
Histogram::BucketBoundaries queueBuckets() { return {1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10}; }

class PromQueueMetrics final : public WorkQueueMetrics {
 public:
  PromQueueMetrics(prometheus::Gauge& depth, prometheus::Counter& adds, prometheus::Counter& retries,
                   prometheus::Histogram& queue, prometheus::Histogram& work)
      : depth_(depth), adds_(adds), retries_(retries), queue_(queue), work_(work) {}
  void added() override { adds_.Increment(); }
  void depth(int64_t d) override { depth_.Set(static_cast<double>(d)); }
  void retried() override { retries_.Increment(); }
  void queueLatency(double s) override { queue_.Observe(s); }
  void workDuration(double s) override { work_.Observe(s); }

 private:
  prometheus::Gauge& depth_;
  prometheus::Counter& adds_;
  prometheus::Counter& retries_;
  prometheus::Histogram& queue_;
  prometheus::Histogram& work_;
};
}  // namespace

RuntimeMetrics::RuntimeMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  reconcileTotal_ = &prometheus::BuildCounter()
                         .Name("controller_runtime_reconcile_total")
                         .Help("Total number of reconciliations per controller")
                         .Register(r);
  reconcileErrors_ = &prometheus::BuildCounter()
                          .Name("controller_runtime_reconcile_errors_total")
                          .Help("Total number of reconciliation errors per controller")
                          .Register(r);
  terminalErrors_ = &prometheus::BuildCounter()
                         .Name("controller_runtime_terminal_reconcile_errors_total")
                         .Help("Total number of terminal reconciliation errors per controller")
                         .Register(r);
  reconcileTime_ = &prometheus::BuildHistogram()
                        .Name("controller_runtime_reconcile_time_seconds")
                        .Help("Length of time per reconciliation per controller")
                        .Register(r);
  queueDepth_ = &prometheus::BuildGauge().Name("workqueue_depth").Help("Current depth of workqueue").Register(r);
  queueAdds_ = &prometheus::BuildCounter()
                    .Name("workqueue_adds_total")
                    .Help("Total number of adds handled by workqueue")
                    .Register(r);
  queueRetries_ = &prometheus::BuildCounter()
                       .Name("workqueue_retries_total")
                       .Help("Total number of retries handled by workqueue")
                       .Register(r);
  queueDuration_ = &prometheus::BuildHistogram()
                        .Name("workqueue_queue_duration_seconds")
                        .Help("How long in seconds an item stays in workqueue before being requested")
                        .Register(r);
  workDuration_ = &prometheus::BuildHistogram()
                       .Name("workqueue_work_duration_seconds")
                       .Help("How long in seconds processing an item from workqueue takes")
                       .Register(r);
  restRequests_ = &prometheus::BuildCounter()
                       .Name("rest_client_requests_total")
                       .Help("Number of HTTP requests, partitioned by status code, method, and host")
                       .Register(r);
  leaderStatus_ = &prometheus::BuildGauge()
                       .Name("leader_election_master_status")
                       .Help("Gauge of if the reporting system is master of the relevant lease, 0 indicates "
                             "backup, 1 indicates master. 'name' is the string used to identify the lease")
                       .Register(r);
}

std::shared_ptr<WorkQueueMetrics> RuntimeMetrics::queueMetrics(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  prometheus::Labels l{{"name", name}};
  return std::make_shared<PromQueueMetrics>(queueDepth_->Add(l), queueAdds_->Add(l), queueRetries_->Add(l),
                                            queueDuration_->Add(l, queueBuckets()),
                                            workDuration_->Add(l, queueBuckets()));
}

void RuntimeMetrics::reconcileDone(const std::string& controller, const std::string& result, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  reconcileTotal_->Add({{"controller", controller}, {"result", result}}).Increment();
  reconcileTime_->Add({{"controller", controller}}, reconcileBuckets()).Observe(seconds);
}

void RuntimeMetrics::reconcileError(const std::string& controller, bool terminal) {
  std::lock_guard<std::mutex> lock(mu_);
  reconcileErrors_->Add({{"controller", controller}}).Increment();
  if (terminal) terminalErrors_->Add({{"controller", controller}}).Increment();
}

void RuntimeMetrics::restRequest(const std::string& code, const std::string& method, const std::string& host) {
  std::lock_guard<std::mutex> lock(mu_);
  restRequests_->Add({{"code", code}, {"method", method}, {"host", host}}).Increment();
}

void RuntimeMetrics::leaderStatus(const std::string& name, bool leading) {
  std::lock_guard<std::mutex> lock(mu_);
  leaderStatus_->Add({{"name", name}}).Set(leading ? 1 : 0);
}

std::string RuntimeMetrics::serialize() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry_->Collect());
}

}  // namespace sdb::runtime
