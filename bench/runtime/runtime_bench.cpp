// Runtime benchmarks (not a ctest test). Prints `BENCH <name> target=.. measured=.. PASS|MISS`.
//  - workqueue throughput: add/get/done cycles per second over 4 workers and 1000 keys;
//  - informer events/s for ~2 KiB ServiceDatabase objects, including JSON decoding of the watch line;
//  - RSS per cached ServiceDatabase at 10,000 objects, against 2x the object's JSON size.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "operator/core/json.h"
#include "operator/runtime/informer.h"
#include "operator/runtime/workqueue.h"

using namespace sdb;
using namespace sdb::runtime;

namespace {

// The informer's cache is fed by applyEvent() directly here; this client is never called. It answers
// every request with an error so that nothing can silently depend on it.
class UnusedClient final : public kube::KubeClient {
  kube::ApiError err() const { return kube::networkError("benchmark: no API server"); }

 public:
  kube::KResult<Json> get(const kube::ResourceRef&, const std::string&, const std::string&, const std::string&) override { return err(); }
  kube::KResult<Json> list(const kube::ResourceRef&, const std::string&, const kube::ListOptions&) override { return err(); }
  kube::KResult<std::unique_ptr<kube::WatchStream>> watch(const kube::ResourceRef&, const std::string&,
                                                          const kube::WatchOptions&) override { return err(); }
  kube::KResult<Json> create(const kube::ResourceRef&, const std::string&, const Json&, const kube::WriteOptions&,
                             const std::string&, const std::string&) override { return err(); }
  kube::KResult<Json> update(const kube::ResourceRef&, const std::string&, const Json&, const kube::WriteOptions&,
                             const std::string&) override { return err(); }
  kube::KResult<Json> patch(const kube::ResourceRef&, const std::string&, const std::string&, kube::PatchType,
                            const std::string&, const kube::PatchOptions&, const std::string&) override { return err(); }
  kube::KResult<Json> remove(const kube::ResourceRef&, const std::string&, const std::string&,
                             const kube::DeleteOptions&) override { return err(); }
};

Json serviceDatabase(int i) {
  Json obj = {{"apiVersion", "servicedb.io/v1alpha1"},
              {"kind", "ServiceDatabase"},
              {"metadata",
               {{"name", "svc-" + std::to_string(i)},
                {"namespace", "ns-" + std::to_string(i % 50)},
                {"uid", "6f1c2d3e-4b5a-4c7d-8e9f-" + std::to_string(100000000000 + i)},
                {"resourceVersion", std::to_string(1000 + i)},
                {"generation", 3},
                {"creationTimestamp", "2026-11-25T03:15:00Z"},
                {"labels", {{"app.kubernetes.io/name", "orders"}, {"team", "payments"}, {"tier", "backend"}}},
                {"annotations", {{"servicedb.io/note", std::string(300, 'n')}}},
                {"finalizers", {"servicedb.io/cleanup"}}}},
              {"spec",
               {{"engine", "postgres"},
                {"version", "15"},
                {"deletionPolicy", "Retain"},
                {"storage", {{"size", "10Gi"}, {"storageClassName", "fast"}}},
                {"resources", {{"requests", {{"cpu", "250m"}, {"memory", "512Mi"}}}, {"limits", {{"memory", "1Gi"}}}}},
                {"access", {{"allowedApps", {"orders-api", "orders-worker", "billing"}}}},
                {"backup", {{"schedule", "0 3 * * *"}, {"retention", {{"daily", 7}, {"weekly", 4}}}}}}},
              {"status",
               {{"observedGeneration", 3},
                {"phase", "Ready"},
                {"endpoint", "svc-" + std::to_string(i) + ".ns.svc:5432"},
                {"conditions",
                 {{{"type", "Ready"}, {"status", "True"}, {"reason", "Ready"}, {"message", std::string(200, 'm')},
                   {"observedGeneration", 3}, {"lastTransitionTime", "2026-11-25T03:15:00Z"}},
                  {{"type", "Reconciling"}, {"status", "False"}, {"reason", "Done"}, {"message", "ok"},
                   {"observedGeneration", 3}, {"lastTransitionTime", "2026-11-25T03:15:00Z"}}}}}}};
  // Pad to about 2 KiB of JSON.
  auto size = obj.dump().size();
  if (size < 2048) obj["metadata"]["annotations"]["servicedb.io/pad"] = std::string(2048 - size - 30, 'p');
  return obj;
}

long rssBytes() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

void report(const char* name, const std::string& target, double measured, const char* unit, bool pass) {
  std::printf("BENCH %s target=%s measured=%.1f%s %s\n", name, target.c_str(), measured, unit, pass ? "PASS" : "MISS");
}

}  // namespace

