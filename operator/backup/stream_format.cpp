#include "operator/backup/stream_format.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>

#include "operator/backup/crypto_util.h"

namespace sdb::backup {
namespace {

constexpr uint32_t kFinalFlag = 0x80000000u;
const char* kWrapAadPrefix = "servicedb-backup-keywrap-v1";
const char* kManifestInfo = "servicedb-backup-manifest-v1";

void putU32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
uint32_t getU32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}
void putU64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}

// nonce = 4 zero bytes | u64be(index)
void chunkNonce(uint64_t index, uint8_t nonce[12]) {
  std::memset(nonce, 0, 4);
  putU64(nonce + 4, index);
}

// aad = SHA-256(header) | u64be(index) | u8(final)
void chunkAad(const std::vector<uint8_t>& headerHash, uint64_t index, bool final, uint8_t aad[41]) {
  std::memcpy(aad, headerHash.data(), 32);
  putU64(aad + 32, index);
  aad[40] = final ? 1 : 0;
}

std::string wrapAad(const std::string& keyId, const std::string& backupId) {
  return std::string(kWrapAadPrefix) + '\0' + keyId + '\0' + backupId;
}

// Running digest over the header bytes and every tag: cheap, and it identifies the ciphertext.
class TagDigest {
 public:
  TagDigest() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~TagDigest() { EVP_MD_CTX_free(ctx_); }
  TagDigest(const TagDigest&) = delete;
  TagDigest& operator=(const TagDigest&) = delete;
  void update(const uint8_t* d, size_t n) { EVP_DigestUpdate(ctx_, d, n); }
  std::string finish() {
    uint8_t out[32];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, out, &n);
    return "sha256:" + crypto::toHex(out, 32);
  }

 private:
  EVP_MD_CTX* ctx_;
};

Result<Key> manifestKeyFrom(const Key& dataKey) {
  auto derived = crypto::hkdfSha256(dataKey.data(), dataKey.size(), kManifestInfo, kKeySize);
  if (!derived.ok()) return derived.error();
  Key k;
  std::memcpy(k.data(), derived->data(), kKeySize);
  crypto::wipe(derived->data(), derived->size());
  return k;
}

}  // namespace

// ---------------------------------------------------------------- Encryptor

struct Encryptor::State {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();  // keyed once; only the nonce changes per chunk
  Key dataKey{};
  Key manifestKey{};
  std::vector<uint8_t> headerHash;
  size_t chunkSize = 0;
  std::vector<uint8_t> plain;  // current chunk's plaintext, up to chunkSize
  std::vector<uint8_t> out;    // framed chunk: length | ciphertext | tag
  uint64_t index = 0;
  bool finished = false;
  Sink sink;
  TagDigest digest;
  StreamSummary summary;

  ~State() {
    EVP_CIPHER_CTX_free(ctx);
    crypto::wipe(dataKey.data(), dataKey.size());
    crypto::wipe(manifestKey.data(), manifestKey.size());
    if (!plain.empty()) crypto::wipe(plain.data(), plain.size());
  }

  Status emit(const uint8_t* data, size_t size) {
    summary.streamBytes += size;
    return sink(data, size);
  }

  // Seals `n` bytes at `data` as chunk `index` straight into the framed output buffer.
  Status sealChunk(const uint8_t* data, size_t n, bool final) {
    out.resize(4 + n + kTagSize);
    putU32(out.data(), static_cast<uint32_t>(n) | (final ? kFinalFlag : 0));
    uint8_t nonce[12], aad[41];
    chunkNonce(index, nonce);
    chunkAad(headerHash, index, final, aad);
    int len = 0;
    if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) != 1 ||
        EVP_EncryptUpdate(ctx, nullptr, &len, aad, sizeof aad) != 1 ||
        (n && EVP_EncryptUpdate(ctx, out.data() + 4, &len, data, static_cast<int>(n)) != 1) ||
        EVP_EncryptFinal_ex(ctx, out.data() + 4 + n, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagSize, out.data() + 4 + n) != 1) {
      return internalError("AES-256-GCM encryption failed in OpenSSL");
    }
    digest.update(out.data() + 4 + n, kTagSize);
    summary.plaintextBytes += n;
    summary.chunks++;
    index++;
    return emit(out.data(), out.size());
  }
};

Encryptor::Encryptor(std::unique_ptr<State> state) : s_(std::move(state)) {}
Encryptor::Encryptor(Encryptor&&) noexcept = default;
Encryptor& Encryptor::operator=(Encryptor&&) noexcept = default;
Encryptor::~Encryptor() = default;

