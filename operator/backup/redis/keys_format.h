// The plaintext of a shared-Redis backup: one tenant's keys as DUMP payloads with absolute expiry
// times ("servicedb-redis-keys", version 1; docs/backup-format.md "Dump kinds" is normative).
//
//   dump   = "SDBRKEY1" | u32 headerLength | header (JSON) | record* | end
//   record = 0x01 | u32 keyLength | key | i64 expireAtMs (-1: none) | u64 payloadLength | payload
//   end    = 0x00 | u64 recordCount
//
// All integers big-endian. Every key starts with the header's "prefix".
//
// Contract: KeysWriter writes to a Sink as it goes; KeysReader is fed bytes in any split and calls
// back once per header and record, holding at most one record in memory. Both single-threaded.
// The reader refuses (with an error naming the record) bad magic, a header that is not ours, a key
// outside the prefix, lengths past the limits, a count that disagrees with the records, anything
// after the end, and (in finish()) a dump without its end.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "operator/backup/stream_format.h"
#include "operator/core/json.h"

namespace sdb::backup::redis {

constexpr char kKeysMagic[8] = {'S', 'D', 'B', 'R', 'K', 'E', 'Y', '1'};
constexpr uint32_t kMaxKeyLength = 512u << 20;         // Redis' own limit for a key
constexpr uint64_t kMaxPayloadLength = 4ull << 30;     // one record is held in memory on restore

struct KeysHeader {
  std::string prefix;        // every key starts with it
  std::string redisVersion;  // of the server dumped (DUMP payloads restore into the same or newer)
  std::string dumpedAt;      // RFC 3339
};

struct KeyRecord {
  std::string key;
  int64_t expireAtMs = -1;  // absolute Unix time in ms, -1 for none
  std::string payload;      // DUMP output
};

class KeysWriter {
 public:
  explicit KeysWriter(Sink sink) : sink_(std::move(sink)) {}
  Status start(const KeysHeader& header);
  Status add(const KeyRecord& record);  // the key must start with the header's prefix
  Status finish();
  uint64_t records() const { return records_; }

 private:
  Sink sink_;
  std::string prefix_;
  uint64_t records_ = 0;
};

class KeysReader {
 public:
  using OnHeader = std::function<Status(const KeysHeader&)>;
  using OnRecord = std::function<Status(KeyRecord&&)>;
  KeysReader(OnHeader onHeader, OnRecord onRecord) : onHeader_(std::move(onHeader)), onRecord_(std::move(onRecord)) {}

  Status feed(const uint8_t* data, size_t size);
  Status finish();  // the end record was seen and nothing followed
  uint64_t records() const { return records_; }

 private:
  Status step(bool& progressed);
  OnHeader onHeader_;
  OnRecord onRecord_;
  std::string buf_;
  size_t pos_ = 0;
  enum class State { kMagic, kHeader, kRecord, kDone } state_ = State::kMagic;
  std::string prefix_;
  uint64_t records_ = 0;
};

}  // namespace sdb::backup::redis