int main() {
  // 1. Workqueue throughput.
  {
    FakeClock clock;
    WorkQueue q({"bench"}, clock);
    std::atomic<long> processed{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < 4; ++w) {
      workers.emplace_back([&] {
        while (auto k = q.get()) {
          ++processed;
          q.done(*k);
        }
      });
    }
    const int adds = 2'000'000;
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < adds; ++i) q.add("ns/key-" + std::to_string(i % 1000));
    while (q.len() > 0) std::this_thread::yield();
    q.shutDownWithDrain();
    for (auto& t : workers) t.join();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("# workqueue: %d adds (1000 distinct keys) in %.3f s, %ld processed (dedupe collapsed the rest)\n", adds,
                secs, processed.load());
    report("workqueue_adds_per_second", ">=100000/s", adds / secs, "/s", adds / secs >= 100000);
  }

  UnusedClient client;
  InformerOptions io;
  io.resource = kube::resources::kServiceDatabases;

  // 2. Informer events/s including JSON decoding of watch lines. The measured handler is wired like
  // Controller::For (it enqueues the new object's key, so the cache need not decode the old object).
  // The same run with an Owns-style handler, which needs the old object, is printed for comparison.
  {
    const int n = 50'000;
    std::vector<std::string> lines;
    lines.reserve(2000);
    for (int i = 0; i < 2000; ++i) {
      lines.push_back(Json{{"type", "MODIFIED"}, {"object", serviceDatabase(i)}}.dump());
    }
    std::printf("# informer: watch line size %zu bytes\n", lines[0].size());
    auto eventsPerSecond = [&](bool needsOldObject) -> double {
      Informer informer(client, io);
      std::atomic<long> handled{0};
      InformerHandlers h{[&](const ObjectPtr&) { ++handled; }, [&](const ObjectPtr&, const ObjectPtr&) { ++handled; },
                         [&](const ObjectPtr&) { ++handled; }};
      h.needsOldObject = needsOldObject;
      informer.addHandlers(std::move(h));
      auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < n; ++i) {
        auto parsed = parseJson(lines[static_cast<size_t>(i) % lines.size()], "watch event");
        if (!parsed.ok()) return 0;
        kube::WatchEvent ev;
        ev.type = i < 2000 ? kube::WatchEvent::Type::kAdded : kube::WatchEvent::Type::kModified;
        ev.object = std::move((*parsed)["object"]);
        informer.applyEvent(std::move(ev));
      }
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (handled.load() != n) std::printf("# handlers saw %ld of %d events\n", handled.load(), n);
      return n / secs;
    };
    double perSecond = eventsPerSecond(false);
    report("informer_events_per_second_2KiB", ">=20000/s", perSecond, "/s", perSecond >= 20000);
    std::printf("# informer: with a handler that needs the old object (Owns wiring): %.1f/s\n", eventsPerSecond(true));
  }

  // 3. RSS per cached object at 10,000 objects.
  {
    const int n = 10'000;
    std::vector<std::string> lines;
    lines.reserve(n);
    for (int i = 0; i < n; ++i) lines.push_back(serviceDatabase(i).dump());
    size_t jsonBytes = 0;
    for (const auto& l : lines) jsonBytes += l.size();
    double avgJson = static_cast<double>(jsonBytes) / n;
    Informer informer(client, io);
    long before = rssBytes();
    for (int i = 0; i < n; ++i) {
      kube::WatchEvent ev;
      ev.type = kube::WatchEvent::Type::kAdded;
      ev.object = std::move(*parseJson(lines[static_cast<size_t>(i)]));
      informer.applyEvent(std::move(ev));
    }
    long after = rssBytes();
    double perObject = static_cast<double>(after - before) / n;
    std::printf("# cache: %zu objects, average JSON %.0f bytes, RSS grew %.1f MiB\n", informer.size(), avgJson,
                (after - before) / 1048576.0);
    report("rss_bytes_per_cached_servicedatabase", "<=" + std::to_string(static_cast<int>(2 * avgJson)) + "B",
           perObject, "B", perObject <= 2 * avgJson);
  }
  return 0;
}
