// Test tool: encrypts a file into a backup stream plus a signed manifest, with a given key, using the
// same library the backup runner uses. The Python decoder must then read it using only the docs.
// Usage: make_sample KEY_HEX KEY_ID IN STREAM_OUT MANIFEST_OUT [CHUNK_SIZE]
#include <cstdio>
#include <fstream>
#include <iostream>
#include <vector>

#include "operator/backup/stream_format.h"

int main(int argc, char** argv) {
  using namespace sdb;
  if (argc < 6) {
    std::cerr << "usage: make_sample KEY_HEX KEY_ID IN STREAM_OUT MANIFEST_OUT [CHUNK_SIZE]\n";
    return 2;
  }
  auto key = backup::parseKey(argv[1]);
  if (!key.ok()) {
    std::cerr << key.error().message << "\n";
    return 2;
  }
  std::ifstream in(argv[3], std::ios::binary);
  std::ofstream out(argv[4], std::ios::binary);
  size_t chunk = argc > 6 ? std::stoul(argv[6]) : backup::kDefaultChunkSize;
  auto enc = backup::Encryptor::start(*key, {argv[2], "sample-1", chunk}, CryptoRandom::instance(),
                                      [&](const uint8_t* d, size_t n) {
                                        out.write(reinterpret_cast<const char*>(d), static_cast<std::streamsize>(n));
                                        return out ? okStatus() : ioError("write failed");
                                      });
  if (!enc.ok()) {
    std::cerr << enc.error().message << "\n";
    return 1;
  }
  std::vector<char> buf(1 << 16);
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
    if (!enc->write(reinterpret_cast<const uint8_t*>(buf.data()), static_cast<size_t>(in.gcount())).ok()) return 1;
  }
  auto sum = enc->finish();
  if (!sum.ok()) return 1;
  Json manifest = {{"id", "sample-1"},          {"target", "demo/orders"}, {"engine", "postgres"},
                   {"engineVersion", "15"},     {"size", sum->plaintextBytes}, {"streamSize", sum->streamBytes},
                   {"digest", sum->digest},     {"keyId", sum->keyId},    {"startedAt", "2026-11-25T03:00:00Z"},
                   {"finishedAt", "2026-11-25T03:00:01Z"}, {"tools", "servicedb-operator " SERVICEDB_VERSION},
                   {"note", "ünïcode \"quoted\" \\ \t tab"}};
  std::ofstream(argv[5]) << backup::signManifest(manifest, enc->manifestKey()).dump();
  return 0;
}
