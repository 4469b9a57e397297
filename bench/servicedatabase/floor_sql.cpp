// servicedatabase_floor_sql: the SQL floor of the ServiceDatabase benchmark. For N ServiceDatabases
// it runs exactly the statements the PostgreSQL engine plans for a fresh shared-mode database
// (plan against an empty observation, then execute), with no Kubernetes, no observation and no
// controller around it, on W threads (the operator's worker count), and prints the seconds taken.
//
//   servicedatabase_floor_sql --host H --port P --user U --password-env VAR --ca FILE
//                             --namespace NS --count N [--workers W]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "operator/engines/postgres/execute.h"
#include "operator/engines/postgres/plan.h"
#include "operator/engines/postgres/postgres_engine.h"

using namespace sdb;
using namespace sdb::engines;
using namespace sdb::engines::postgres;

int main(int argc, char** argv) {
  ConnectionOptions admin;
  std::string ns = "floor";
  int count = 0, workers = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i], v = argv[i + 1];
    if (f == "--host") admin.host = v;
    else if (f == "--port") admin.port = std::atoi(v.c_str());
    else if (f == "--user") admin.user = v;
    else if (f == "--password-env") admin.password = std::getenv(v.c_str()) ? std::getenv(v.c_str()) : "";
    else if (f == "--ca") admin.sslrootcert = v;
    else if (f == "--namespace") ns = v;
    else if (f == "--count") count = std::atoi(v.c_str());
    else if (f == "--workers") workers = std::atoi(v.c_str());
  }
  if (count <= 0 || admin.user.empty()) {
    std::fprintf(stderr, "usage: %s --host H --port P --user U --password-env VAR --ca FILE --namespace NS --count N\n",
                 argv[0]);
    return 2;
  }
  admin.sslmode = "verify-full";
  std::atomic<int> next{0}, failed{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        Engine::ReconcileInput in;
        in.id = {ns, "sdb-" + std::to_string(i), "floor-uid"};
        in.credentials = {{"app", "floor-app-password-0123456789abcd"}, {"migration", "floor-mig-password-0123456789ab"}};
        Desired d = desiredFor(in, admin.user, Mode::kShared);
        ExecuteReport r = execute(admin, plan(d, Observed{}));
        if (r.failure) {
          if (failed++ == 0) std::fprintf(stderr, "%s\n", r.failure->toString().c_str());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%.3f\n", seconds);
  return failed ? 1 : 0;
}
