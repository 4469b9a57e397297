// The keys format of shared-Redis backups: round trip in any split, and every malformed input
// refused with an error naming the record.
#include "operator/backup/redis/keys_format.h"

#include <gtest/gtest.h>

namespace sdb::backup::redis {
namespace {

std::string encode(const std::vector<KeyRecord>& records, const std::string& prefix = "shop:orders:") {
  std::string out;
  KeysWriter w([&](const uint8_t* d, size_t n) {
    out.append(reinterpret_cast<const char*>(d), n);
    return okStatus();
  });
  EXPECT_TRUE(w.start({prefix, "7.0.15", "2026-11-25T00:00:00Z"}).ok());
  for (const auto& r : records) EXPECT_TRUE(w.add(r).ok());
  EXPECT_TRUE(w.finish().ok());
  return out;
}

struct Decoded {
  KeysHeader header;
  std::vector<KeyRecord> records;
};

Result<Decoded> decode(const std::string& bytes, size_t split) {
  Decoded d;
  KeysReader r(
      [&](const KeysHeader& h) {
        d.header = h;
        return okStatus();
      },
      [&](KeyRecord&& rec) {
        d.records.push_back(std::move(rec));
        return okStatus();
      });
  for (size_t at = 0; at < bytes.size(); at += split) {
    auto s = r.feed(reinterpret_cast<const uint8_t*>(bytes.data() + at), std::min(split, bytes.size() - at));
    if (!s.ok()) return s.error();
  }
  if (auto s = r.finish(); !s.ok()) return s.error();
  return d;
}

const std::vector<KeyRecord> kRecords = {
    {"shop:orders:a", -1, "payload-a"},
    {"shop:orders:", 1795600000000, ""},
    {std::string("shop:orders:\0bin\r\n*?[]", 21), 42, std::string(70000, '\xff')},
    {"shop:orders:b", -1, std::string("\0\1\2", 3)},
};

TEST(RedisKeysFormat, RoundTripsInAnySplit) {
  const std::string bytes = encode(kRecords);
  for (size_t split : {1ul, 7ul, 13ul, 4096ul, bytes.size()}) {
    auto d = decode(bytes, split);
    ASSERT_TRUE(d.ok()) << split << ": " << d.error().message;
    EXPECT_EQ(d->header.prefix, "shop:orders:");
    EXPECT_EQ(d->header.redisVersion, "7.0.15");
    ASSERT_EQ(d->records.size(), kRecords.size());
    for (size_t i = 0; i < kRecords.size(); ++i) {
      EXPECT_EQ(d->records[i].key, kRecords[i].key);
      EXPECT_EQ(d->records[i].expireAtMs, kRecords[i].expireAtMs);
      EXPECT_EQ(d->records[i].payload, kRecords[i].payload);
    }
  }
  auto empty = decode(encode({}), 5);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->records.empty());
}

TEST(RedisKeysFormat, WriterRefusesKeysOutsideThePrefix) {
  KeysWriter w([](const uint8_t*, size_t) { return okStatus(); });
  ASSERT_TRUE(w.start({"shop:orders:", "7", "t"}).ok());
  EXPECT_FALSE(w.add({"shop:payments:x", -1, "p"}).ok());
  EXPECT_FALSE(w.add({"shop:orders", -1, "p"}).ok());
}

TEST(RedisKeysFormat, RefusesMalformedDumps) {
  const std::string good = encode(kRecords);
  auto fails = [](const std::string& bytes, const std::string& want) {
    auto d = decode(bytes, 1000);
    ASSERT_FALSE(d.ok()) << want;
    EXPECT_NE(d.error().message.find(want), std::string::npos) << d.error().message;
  };
  fails("REDIS0010" + good.substr(9), "magic");
  fails(good.substr(0, good.size() - 9), "ends before its end record");               // no end record
  fails(good.substr(0, good.size() - 20), "ends before its end record");              // cut mid-record
  fails(good + "x", "data after the end record");
  std::string badCount = good;
  badCount[badCount.size() - 1] = 9;
  fails(badCount, "the end says 9 records, 4 were read");
  std::string badType = encode({{"shop:orders:a", -1, "p"}});
  badType[badType.find("shop:orders:a\0", 20) - 5] = 7;  // the record's type byte
  fails(badType, "record 0: unknown record type");
  // A record whose key leaves the header's prefix (as a forged plaintext would): refused by name.
  std::string other = encode({{"shop:orders:a", -1, "p"}});
  other.replace(other.find("shop:orders:a", 30), 13, "shop:paymentx");
  fails(other, "record 0: key outside the dump's prefix shop:orders:");
  std::string header = good;
  header.replace(header.find("servicedb-redis-keys"), 9, "something");
  fails(header, "unsupported header");
}

}  // namespace
}  // namespace sdb::backup::redis
