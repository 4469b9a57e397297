#include "operator/core/hash.h"

#include <openssl/evp.h>

namespace sdb {

std::string sha256Hex(std::string_view data, size_t hexChars) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  if (hex.size() > hexChars) hex.resize(hexChars);
  return hex;
}

}  // namespace sdb