Result<Encryptor> Encryptor::start(const Key& policyKey, const EncryptOptions& options, Random& random, Sink sink) {
  if (options.keyId.empty() || options.keyId.size() > 253) return invalidArgument("keyId: must be 1 to 253 characters");
  if (options.backupId.empty() || options.backupId.size() > 253) {
    return invalidArgument("backupId: must be 1 to 253 characters");
  }
  if (options.chunkSize < 4096 || options.chunkSize > kMaxChunkSize) {
    return invalidArgument("chunkSize: must be between 4096 and " + std::to_string(kMaxChunkSize));
  }
  auto state = std::make_unique<State>();
  state->chunkSize = options.chunkSize;
  state->sink = std::move(sink);
  SDB_TRY(random.fill(state->dataKey.data(), kKeySize));

  uint8_t wrapNonce[12];
  SDB_TRY(random.fill(wrapNonce, sizeof wrapNonce));
  uint8_t wrapped[12 + kKeySize + kTagSize];
  std::memcpy(wrapped, wrapNonce, 12);
  std::string aad = wrapAad(options.keyId, options.backupId);
  SDB_TRY(crypto::gcmSeal(policyKey.data(), wrapNonce, reinterpret_cast<const uint8_t*>(aad.data()), aad.size(),
                          state->dataKey.data(), kKeySize, wrapped + 12, wrapped + 12 + kKeySize));

  Json header = {{"format", "servicedb-backup"},
                 {"version", 1},
                 {"cipher", "AES-256-GCM"},
                 {"chunkSize", options.chunkSize},
                 {"keyId", options.keyId},
                 {"backupId", options.backupId},
                 {"wrappedKey", crypto::toBase64(wrapped, sizeof wrapped)}};
  std::string headerText = header.dump();
  state->headerHash = crypto::sha256(reinterpret_cast<const uint8_t*>(headerText.data()), headerText.size());
  state->digest.update(reinterpret_cast<const uint8_t*>(headerText.data()), headerText.size());
  auto mk = manifestKeyFrom(state->dataKey);
  if (!mk.ok()) return mk.error();
  state->manifestKey = *mk;
  if (!state->ctx || EVP_EncryptInit_ex(state->ctx, EVP_aes_256_gcm(), nullptr, state->dataKey.data(), nullptr) != 1) {
    return internalError("AES-256-GCM set-up failed in OpenSSL");
  }
  state->summary.keyId = options.keyId;
  state->summary.backupId = options.backupId;
  state->plain.reserve(options.chunkSize);

  uint8_t prefix[12];
  std::memcpy(prefix, kMagic, 8);
  putU32(prefix + 8, static_cast<uint32_t>(headerText.size()));
  SDB_TRY(state->emit(prefix, sizeof prefix));
  SDB_TRY(state->emit(reinterpret_cast<const uint8_t*>(headerText.data()), headerText.size()));
  return Encryptor(std::move(state));
}

Status Encryptor::write(const uint8_t* data, size_t size) {
  if (s_->finished) return Error(ErrorCode::kFailedPrecondition, "write after finish");
  // Full chunks are sealed at once (non-final); finish() always seals the final chunk, which is empty
  // when the stream is a whole number of chunks. Whole chunks of the caller's buffer are sealed in
  // place, without a copy.
  while (size > 0) {
    if (s_->plain.empty() && size >= s_->chunkSize) {
      SDB_TRY(s_->sealChunk(data, s_->chunkSize, false));
      data += s_->chunkSize;
      size -= s_->chunkSize;
      continue;
    }
    size_t room = s_->chunkSize - s_->plain.size();
    size_t take = size < room ? size : room;
    s_->plain.insert(s_->plain.end(), data, data + take);
    data += take;
    size -= take;
    if (s_->plain.size() == s_->chunkSize) {
      SDB_TRY(s_->sealChunk(s_->plain.data(), s_->plain.size(), false));
      s_->plain.clear();
    }
  }
  return okStatus();
}

Result<StreamSummary> Encryptor::finish() {
  if (s_->finished) return Error(ErrorCode::kFailedPrecondition, "finish called twice");
  s_->finished = true;
  SDB_TRY(s_->sealChunk(s_->plain.data(), s_->plain.size(), true));
  s_->plain.clear();
  s_->summary.digest = s_->digest.finish();
  return s_->summary;
}

const Key& Encryptor::manifestKey() const { return s_->manifestKey; }

// ---------------------------------------------------------------- Decryptor

