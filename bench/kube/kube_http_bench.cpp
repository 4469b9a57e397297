// HttpKubeClient benchmark against the local cluster over HTTPS (not a ctest test). Prints
// `BENCH <name> target=.. measured=.. PASS|MISS`:
//  - kube_http_creates: POSTs of ~2 KiB ConfigMaps per second from 4 threads sharing one client;
//  - kube_http_watch_decode: events per second a watch delivers through the client (incremental
//    reads, line splitting and JSON decoding), replaying 10,000 ~2 KiB events from history;
//  - kube_http_informer_sync: an informer's cold start (paged list of the 10,000 objects).
// Usage: build/bin/kube_http_bench   (builds servicedb-localcluster first; runs it in a temp dir)
#include <sys/resource.h>

#include <atomic>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "e2e/fixture/local_cluster.h"
#include "operator/runtime/informer.h"

using namespace sdb;
using namespace std::chrono;
namespace res = sdb::kube::resources;

int main() {
  constexpr int kObjects = 10000, kWriters = 4;
  e2e::LocalCluster cluster({"--watch-history", "20000"});
  if (auto s = cluster.start(); !s.ok()) {
    std::fprintf(stderr, "cannot start the local cluster: %s\n", s.error().message.c_str());
    return 1;
  }
  auto client = cluster.client();
  (void)client->create(res::kNamespaces, "", {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "bench"}}}});
  auto before = client->list(res::kConfigMaps, "bench");
  const std::string startRv = jsonString(*before, {"metadata", "resourceVersion"});

  std::atomic<int> failed{0};
  auto t0 = steady_clock::now();
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = w; i < kObjects; i += kWriters) {
        Json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                   {"metadata", {{"name", "cm-" + std::to_string(i)}, {"labels", {{"app", "bench"}, {"shard", std::to_string(i % 16)}}}}},
                   {"data", {{"payload", std::string(1900, static_cast<char>('a' + i % 26))}}}};
        if (!client->create(res::kConfigMaps, "bench", cm).ok()) ++failed;
      }
    });
  }
  for (auto& t : writers) t.join();
  const double createSecs = duration<double>(steady_clock::now() - t0).count();
  const double createRate = kObjects / createSecs;
  std::printf("BENCH kube_http_creates target=>=1000/s measured=%.0f/s (%d creates, %d threads, one client, %d failed) %s\n",
              createRate, kObjects, kWriters, failed.load(), createRate >= 1000 && failed == 0 ? "PASS" : "MISS");

  kube::WatchOptions wo;
  wo.resourceVersion = startRv;
  wo.allowWatchBookmarks = false;
  wo.timeoutSeconds = 120;
  auto cpu = [] {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  };
  const double cpu0 = cpu();
  t0 = steady_clock::now();
  auto w = client->watch(res::kConfigMaps, "bench", wo);
  int events = 0;
  size_t bytes = 0;
  while (w.ok() && events < kObjects) {
    auto e = (*w)->next();
    if (!e.ok() || !e->has_value()) break;
    bytes += (*e)->object["data"]["payload"].get_ref<const std::string&>().size();
    ++events;
  }
  const double watchSecs = duration<double>(steady_clock::now() - t0).count();
  const double clientCpu = cpu() - cpu0;
  const double watchRate = events / watchSecs;
  std::printf("BENCH kube_http_watch_decode target=>=20000 events/s measured=%.0f events/s (%d of %d events, ~2 KiB each, "
              "%.2f s; the client used %.2f s of CPU, %.0f events per client CPU second; server on the same machine) %s\n",
              watchRate, events, kObjects, watchSecs, clientCpu, events / std::max(clientCpu, 1e-6),
              events == kObjects && watchRate >= 20000 ? "PASS" : "MISS");
  if (w.ok()) (*w)->stop();

  runtime::InformerOptions io;
  io.resource = res::kConfigMaps;
  io.ns = "bench";
  io.resyncPeriod = milliseconds(0);
  runtime::Informer informer(*client, io);
  t0 = steady_clock::now();
  informer.start();
  const bool synced = informer.waitForSync(seconds(60));
  const double syncSecs = duration<double>(steady_clock::now() - t0).count();
  std::printf("BENCH kube_http_informer_sync target=<=5 s measured=%.2f s (%zu objects, pages of %lld) %s\n", syncSecs,
              informer.size(), static_cast<long long>(io.listPageSize),
              synced && informer.size() == kObjects && syncSecs <= 5 ? "PASS" : "MISS");
  informer.stop();
  (void)bytes;
  return 0;
}
