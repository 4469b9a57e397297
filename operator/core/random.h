// Randomness behind an interface: OpenSSL's CSPRNG in production, a seeded source in tests.
//
// Contract: implementations are thread-safe. CryptoRandom fails loudly (returns an Error) rather than
// ever returning weak bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "operator/core/result.h"

namespace sdb {

class Random {
 public:
  virtual ~Random() = default;
  virtual Status fill(uint8_t* out, size_t n) = 0;

  Result<std::vector<uint8_t>> bytes(size_t n);
  // A string of `length` characters drawn uniformly (rejection sampling, no modulo bias) from
  // `alphabet`, which must hold 2 to 256 distinct characters.
  Result<std::string> string(size_t length, const std::string& alphabet);
  // Lowercase hex of n random bytes.
  Result<std::string> hex(size_t nBytes);
};

class CryptoRandom final : public Random {
 public:
  Status fill(uint8_t* out, size_t n) override;
  static CryptoRandom& instance();
};

// Deterministic, for tests only (xorshift; not cryptographic).
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed ? seed : 0x9E3779B97F4A7C15ull) {}
  Status fill(uint8_t* out, size_t n) override;

 private:
  uint64_t state_;
};

}  // namespace sdb
