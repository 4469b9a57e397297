#include "operator/core/random.h"

#include <openssl/rand.h>

#include <climits>

namespace sdb {

Result<std::vector<uint8_t>> Random::bytes(size_t n) {
  std::vector<uint8_t> out(n);
  SDB_TRY(fill(out.data(), n));
  return out;
}

Result<std::string> Random::string(size_t length, const std::string& alphabet) {
  if (alphabet.size() < 2 || alphabet.size() > 256) return invalidArgument("alphabet must hold 2 to 256 characters");
  // Largest multiple of the alphabet size that fits a byte: bytes at or above it are rejected.
  const unsigned limit = 256 - (256 % alphabet.size());
  std::string out;
  out.reserve(length);
  uint8_t buf[64];
  while (out.size() < length) {
    SDB_TRY(fill(buf, sizeof buf));
    for (uint8_t b : buf) {
      if (b >= limit) continue;
      out.push_back(alphabet[b % alphabet.size()]);
      if (out.size() == length) break;
    }
  }
  return out;
}

Result<std::string> Random::hex(size_t nBytes) {
  auto raw = bytes(nBytes);
  if (!raw.ok()) return raw.error();
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : *raw) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

Status CryptoRandom::fill(uint8_t* out, size_t n) {
  while (n > 0) {
    int chunk = n > INT_MAX ? INT_MAX : static_cast<int>(n);
    if (RAND_bytes(out, chunk) != 1) return internalError("OpenSSL RAND_bytes failed");
    out += chunk;
    n -= static_cast<size_t>(chunk);
  }
  return okStatus();
}

CryptoRandom& CryptoRandom::instance() {
  static CryptoRandom r;
  return r;
}

Status SeededRandom::fill(uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    out[i] = static_cast<uint8_t>(state_ >> 24);
  }
  return okStatus();
}

}  // namespace sdb
