#include "operator/core/base64.h"

#include <openssl/evp.h>

namespace sdb {

std::string base64Encode(const uint8_t* data, size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::vector<uint8_t>> base64DecodeBytes(std::string_view text) {
  if (text.size() % 4 != 0) return invalidArgument("invalid base64: length is not a multiple of 4");
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
              c == '=';
    if (!ok) return invalidArgument("invalid base64: unexpected character");
  }
  std::vector<uint8_t> out(text.size() / 4 * 3);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return invalidArgument("invalid base64");
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

Result<std::string> base64Decode(std::string_view text) {
  auto bytes = base64DecodeBytes(text);
  if (!bytes.ok()) return bytes.error();
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace sdb
