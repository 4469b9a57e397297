// The operator's Prometheus metrics, under controller-runtime's and client-go's names:
//   controller_runtime_reconcile_total{controller,result}   result = success|requeue|requeue_after|error
//   controller_runtime_reconcile_errors_total{controller}
//   controller_runtime_reconcile_time_seconds{controller}   (histogram)
//   controller_runtime_terminal_reconcile_errors_total{controller}
//   workqueue_depth / _adds_total / _retries_total / _queue_duration_seconds / _work_duration_seconds {name}
//   rest_client_requests_total{code,method,host}
//   leader_election_master_status{name}
//
// Contract: thread-safe (prometheus-cpp metrics are atomic; family creation is locked here).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "operator/runtime/workqueue.h"

namespace sdb::runtime {

class RuntimeMetrics {
 public:
  RuntimeMetrics();

  std::shared_ptr<WorkQueueMetrics> queueMetrics(const std::string& name);
  // result: "success", "requeue", "requeue_after" or "error".
  void reconcileDone(const std::string& controller, const std::string& result, double seconds);
  void reconcileError(const std::string& controller, bool terminal);
  void restRequest(const std::string& code, const std::string& method, const std::string& host);
  void leaderStatus(const std::string& name, bool leading);

  // The Prometheus text exposition format (version 0.0.4).
  std::string serialize() const;
  prometheus::Registry& registry() { return *registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::mutex mu_;
  prometheus::Family<prometheus::Counter>* reconcileTotal_;
  prometheus::Family<prometheus::Counter>* reconcileErrors_;
  prometheus::Family<prometheus::Counter>* terminalErrors_;
  prometheus::Family<prometheus::Histogram>* reconcileTime_;
  prometheus::Family<prometheus::Gauge>* queueDepth_;
  prometheus::Family<prometheus::Counter>* queueAdds_;
  prometheus::Family<prometheus::Counter>* queueRetries_;
  prometheus::Family<prometheus::Histogram>* queueDuration_;
  prometheus::Family<prometheus::Histogram>* workDuration_;
  prometheus::Family<prometheus::Counter>* restRequests_;
  prometheus::Family<prometheus::Gauge>* leaderStatus_;
};

}  // namespace sdb::runtime
