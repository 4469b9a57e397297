#include "operator/core/hash.h"

#include <openssl/evp.h>

namespace sdb {

std::string sha256Hex(std::string_view data, size_t hexChars) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(digits[digest[i] >> 4]);
    out.push_back(digits[digest[i] & 15]);
  }
  return out.substr(0, std::min<size_t>(hexChars, out.size()));
}

}  // namespace sdb
