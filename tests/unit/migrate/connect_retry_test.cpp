// The runner's first connection: a server that refuses (a Job's new pod not yet admitted by a
// NetworkPolicy, a server restarting) is tried again once a second for connectRetryFor, then the run
// fails naming the server; with 0 it tries once. A port nobody listens on refuses at once.
#include <gtest/gtest.h>

#include "operator/migrate/runner.h"

using namespace std::chrono_literals;
using namespace sdb;
using namespace sdb::migrate;

namespace {

RunnerOptions refusedServer(FakeClock& clock, std::chrono::milliseconds retryFor) {
  RunnerOptions o;
  o.conninfo = "host=127.0.0.1 port=1 dbname=orders user=migrator sslmode=disable connect_timeout=2";
  o.connectRetryFor = retryFor;
  o.clock = &clock;
  return o;
}

TEST(RunnerConnect, KeepsTryingARefusingServerForConnectRetryForThenFails) {
  FakeClock clock;
  const auto start = clock.monotonic();
  RunReport r = runMigrations({}, refusedServer(clock, 5s));
  EXPECT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_NE(r.error.find("connecting to migrator@127.0.0.1:1/orders"), std::string::npos) << r.error;
  EXPECT_EQ(clock.monotonic() - start, 5s) << "one attempt a second for 5 s (the fake clock's sleeps)";
}

TEST(RunnerConnect, ZeroTriesOnce) {
  FakeClock clock;
  const auto start = clock.monotonic();
  RunReport r = runMigrations({}, refusedServer(clock, 0ms));
  EXPECT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_EQ(clock.monotonic() - start, 0s);
}

}  // namespace
