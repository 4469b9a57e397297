// Workqueue semantics: dedupe, no concurrent processing of a key, backoff schedule, token bucket
// with a fake clock, delayed adds and shutdown.
#include "operator/runtime/workqueue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

using namespace std::chrono_literals;
using sdb::FakeClock;
using namespace sdb::runtime;

TEST(WorkQueue, DeduplicatesQueuedKeys) {
  FakeClock clock;
  WorkQueue q({"t"}, clock);
  q.add("a");
  q.add("b");
  q.add("a");
  EXPECT_EQ(q.len(), 2);
  EXPECT_EQ(*q.get(), "a");
  EXPECT_EQ(*q.get(), "b");
  EXPECT_EQ(q.len(), 0);
}

TEST(WorkQueue, KeyAddedWhileProcessingIsRequeuedOnlyAfterDone) {
  FakeClock clock;
  WorkQueue q({"t"}, clock);
  q.add("a");
  auto k = q.get();
  ASSERT_EQ(*k, "a");
  q.add("a");
  q.add("a");
  EXPECT_EQ(q.len(), 0) << "a is being processed; it must not be handed to another worker";
  EXPECT_FALSE(q.tryGet(20ms).has_value());
  q.done("a");
  EXPECT_EQ(q.len(), 1);
  EXPECT_EQ(*q.get(), "a");
  q.done("a");
  EXPECT_EQ(q.len(), 0);
}

TEST(WorkQueue, NoKeyIsProcessedByTwoWorkersAtOnce) {
  sdb::SystemClock& clock = sdb::SystemClock::instance();
  WorkQueue q({"t"}, clock);
  std::atomic<bool> stop{false};
  std::map<std::string, std::atomic<int>> active;
  for (int i = 0; i < 5; ++i) active["k" + std::to_string(i)] = 0;
  std::atomic<int> violations{0}, processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = q.get()) {
        if (++active[*key] > 1) ++violations;
        std::this_thread::sleep_for(100us);
        --active[*key];
        ++processed;
        q.done(*key);
      }
    });
  }
  std::thread producer([&] {
    for (int i = 0; i < 5000; ++i) {
      q.add("k" + std::to_string(i % 5));
      if (i % 100 == 0) std::this_thread::sleep_for(200us);  // let workers overlap the producer
    }
  });
  producer.join();
  while (q.len() > 0) std::this_thread::sleep_for(1ms);
  q.shutDownWithDrain();
  for (auto& t : workers) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GE(processed.load(), 5);
  EXPECT_LT(processed.load(), 5000) << "dedupe should have collapsed many adds";
}

TEST(WorkQueue, DelayedAddUsesClockAndKeepsEarliest) {
  FakeClock clock;
  WorkQueue q({"t"}, clock);
  q.addAfter("a", 10s);
  q.addAfter("a", 2s);
  EXPECT_EQ(q.waitingLen(), 1);
  clock.advance(1s);
  q.flushDelayed();
  EXPECT_EQ(q.len(), 0);
  clock.advance(1s);
  q.flushDelayed();
  EXPECT_EQ(q.len(), 1);
  EXPECT_EQ(q.waitingLen(), 0);
}

TEST(WorkQueue, DelayThreadPicksUpDueKeysWithoutFlush) {
  FakeClock clock;
  WorkQueue q({"t", 5ms}, clock);
  q.addAfter("a", 1s);
  clock.advance(1s);
  auto k = q.tryGet(2000ms);
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(*k, "a");
}

TEST(WorkQueue, ShutDownWakesGettersAndDrainWaitsForInFlight) {
  FakeClock clock;
  WorkQueue q({"t"}, clock);
  std::thread getter([&] { EXPECT_FALSE(q.get().has_value()); });
  std::this_thread::sleep_for(20ms);
  q.shutDown();
  getter.join();

  WorkQueue q2({"t2"}, clock);
  q2.add("x");
  auto key = q2.get();
  std::atomic<bool> drained{false};
  std::thread drainer([&] {
    q2.shutDownWithDrain();
    drained = true;
  });
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(drained.load()) << "drain must wait for the in-flight key";
  q2.add("y");
  EXPECT_EQ(q2.len(), 0) << "adds after shutdown are ignored";
  q2.done(*key);
  drainer.join();
  EXPECT_TRUE(drained.load());
}

TEST(RateLimiter, ExponentialBackoffSchedule) {
  ItemExponentialRateLimiter l;
  EXPECT_EQ(l.when("a"), 5ms);
  EXPECT_EQ(l.when("a"), 10ms);
  EXPECT_EQ(l.when("a"), 20ms);
  EXPECT_EQ(l.when("b"), 5ms) << "backoff is per key";
  for (int i = 0; i < 30; ++i) (void)l.when("a");
  EXPECT_EQ(l.when("a"), std::chrono::seconds(1000)) << "capped at 1000 s";
  EXPECT_EQ(l.numRequeues("a"), 34);
  l.forget("a");
  EXPECT_EQ(l.when("a"), 5ms);
  // 5 ms * 2^17 = 655 s; 2^18 would pass the cap.
  ItemExponentialRateLimiter m;
  Duration last{};
  for (int i = 0; i < 18; ++i) last = m.when("k");
  EXPECT_EQ(last, std::chrono::milliseconds(5 * (1 << 17)));
  EXPECT_EQ(m.when("k"), std::chrono::seconds(1000));
}

TEST(RateLimiter, TokenBucketBurstThenQps) {
  FakeClock clock;
  TokenBucketRateLimiter l({10, 100}, clock);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(l.when("k" + std::to_string(i)), Duration::zero()) << i;
  EXPECT_EQ(l.when("x"), 100ms);
  EXPECT_EQ(l.when("y"), 200ms);
  clock.advance(1s);  // refills 10 tokens, 2 already reserved
  for (int i = 0; i < 8; ++i) EXPECT_EQ(l.when("z"), Duration::zero()) << i;
  EXPECT_EQ(l.when("z"), 100ms);
}

TEST(RateLimiter, DefaultIsMaxOfBoth) {
  FakeClock clock;
  auto l = defaultControllerRateLimiter(clock);
  EXPECT_EQ(l->when("a"), 5ms);
  for (int i = 0; i < 200; ++i) (void)l->when("k" + std::to_string(i));
  EXPECT_GT(l->when("b"), 5ms) << "the bucket is exhausted, so it dominates the first backoff step";
}

TEST(WorkQueue, AddRateLimitedBacksOffAndCountsRetries) {
  FakeClock clock;
  struct Counting : WorkQueueMetrics {
    std::atomic<int> adds{0}, retries{0};
    void added() override { ++adds; }
    void retried() override { ++retries; }
  };
  auto metrics = std::make_shared<Counting>();
  WorkQueue q({"t"}, clock, std::make_unique<ItemExponentialRateLimiter>(), metrics);
  q.addRateLimited("a");
  q.flushDelayed();
  EXPECT_EQ(q.len(), 0);
  clock.advance(5ms);
  q.flushDelayed();
  EXPECT_EQ(q.len(), 1);
  EXPECT_EQ(q.numRequeues("a"), 1);
  q.forget("a");
  EXPECT_EQ(q.numRequeues("a"), 0);
  EXPECT_EQ(metrics->retries.load(), 1);
  EXPECT_EQ(metrics->adds.load(), 1);
}
