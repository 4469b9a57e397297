// The encrypted backup stream (docs/backup-format.md is the normative description; keep both in step).
//
//   stream  = magic "SDBKUP01" | u32be headerLength | header (JSON, UTF-8) | chunk* 
//   chunk   = u32be plaintextLength | ciphertext (plaintextLength bytes) | GCM tag (16 bytes)
//
// Every backup has a fresh random 256-bit data key, wrapped (AES-256-GCM) with the policy key named by
// keyId. Chunk i is sealed with AES-256-GCM under the data key, nonce = 0x00000000 | u64be(i), and
// associated data = SHA-256(header bytes) | u64be(i) | u8(final). So reordering, truncation (at a
// chunk boundary too), appended bytes, a swapped header and chunks spliced from another backup all fail
// authentication or framing, each with an error naming the chunk.
//
// Contract: Encryptor and Decryptor are single-threaded streaming objects; they hold at most one chunk
// of plaintext in memory (chunkSize, default 1 MiB), whatever the stream's length. Output goes to a
// Sink callback. Key material is wiped on destruction.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "operator/core/json.h"
#include "operator/core/random.h"
#include "operator/core/result.h"

namespace sdb::backup {

constexpr char kMagic[8] = {'S', 'D', 'B', 'K', 'U', 'P', '0', '1'};
constexpr size_t kKeySize = 32;
constexpr size_t kTagSize = 16;
constexpr size_t kDefaultChunkSize = 1 << 20;
constexpr size_t kMaxChunkSize = 64u << 20;
constexpr size_t kMaxHeaderSize = 64u << 10;
// How much the runners read at a time: small enough to stay in the CPU cache between the read and
// the encryption (1 MiB reads measured 40 % slower end to end here), and a pipe returns at most 64 KiB.
constexpr size_t kReadBufferSize = 128u << 10;

using Key = std::array<uint8_t, kKeySize>;
using Sink = std::function<Status(const uint8_t* data, size_t size)>;

struct EncryptOptions {
  std::string keyId;       // names the policy key in the Secret
  std::string backupId;    // unique per backup
  size_t chunkSize = kDefaultChunkSize;
};

// Summary of a finished stream, for the manifest.
struct StreamSummary {
  uint64_t plaintextBytes = 0;
  uint64_t streamBytes = 0;   // everything written: magic, header, chunks
  uint64_t chunks = 0;
  std::string digest;         // "sha256:<hex>" over header bytes and every chunk tag, in order
  std::string keyId;
  std::string backupId;
};

class Encryptor {
 public:
  // Writes the magic and header to `sink` immediately.
  static Result<Encryptor> start(const Key& policyKey, const EncryptOptions& options, Random& random, Sink sink);
  Encryptor(Encryptor&&) noexcept;
  Encryptor& operator=(Encryptor&&) noexcept;
  ~Encryptor();

  Status write(const uint8_t* data, size_t size);
  // Seals the final chunk (possibly empty) and returns the summary. No writes after finish().
  Result<StreamSummary> finish();
  // HMAC-SHA-256 key for the manifest, derived from the data key (HKDF-SHA-256, info "servicedb-backup-manifest-v1").
  const Key& manifestKey() const;

 private:
  struct State;
  explicit Encryptor(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

// Resolves a keyId from the header to the policy key (e.g. from the BackupPolicy's Secret).
using KeyLookup = std::function<Result<Key>(const std::string& keyId)>;

class Decryptor {
 public:
  // `sink` receives authenticated plaintext only, chunk by chunk. Callers that must not act on
  // unauthenticated data in full (a restore) stage it and commit only after finish() succeeds.
  Decryptor(KeyLookup keys, Sink sink);
  Decryptor(Decryptor&&) noexcept;
  ~Decryptor();

  // Feeds stream bytes in any split. Errors name the chunk: "chunk 3: authentication failed ...".
  Status feed(const uint8_t* data, size_t size);
  // Checks that the final chunk was seen and nothing follows it.
  Result<StreamSummary> finish();
  const Json& header() const;
  const Key& manifestKey() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Manifest helpers: sign adds "mac" (hex HMAC-SHA-256 over the canonical JSON without "mac");
// verify checks it in constant time.
Json signManifest(Json manifest, const Key& manifestKey);
Status verifyManifest(const Json& manifest, const Key& manifestKey);

// Parses a key given as 64 hex characters or base64 of 32 bytes (as stored in a Secret).
Result<Key> parseKey(const std::string& text);

}  // namespace sdb::backup
