// In-process store benchmark (issue 3): 10,000 ConfigMap creates with 10 watchers draining events,
// in memory and with a data dir (WAL write(2) per write, and fdatasync per write). Prints
// `BENCH <name> target=<..> measured=<..> PASS|MISS`. Usage: apimachinery_bench [creates] [watchers]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "e2e/apimachinery/store.h"

namespace {

using namespace sdb;

double run(const char* name, apimachinery::StoreOptions opts, int creates, int watchers) {
  auto opened = apimachinery::Store::open(std::move(opts));
  if (!opened.ok()) {
    std::fprintf(stderr, "%s: open failed: %s\n", name, opened.error().toString().c_str());
    return -1;
  }
  auto& store = *opened.value();
  if (!store.create(kube::resources::kNamespaces, "", Json{{"metadata", {{"name", "bench"}}}}).ok()) return -1;
  std::atomic<long> received{0};
  std::vector<std::shared_ptr<apimachinery::Watcher>> ws;
  std::vector<std::thread> readers;
  for (int i = 0; i < watchers; ++i) {
    kube::WatchOptions wo;
    wo.resourceVersion = std::to_string(store.resourceVersion());
    auto w = store.watch(kube::resources::kConfigMaps, "bench", wo);
    if (!w.ok()) return -1;
    ws.push_back(w.value());
    readers.emplace_back([&received, w = w.value(), creates] {
      long mine = 0;
      while (mine < creates) {
        auto ev = w->next(std::chrono::milliseconds(2000));
        if (!ev) break;
        if (ev->type == kube::WatchEvent::Type::kAdded) { ++mine; received.fetch_add(1); }
      }
    });
  }
  std::string payload(1024, 'x');
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < creates; ++i) {
    Json cm{{"metadata", {{"name", "cm-" + std::to_string(i)}, {"labels", {{"app", "bench"}}}}},
            {"data", {{"k", payload}}}};
    auto r = store.create(kube::resources::kConfigMaps, "bench", std::move(cm));
    if (!r.ok()) { std::fprintf(stderr, "%s: create %d failed: %s\n", name, i, r.error().toString().c_str()); break; }
  }
  auto writesDone = std::chrono::steady_clock::now();
  for (auto& t : readers) t.join();
  auto end = std::chrono::steady_clock::now();
  double writeSecs = std::chrono::duration<double>(writesDone - start).count();
  double allSecs = std::chrono::duration<double>(end - start).count();
  double rate = creates / writeSecs;
  std::printf("BENCH %s_writes_per_s target=2000 measured=%.0f %s\n", name, rate, rate >= 2000 ? "PASS" : "MISS");
  long want = static_cast<long>(creates) * watchers;
  std::printf("BENCH %s_watch_events_delivered target=%ld measured=%ld %s (%.2fs until all delivered)\n", name,
              want, received.load(), received.load() == want ? "PASS" : "MISS", allSecs);
  for (auto& w : ws) store.stopWatch(w);
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  int creates = argc > 1 ? std::atoi(argv[1]) : 10000;
  int watchers = argc > 2 ? std::atoi(argv[2]) : 10;
  run("store_memory", {}, creates, watchers);
  auto dir = std::filesystem::temp_directory_path() / ("apimachinery-bench-" + std::to_string(::getpid()));
  for (bool sync : {false, true}) {
    std::filesystem::remove_all(dir);
    apimachinery::StoreOptions o;
    o.dataDir = dir.string();
    o.fsyncEveryWrite = sync;
    run(sync ? "store_wal_fdatasync" : "store_wal_write", o, creates, watchers);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
