// Round trips and every tamper case of the backup stream format, each detected with a precise error.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>

#include "operator/backup/stream_format.h"

namespace sdb::backup {
namespace {

constexpr size_t kChunk = 4096;

Key keyOf(uint8_t fill) {
  Key k;
  k.fill(fill);
  return k;
}

struct Sealed {
  std::vector<uint8_t> bytes;
  StreamSummary summary;
  Key manifestKey;
};

Sealed seal(const std::vector<uint8_t>& plain, const std::string& backupId = "b-1", uint64_t seed = 7,
            const Key& key = keyOf(0x11), const std::string& keyId = "k1") {
  SeededRandom rng(seed);
  Sealed out;
  auto enc = Encryptor::start(key, {keyId, backupId, kChunk}, rng, [&](const uint8_t* d, size_t n) {
    out.bytes.insert(out.bytes.end(), d, d + n);
    return okStatus();
  });
  EXPECT_TRUE(enc.ok());
  // Write in uneven pieces to exercise buffering.
  size_t off = 0, step = 1000;
  while (off < plain.size()) {
    size_t n = std::min(step, plain.size() - off);
    EXPECT_TRUE(enc->write(plain.data() + off, n).ok());
    off += n;
    step = step * 3 % 7919 + 1;
  }
  auto sum = enc->finish();
  EXPECT_TRUE(sum.ok());
  out.summary = *sum;
  out.manifestKey = enc->manifestKey();
  return out;
}

struct Opened {
  Status status;
  std::vector<uint8_t> plain;
  StreamSummary summary;
};

Opened open(const std::vector<uint8_t>& bytes, const std::map<std::string, Key>& keys = {{"k1", keyOf(0x11)}},
            size_t feedStep = 777) {
  Opened out;
  Decryptor dec(
      [&](const std::string& id) -> Result<Key> {
        auto it = keys.find(id);
        if (it == keys.end()) return notFound("no key with id \"" + id + "\"");
        return it->second;
      },
      [&](const uint8_t* d, size_t n) {
        out.plain.insert(out.plain.end(), d, d + n);
        return okStatus();
      });
  for (size_t off = 0; off < bytes.size(); off += feedStep) {
    auto s = dec.feed(bytes.data() + off, std::min(feedStep, bytes.size() - off));
    if (!s.ok()) {
      out.status = s;
      return out;
    }
  }
  auto fin = dec.finish();
  if (!fin.ok()) {
    out.status = fin.error();
  } else {
    out.summary = *fin;
  }
  return out;
}

std::vector<uint8_t> data(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 31 + i / 251);
  return v;
}

// Offsets of the frame of chunk i within a sealed stream.
size_t headerEnd(const std::vector<uint8_t>& b) {
  uint32_t len = uint32_t(b[8]) << 24 | uint32_t(b[9]) << 16 | uint32_t(b[10]) << 8 | b[11];
  return 12 + len;
}
size_t chunkStart(const std::vector<uint8_t>& b, size_t i) { return headerEnd(b) + i * (4 + kChunk + 16); }

std::string message(const Opened& o) { return o.status.ok() ? "" : o.status.error().message; }

TEST(BackupFormat, RoundTripsEmptyExactAndOddSizes) {
  for (size_t n : {size_t(0), size_t(1), kChunk - 1, kChunk, kChunk + 1, 3 * kChunk, 5 * kChunk + 123}) {
    auto plain = data(n);
    auto sealed = seal(plain);
    auto opened = open(sealed.bytes);
    ASSERT_TRUE(opened.status.ok()) << n << ": " << message(opened);
    EXPECT_EQ(opened.plain, plain) << n;
    EXPECT_EQ(opened.summary.digest, sealed.summary.digest);
    EXPECT_EQ(opened.summary.plaintextBytes, n);
    EXPECT_EQ(sealed.summary.streamBytes, sealed.bytes.size());
    // Full chunks, then a final chunk holding the rest (empty for a whole number of chunks).
    EXPECT_EQ(sealed.summary.chunks, n / kChunk + 1);
  }
}

TEST(BackupFormat, EveryBackupHasAFreshDataKey) {
  auto a = seal(data(100), "b-1", 1), b = seal(data(100), "b-1", 2);
  EXPECT_NE(a.bytes, b.bytes);
  EXPECT_NE(a.summary.digest, b.summary.digest);
}

TEST(BackupFormat, FlippedByteInFirstMiddleAndLastChunkNamesTheChunk) {
  auto sealed = seal(data(5 * kChunk + 10));  // chunks 0..5
  for (size_t chunk : {size_t(0), size_t(2), size_t(5)}) {
    auto bytes = sealed.bytes;
    bytes[chunkStart(bytes, chunk) + 4 + 17] ^= 0x01;
    auto o = open(bytes);
    ASSERT_FALSE(o.status.ok());
    EXPECT_EQ(message(o).rfind("chunk " + std::to_string(chunk) + ": authentication failed", 0), 0u) << message(o);
    // Nothing from the bad chunk or after it reached the sink.
    EXPECT_EQ(o.plain.size(), chunk * kChunk);
  }
}

TEST(BackupFormat, FlippedTagByteIsDetected) {
  auto sealed = seal(data(2 * kChunk));
  auto bytes = sealed.bytes;
  bytes[chunkStart(bytes, 1) + 4 + kChunk] ^= 0x80;  // chunk 1's tag (an empty final chunk 2 follows)
  EXPECT_EQ(message(open(bytes)).rfind("chunk 1: authentication failed", 0), 0u);
}

TEST(BackupFormat, DroppedChunkIsDetected) {
  auto sealed = seal(data(4 * kChunk + 5));
  auto bytes = sealed.bytes;
  size_t s = chunkStart(bytes, 1), frame = 4 + kChunk + 16;
  bytes.erase(bytes.begin() + s, bytes.begin() + s + frame);
  EXPECT_EQ(message(open(bytes)).rfind("chunk 1: authentication failed", 0), 0u) << message(open(bytes));
}

TEST(BackupFormat, ReorderedChunksAreDetected) {
  auto sealed = seal(data(4 * kChunk + 5));
  auto bytes = sealed.bytes;
  size_t a = chunkStart(bytes, 1), b = chunkStart(bytes, 2), frame = 4 + kChunk + 16;
  std::vector<uint8_t> tmp(bytes.begin() + a, bytes.begin() + a + frame);
  std::copy(bytes.begin() + b, bytes.begin() + b + frame, bytes.begin() + a);
  std::copy(tmp.begin(), tmp.end(), bytes.begin() + b);
  EXPECT_EQ(message(open(bytes)).rfind("chunk 1: authentication failed", 0), 0u);
}

TEST(BackupFormat, ChunkSplicedFromAnotherBackupIsDetected) {
  auto a = seal(data(3 * kChunk + 5), "b-1", 1), b = seal(data(3 * kChunk + 5), "b-2", 2);
  auto bytes = a.bytes;
  size_t s = chunkStart(bytes, 1), frame = 4 + kChunk + 16;
  std::copy(b.bytes.begin() + chunkStart(b.bytes, 1), b.bytes.begin() + chunkStart(b.bytes, 1) + frame, bytes.begin() + s);
  EXPECT_EQ(message(open(bytes)).rfind("chunk 1: authentication failed", 0), 0u);
}

TEST(BackupFormat, TruncationAtAChunkBoundaryIsDetected) {
  auto sealed = seal(data(3 * kChunk + 5));
  auto bytes = sealed.bytes;
  bytes.resize(chunkStart(bytes, 2));  // chunks 0 and 1 intact, no final chunk
  auto o = open(bytes);
  EXPECT_EQ(message(o), "truncated stream: it ends after chunk 1, before chunk 2 without the final chunk");
}

TEST(BackupFormat, TruncationBetweenBoundariesIsDetected) {
  auto sealed = seal(data(3 * kChunk + 5));
  auto bytes = sealed.bytes;
  bytes.resize(chunkStart(bytes, 2) + 100);
  EXPECT_NE(message(open(bytes)).find("truncated stream"), std::string::npos);
  bytes.resize(20);
  EXPECT_EQ(message(open(bytes)), "truncated stream: it ends in the header without the final chunk");
}

TEST(BackupFormat, MarkingANonFinalChunkFinalIsDetected) {
  auto sealed = seal(data(3 * kChunk + 5));
  auto bytes = sealed.bytes;
  size_t s = chunkStart(bytes, 1);
  bytes[s] |= 0x80;                 // claim chunk 1 is final...
  bytes.resize(s + 4 + kChunk + 16);  // ...and cut the rest
  EXPECT_EQ(message(open(bytes)).rfind("chunk 1: authentication failed", 0), 0u);
}

TEST(BackupFormat, AppendedJunkIsDetected) {
  auto sealed = seal(data(kChunk + 5));
  auto bytes = sealed.bytes;
  bytes.push_back(0);
  EXPECT_EQ(message(open(bytes)).rfind("unexpected data after the final chunk", 0), 0u);
}

TEST(BackupFormat, SwappedHeaderIsDetected) {
  auto a = seal(data(2 * kChunk), "b-1", 1), b = seal(data(2 * kChunk), "b-2", 2);
  std::vector<uint8_t> bytes(b.bytes.begin(), b.bytes.begin() + headerEnd(b.bytes));
  bytes.insert(bytes.end(), a.bytes.begin() + headerEnd(a.bytes), a.bytes.end());
  EXPECT_EQ(message(open(bytes)).rfind("chunk 0: authentication failed", 0), 0u);
  // Editing the header text (here the backup id) breaks the key unwrap.
  auto edited = a.bytes;
  std::string text(edited.begin() + 12, edited.begin() + headerEnd(edited));
  auto pos = text.find("b-1");
  edited[12 + pos + 2] = '9';
  EXPECT_NE(message(open(edited)).find("does not unwrap"), std::string::npos);
}

TEST(BackupFormat, WrongKeyAndMissingKeyIdAreNamed) {
  auto sealed = seal(data(100));
  EXPECT_EQ(message(open(sealed.bytes, {{"k1", keyOf(0x22)}})),
            "header: the data key does not unwrap with key \"k1\" (wrong key or altered header)");
  EXPECT_EQ(message(open(sealed.bytes, {{"other", keyOf(0x11)}})), "header: key \"k1\": no key with id \"k1\"");
}

// Rebuilds a stream with its header JSON changed by `edit` (the chunks then no longer match, but the
// header is checked first).
std::vector<uint8_t> withHeader(const std::vector<uint8_t>& stream, const std::function<void(Json&)>& edit) {
  const size_t end = headerEnd(stream);
  Json header = *parseJson(std::string(stream.begin() + 12, stream.begin() + end));
  edit(header);
  const std::string text = header.dump();
  std::vector<uint8_t> out(stream.begin(), stream.begin() + 8);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(text.size() >> shift));
  out.insert(out.end(), text.begin(), text.end());
  out.insert(out.end(), stream.begin() + end, stream.end());
  return out;
}

