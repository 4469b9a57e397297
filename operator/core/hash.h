// SHA-256 as lowercase hex, for deterministic name suffixes and fingerprints (not for secrets).
//
// Contract: pure, thread-safe (OpenSSL EVP one-shot).
#pragma once

#include <string>
#include <string_view>

namespace sdb {

// Lowercase hex of SHA-256(data), cut to the first `hexChars` characters (at most 64).
std::string sha256Hex(std::string_view data, size_t hexChars = 64);

}  // namespace sdb
