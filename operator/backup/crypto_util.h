// Small OpenSSL EVP helpers for the backup format: AES-256-GCM one-shot seal/open, SHA-256, HMAC,
// HKDF and base64/hex. Pure functions, thread-safe, errors as values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "operator/core/result.h"

namespace sdb::backup::crypto {

// out receives size bytes of ciphertext (may alias in); tag receives 16 bytes.
Status gcmSeal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t* aad, size_t aadSize,
               const uint8_t* in, size_t size, uint8_t* out, uint8_t tag[16]);
// Returns an error (without detail, by design) when the tag does not authenticate.
Status gcmOpen(const uint8_t key[32], const uint8_t nonce[12], const uint8_t* aad, size_t aadSize,
               const uint8_t* in, size_t size, uint8_t* out, const uint8_t tag[16]);

std::vector<uint8_t> sha256(const uint8_t* data, size_t size);
std::vector<uint8_t> hmacSha256(const uint8_t* key, size_t keySize, const std::string& data);
Result<std::vector<uint8_t>> hkdfSha256(const uint8_t* ikm, size_t ikmSize, const std::string& info, size_t outSize);

std::string toHex(const uint8_t* data, size_t size);
std::string toBase64(const uint8_t* data, size_t size);
Result<std::vector<uint8_t>> fromBase64(const std::string& text);
Result<std::vector<uint8_t>> fromHex(const std::string& text);

// Wipes memory the compiler may not elide.
void wipe(void* data, size_t size);

}  // namespace sdb::backup::crypto
