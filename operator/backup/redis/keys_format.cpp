#include "operator/backup/redis/keys_format.h"

#include <cstring>

namespace sdb::backup::redis {
namespace {

void putU32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void putU64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t getBE(const std::string& b, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(b[at + static_cast<size_t>(i)]);
  return v;
}
Status emit(const Sink& sink, const std::string& s) {
  return sink(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace

Status KeysWriter::start(const KeysHeader& h) {
  prefix_ = h.prefix;
  Json header = {{"format", "servicedb-redis-keys"}, {"version", 1}, {"prefix", h.prefix},
                 {"redisVersion", h.redisVersion}, {"dumpedAt", h.dumpedAt}};
  const std::string text = header.dump();
  std::string out(kKeysMagic, sizeof kKeysMagic);
  putU32(out, static_cast<uint32_t>(text.size()));
  out += text;
  return emit(sink_, out);
}

Status KeysWriter::add(const KeyRecord& r) {
  if (r.key.compare(0, prefix_.size(), prefix_) != 0)
    return internalError("refusing to write a key outside the prefix " + prefix_);
  if (r.key.size() > kMaxKeyLength || r.payload.size() > kMaxPayloadLength)
    return invalidArgument("key or value too large for the dump format");
  std::string head(1, '\x01');
  putU32(head, static_cast<uint32_t>(r.key.size()));
  head += r.key;
  putU64(head, static_cast<uint64_t>(r.expireAtMs));
  putU64(head, r.payload.size());
  SDB_TRY(emit(sink_, head));
  SDB_TRY(emit(sink_, r.payload));
  ++records_;
  return okStatus();
}

Status KeysWriter::finish() {
  std::string end(1, '\x00');
  putU64(end, records_);
  return emit(sink_, end);
}

Status KeysReader::feed(const uint8_t* data, size_t size) {
  if (state_ == State::kDone && size > 0) return invalidArgument("redis keys dump: data after the end record");
  buf_.append(reinterpret_cast<const char*>(data), size);
  bool progressed = true;
  while (progressed) SDB_TRY(step(progressed));
  if (pos_ > 0) {  // drop what was consumed; a record in progress stays
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return okStatus();
}

Status KeysReader::step(bool& progressed) {
  progressed = false;
  const size_t avail = buf_.size() - pos_;
  switch (state_) {
    case State::kMagic:
      if (avail < 12) return okStatus();
      if (std::memcmp(buf_.data() + pos_, kKeysMagic, sizeof kKeysMagic) != 0)
        return invalidArgument("not a redis keys dump (magic SDBRKEY1 missing)");
      state_ = State::kHeader;
      progressed = true;
      return okStatus();
    case State::kHeader: {
      const uint64_t len = getBE(buf_, pos_ + 8, 4);
      if (len == 0 || len > (64u << 10)) return invalidArgument("redis keys dump: bad header length");
      if (avail < 12 + len) return okStatus();
      auto json = parseJson(buf_.substr(pos_ + 12, len), "redis keys dump header");
      if (!json.ok()) return json.error();
      if (json->value("format", "") != "servicedb-redis-keys" || json->value("version", 0) != 1)
        return invalidArgument("redis keys dump: unsupported header");
      KeysHeader h{json->value("prefix", ""), json->value("redisVersion", ""), json->value("dumpedAt", "")};
      if (h.prefix.empty()) return invalidArgument("redis keys dump: header has no prefix");
      prefix_ = h.prefix;
      pos_ += 12 + len;
      state_ = State::kRecord;
      progressed = true;
      return onHeader_(h);
    }
    case State::kRecord: {
      if (avail < 1) return okStatus();
      const uint8_t type = static_cast<uint8_t>(buf_[pos_]);
      const std::string where = "redis keys dump, record " + std::to_string(records_);
      if (type == 0x00) {
        if (avail < 9) return okStatus();
        const uint64_t count = getBE(buf_, pos_ + 1, 8);
        if (count != records_)
          return invalidArgument("redis keys dump: the end says " + std::to_string(count) + " records, " +
                                 std::to_string(records_) + " were read");
        pos_ += 9;
        state_ = State::kDone;
        if (pos_ != buf_.size()) return invalidArgument("redis keys dump: data after the end record");
        return okStatus();
      }
      if (type != 0x01) return invalidArgument(where + ": unknown record type");
      if (avail < 5) return okStatus();
      const uint64_t keyLen = getBE(buf_, pos_ + 1, 4);
      if (keyLen > kMaxKeyLength) return invalidArgument(where + ": key too long");
      if (avail < 5 + keyLen + 16) return okStatus();
      const uint64_t payloadLen = getBE(buf_, pos_ + 5 + keyLen + 8, 8);
      if (payloadLen > kMaxPayloadLength) return invalidArgument(where + ": value too long");
      if (avail < 5 + keyLen + 16 + payloadLen) return okStatus();
      KeyRecord r;
      r.key = buf_.substr(pos_ + 5, keyLen);
      r.expireAtMs = static_cast<int64_t>(getBE(buf_, pos_ + 5 + keyLen, 8));
      r.payload = buf_.substr(pos_ + 5 + keyLen + 16, payloadLen);
      if (r.key.compare(0, prefix_.size(), prefix_) != 0)
        return invalidArgument(where + ": key outside the dump's prefix " + prefix_);
      pos_ += 5 + keyLen + 16 + payloadLen;
      ++records_;
      progressed = true;
      return onRecord_(std::move(r));
    }
    case State::kDone:
      if (avail > 0) return invalidArgument("redis keys dump: data after the end record");
      return okStatus();
  }
  return okStatus();
}

Status KeysReader::finish() {
  if (state_ != State::kDone) return invalidArgument("redis keys dump ends before its end record");
  return okStatus();
}

}  // namespace sdb::backup::redis