struct Decryptor::State {
  enum class Phase { kMagic, kHeaderLength, kHeader, kChunkLength, kChunkBody, kDone };
  KeyLookup keys;
  Sink sink;
  Phase phase = Phase::kMagic;
  std::vector<uint8_t> buf;  // bytes of the current element
  size_t need = 8;
  Json header;
  Key dataKey{};
  Key manifestKey{};
  std::vector<uint8_t> headerHash;
  size_t chunkSize = 0;
  uint32_t chunkLength = 0;
  bool chunkFinal = false;
  uint64_t index = 0;
  uint64_t trailing = 0;
  TagDigest digest;
  StreamSummary summary;
  std::optional<Error> failed;

  ~State() {
    crypto::wipe(dataKey.data(), dataKey.size());
    crypto::wipe(manifestKey.data(), manifestKey.size());
  }

  Status fail(Error e) {
    failed = e;
    return e;
  }

  Status onHeader() {
    std::string text(buf.begin(), buf.end());
    auto parsed = parseJson(text, "backup header");
    if (!parsed.ok() || !parsed->is_object()) return fail(invalidArgument("header: not a JSON object"));
    header = *parsed;
    // Fields are read by type: Json::value() would throw on a field of another type.
    auto field = [&](const char* name) -> std::string {
      auto it = header.find(name);
      return it != header.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    auto version = header.find("version");
    if (field("format") != "servicedb-backup" || version == header.end() || !version->is_number_unsigned() ||
        version->get<uint64_t>() != 1 || field("cipher") != "AES-256-GCM") {
      return fail(invalidArgument("header: unsupported format, version or cipher"));
    }
    if (!header.contains("chunkSize") || !header["chunkSize"].is_number_unsigned()) {
      return fail(invalidArgument("header: chunkSize missing"));
    }
    chunkSize = header["chunkSize"].get<size_t>();
    if (chunkSize < 4096 || chunkSize > kMaxChunkSize) return fail(invalidArgument("header: chunkSize out of range"));
    if (header.contains("keyId") && !header["keyId"].is_string()) {
      return fail(invalidArgument("header: keyId must be a string"));
    }
    std::string keyId = field("keyId"), backupId = field("backupId");
    if (keyId.empty()) return fail(invalidArgument("header: keyId missing"));
    auto policyKey = keys(keyId);
    if (!policyKey.ok()) return fail(policyKey.error().wrap("header: key \"" + keyId + "\""));
    auto wrapped = crypto::fromBase64(field("wrappedKey"));
    if (!wrapped.ok() || wrapped->size() != 12 + kKeySize + kTagSize) {
      return fail(invalidArgument("header: wrappedKey malformed"));
    }
    std::string aad = wrapAad(keyId, backupId);
    auto opened = crypto::gcmOpen(policyKey->data(), wrapped->data(), reinterpret_cast<const uint8_t*>(aad.data()),
                                  aad.size(), wrapped->data() + 12, kKeySize, dataKey.data(),
                                  wrapped->data() + 12 + kKeySize);
    if (!opened.ok()) {
      return fail(Error(ErrorCode::kFailedPrecondition,
                        "header: the data key does not unwrap with key \"" + keyId + "\" (wrong key or altered header)"));
    }
    auto mk = manifestKeyFrom(dataKey);
    if (!mk.ok()) return fail(mk.error());
    manifestKey = *mk;
    headerHash = crypto::sha256(buf.data(), buf.size());
    digest.update(buf.data(), buf.size());
    summary.keyId = keyId;
    summary.backupId = backupId;
    return okStatus();
  }

  Status onChunk() {
    uint8_t nonce[12], aad[41];
    chunkNonce(index, nonce);
    chunkAad(headerHash, index, chunkFinal, aad);
    uint8_t* tag = buf.data() + chunkLength;
    if (!crypto::gcmOpen(dataKey.data(), nonce, aad, sizeof aad, buf.data(), chunkLength, buf.data(), tag).ok()) {
      return fail(Error(ErrorCode::kFailedPrecondition,
                        "chunk " + std::to_string(index) +
                            ": authentication failed (altered, reordered, spliced from another backup, or a "
                            "different header)"));
    }
    digest.update(tag, kTagSize);
    summary.plaintextBytes += chunkLength;
    summary.chunks++;
    index++;
    Status s = sink(buf.data(), chunkLength);
    crypto::wipe(buf.data(), chunkLength);
    if (!s.ok()) return fail(s.error());
    return okStatus();
  }
};

Decryptor::Decryptor(KeyLookup keys, Sink sink) : s_(std::make_unique<State>()) {
  s_->keys = std::move(keys);
  s_->sink = std::move(sink);
}
Decryptor::Decryptor(Decryptor&&) noexcept = default;
Decryptor::~Decryptor() = default;

Status Decryptor::feed(const uint8_t* data, size_t size) {
  State& s = *s_;
  if (s.failed) return *s.failed;
  s.summary.streamBytes += size;
  while (size > 0) {
    if (s.phase == State::Phase::kDone) {
      s.trailing += size;
      return s.fail(invalidArgument("unexpected data after the final chunk (chunk " + std::to_string(s.index - 1) +
                                    "): the stream has appended bytes"));
    }
    size_t take = std::min(size, s.need - s.buf.size());
    s.buf.insert(s.buf.end(), data, data + take);
    data += take;
    size -= take;
    if (s.buf.size() < s.need) break;
    switch (s.phase) {
      case State::Phase::kMagic:
        if (std::memcmp(s.buf.data(), kMagic, 8) != 0) return s.fail(invalidArgument("not a servicedb backup (bad magic)"));
        s.phase = State::Phase::kHeaderLength;
        s.need = 4;
        break;
      case State::Phase::kHeaderLength: {
        uint32_t len = getU32(s.buf.data());
        if (len == 0 || len > kMaxHeaderSize) return s.fail(invalidArgument("header: length out of range"));
        s.phase = State::Phase::kHeader;
        s.need = len;
        break;
      }
      case State::Phase::kHeader:
        SDB_TRY(s.onHeader());
        s.phase = State::Phase::kChunkLength;
        s.need = 4;
        break;
      case State::Phase::kChunkLength: {
        uint32_t word = getU32(s.buf.data());
        s.chunkFinal = (word & kFinalFlag) != 0;
        s.chunkLength = word & ~kFinalFlag;
        if (s.chunkLength > s.chunkSize || (!s.chunkFinal && s.chunkLength != s.chunkSize)) {
          return s.fail(invalidArgument("chunk " + std::to_string(s.index) + ": bad length " +
                                        std::to_string(s.chunkLength)));
        }
        s.phase = State::Phase::kChunkBody;
        s.need = s.chunkLength + kTagSize;
        break;
      }
      case State::Phase::kChunkBody:
        SDB_TRY(s.onChunk());
        s.phase = s.chunkFinal ? State::Phase::kDone : State::Phase::kChunkLength;
        s.need = s.chunkFinal ? 0 : 4;
        break;
      case State::Phase::kDone:
        break;
    }
    s.buf.clear();
  }
  return okStatus();
}

Result<StreamSummary> Decryptor::finish() {
  State& s = *s_;
  if (s.failed) return *s.failed;
  if (s.phase != State::Phase::kDone) {
    std::string where = s.phase == State::Phase::kChunkLength || s.phase == State::Phase::kChunkBody
                            ? "after chunk " + std::to_string(s.index == 0 ? 0 : s.index - 1) + ", before chunk " +
                                  std::to_string(s.index)
                            : "in the header";
    Error e = invalidArgument("truncated stream: it ends " + where + " without the final chunk");
    s.failed = e;
    return e;
  }
  s.summary.digest = s.digest.finish();
  return s.summary;
}

const Json& Decryptor::header() const { return s_->header; }
const Key& Decryptor::manifestKey() const { return s_->manifestKey; }

// ---------------------------------------------------------------- manifest and keys

Json signManifest(Json manifest, const Key& manifestKey) {
  manifest.erase("mac");
  std::string canonical = manifest.dump();
  auto mac = crypto::hmacSha256(manifestKey.data(), manifestKey.size(), canonical);
  manifest["mac"] = crypto::toHex(mac.data(), mac.size());
  return manifest;
}

Status verifyManifest(const Json& manifest, const Key& manifestKey) {
  if (!manifest.is_object() || !manifest.contains("mac") || !manifest["mac"].is_string()) {
    return invalidArgument("manifest: mac missing");
  }
  Json body = manifest;
  body.erase("mac");
  auto want = crypto::hmacSha256(manifestKey.data(), manifestKey.size(), body.dump());
  std::string wantHex = crypto::toHex(want.data(), want.size());
  const std::string got = manifest["mac"].get<std::string>();
  if (got.size() != wantHex.size() || CRYPTO_memcmp(got.data(), wantHex.data(), got.size()) != 0) {
    return Error(ErrorCode::kFailedPrecondition, "manifest: authentication failed (altered manifest)");
  }
  return okStatus();
}

Result<Key> parseKey(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  Result<std::vector<uint8_t>> raw = t.size() == 64 ? crypto::fromHex(t) : crypto::fromBase64(t);
  if (!raw.ok() || raw->size() != kKeySize) {
    return invalidArgument("backup key: want 32 bytes as 64 hex characters or base64");
  }
  Key k;
  std::memcpy(k.data(), raw->data(), kKeySize);
  crypto::wipe(raw->data(), raw->size());
  return k;
}

}  // namespace sdb::backup
