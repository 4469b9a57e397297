#include "operator/backup/crypto_util.h"

#include "operator/core/base64.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include <memory>

namespace sdb::backup::crypto {
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

}  // namespace

Status gcmSeal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t* aad, size_t aadSize,
               const uint8_t* in, size_t size, uint8_t* out, uint8_t tag[16]) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key, nonce) != 1 ||
      (aadSize && EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad, static_cast<int>(aadSize)) != 1) ||
      (size && EVP_EncryptUpdate(ctx.get(), out, &len, in, static_cast<int>(size)) != 1) ||
      EVP_EncryptFinal_ex(ctx.get(), out + size, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, tag) != 1) {
    return internalError("AES-256-GCM encryption failed in OpenSSL");
  }
  return okStatus();
}

Status gcmOpen(const uint8_t key[32], const uint8_t nonce[12], const uint8_t* aad, size_t aadSize,
               const uint8_t* in, size_t size, uint8_t* out, const uint8_t tag[16]) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key, nonce) != 1 ||
      (aadSize && EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad, static_cast<int>(aadSize)) != 1) ||
      (size && EVP_DecryptUpdate(ctx.get(), out, &len, in, static_cast<int>(size)) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, const_cast<uint8_t*>(tag)) != 1) {
    return internalError("AES-256-GCM decryption failed in OpenSSL");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), out + size, &len) != 1) {
    return Error(ErrorCode::kFailedPrecondition, "authentication failed");
  }
  return okStatus();
}

std::vector<uint8_t> sha256(const uint8_t* data, size_t size) {
  std::vector<uint8_t> out(32);
  unsigned int n = 0;
  EVP_Digest(data, size, out.data(), &n, EVP_sha256(), nullptr);
  return out;
}

std::vector<uint8_t> hmacSha256(const uint8_t* key, size_t keySize, const std::string& data) {
  std::vector<uint8_t> out(32);
  unsigned int n = 0;
  HMAC(EVP_sha256(), key, static_cast<int>(keySize), reinterpret_cast<const uint8_t*>(data.data()), data.size(),
       out.data(), &n);
  return out;
}

Result<std::vector<uint8_t>> hkdfSha256(const uint8_t* ikm, size_t ikmSize, const std::string& info, size_t outSize) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr),
                                                                  EVP_PKEY_CTX_free);
  std::vector<uint8_t> out(outSize);
  size_t len = outSize;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), ikm, static_cast<int>(ikmSize)) != 1 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), reinterpret_cast<const uint8_t*>(info.data()),
                                  static_cast<int>(info.size())) != 1 ||
      EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1 || len != outSize) {
    return internalError("HKDF-SHA-256 failed in OpenSSL");
  }
  return out;
}

std::string toHex(const uint8_t* data, size_t size) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 15]);
  }
  return out;
}

std::string toBase64(const uint8_t* data, size_t size) { return base64Encode(data, size); }

Result<std::vector<uint8_t>> fromBase64(const std::string& text) { return base64DecodeBytes(text); }

Result<std::vector<uint8_t>> fromHex(const std::string& text) {
  if (text.size() % 2) return invalidArgument("invalid hex: odd length");
  std::vector<uint8_t> out;
  out.reserve(text.size() / 2);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < text.size(); i += 2) {
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return invalidArgument("invalid hex character");
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return out;
}

void wipe(void* data, size_t size) { OPENSSL_cleanse(data, size); }

}  // namespace sdb::backup::crypto
