// SHA-256 as lowercase hex, for deterministic name suffixes and fingerprints (never for secrets'
// storage). Contract: pure, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace sdb {

// The first `hexChars` characters (at most 64) of the lowercase hex SHA-256 of `data`.
std::string sha256Hex(std::string_view data, size_t hexChars = 64);

}  // namespace sdb