TEST(BackupFormat, HeaderWithoutAStringKeyIdIsRefusedByName) {
  auto sealed = seal(data(100));
  EXPECT_EQ(message(open(withHeader(sealed.bytes, [](Json& h) { h.erase("keyId"); }))), "header: keyId missing");
  EXPECT_EQ(message(open(withHeader(sealed.bytes, [](Json& h) { h["keyId"] = ""; }))), "header: keyId missing");
  EXPECT_EQ(message(open(withHeader(sealed.bytes, [](Json& h) { h["keyId"] = 7; }))),
            "header: keyId must be a string");
  // Other fields of the wrong type are refused too, rather than throwing.
  EXPECT_EQ(message(open(withHeader(sealed.bytes, [](Json& h) { h["format"] = 1; }))),
            "header: unsupported format, version or cipher");
  EXPECT_EQ(message(open(withHeader(sealed.bytes, [](Json& h) { h["version"] = "1"; }))),
            "header: unsupported format, version or cipher");
  // The rebuild itself is faithful: an unchanged header still opens.
  EXPECT_TRUE(open(withHeader(sealed.bytes, [](Json&) {})).status.ok());
}

TEST(BackupFormat, ManifestMacDetectsAnyChange) {
  auto sealed = seal(data(100));
  Json manifest = {{"id", "b-1"}, {"engine", "postgres"}, {"size", 100}, {"digest", sealed.summary.digest}};
  Json signedManifest = signManifest(manifest, sealed.manifestKey);
  EXPECT_TRUE(verifyManifest(signedManifest, sealed.manifestKey).ok());
  // The decryptor derives the same manifest key from the stream.
  Decryptor dec([](const std::string&) -> Result<Key> { return keyOf(0x11); },
                [](const uint8_t*, size_t) { return okStatus(); });
  ASSERT_TRUE(dec.feed(sealed.bytes.data(), sealed.bytes.size()).ok());
  ASSERT_TRUE(dec.finish().ok());
  EXPECT_TRUE(verifyManifest(signedManifest, dec.manifestKey()).ok());
  Json altered = signedManifest;
  altered["size"] = 101;
  EXPECT_EQ(verifyManifest(altered, sealed.manifestKey).error().message,
            "manifest: authentication failed (altered manifest)");
}

TEST(BackupFormat, ParseKeyAcceptsHexAndBase64Only32Bytes) {
  EXPECT_TRUE(parseKey(std::string(64, 'a')).ok());
  EXPECT_TRUE(parseKey("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n").ok());
  EXPECT_FALSE(parseKey("short").ok());
  EXPECT_FALSE(parseKey(std::string(62, 'a')).ok());
}

TEST(BackupFormat, BadOptionsNameTheField) {
  SeededRandom rng(1);
  auto sink = [](const uint8_t*, size_t) { return okStatus(); };
  EXPECT_EQ(Encryptor::start(keyOf(1), {"", "b", kChunk}, rng, sink).error().message,
            "keyId: must be 1 to 253 characters");
  EXPECT_EQ(Encryptor::start(keyOf(1), {"k", "b", 10}, rng, sink).error().message.rfind("chunkSize:", 0), 0u);
}

}  // namespace
}  // namespace sdb::backup
