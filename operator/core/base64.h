// Standard base64 (RFC 4648, with padding), as Kubernetes stores Secret `data` values.
//
// Contract: pure functions, thread-safe. Decoding refuses anything but canonical padded base64
// and returns an error value; it never throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "operator/core/result.h"

namespace sdb {

std::string base64Encode(const uint8_t* data, size_t size);
inline std::string base64Encode(std::string_view text) {
  return base64Encode(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}
Result<std::vector<uint8_t>> base64DecodeBytes(std::string_view text);
Result<std::string> base64Decode(std::string_view text);

}  // namespace sdb
