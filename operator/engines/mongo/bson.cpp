#include "operator/engines/mongo/bson.h"

#include <utility>

namespace sdb::engines::mongo {
namespace {

std::string takeJson(char* s) {
  if (s == nullptr) return "";
  std::string out(s);
  bson_free(s);
  return out;
}

int keyLen(std::string_view key) { return static_cast<int>(key.size()); }

}  // namespace

Bson::Bson() : doc_(bson_new()) {}
Bson::~Bson() {
  if (doc_ != nullptr) bson_destroy(doc_);
}
Bson::Bson(const Bson& other) : doc_(bson_copy(other.doc_)) {}
Bson& Bson::operator=(const Bson& other) {
  if (this != &other) {
    Bson copy(other);
    std::swap(doc_, copy.doc_);
  }
  return *this;
}
Bson::Bson(Bson&& other) noexcept : doc_(std::exchange(other.doc_, bson_new())) {}
Bson& Bson::operator=(Bson&& other) noexcept {
  std::swap(doc_, other.doc_);
  return *this;
}

Bson Bson::adopt(bson_t* doc) { return Bson(doc); }

Result<Bson> Bson::fromJson(std::string_view json) {
  bson_error_t error;
  bson_t* doc = bson_new_from_json(reinterpret_cast<const uint8_t*>(json.data()), static_cast<ssize_t>(json.size()), &error);
  if (doc == nullptr) return invalidArgument(std::string("not extended JSON: ") + error.message);
  return Bson(doc);
}

Bson& Bson::utf8(std::string_view key, std::string_view value) {
  bson_append_utf8(doc_, key.data(), keyLen(key), value.data(), static_cast<int>(value.size()));
  return *this;
}
Bson& Bson::int32(std::string_view key, int32_t value) {
  bson_append_int32(doc_, key.data(), keyLen(key), value);
  return *this;
}
Bson& Bson::boolean(std::string_view key, bool value) {
  bson_append_bool(doc_, key.data(), keyLen(key), value);
  return *this;
}
Bson& Bson::document(std::string_view key, const Bson& value) {
  bson_append_document(doc_, key.data(), keyLen(key), value.doc_);
  return *this;
}
Bson& Bson::documentArray(std::string_view key, const std::vector<Bson>& values) {
  bson_t child;
  bson_append_array_begin(doc_, key.data(), keyLen(key), &child);
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string index = std::to_string(i);
    bson_append_document(&child, index.c_str(), -1, values[i].doc_);
  }
  bson_append_array_end(doc_, &child);
  return *this;
}
Bson& Bson::stringArray(std::string_view key, const std::vector<std::string>& values) {
  bson_t child;
  bson_append_array_begin(doc_, key.data(), keyLen(key), &child);
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string index = std::to_string(i);
    bson_append_utf8(&child, index.c_str(), -1, values[i].data(), static_cast<int>(values[i].size()));
  }
  bson_append_array_end(doc_, &child);
  return *this;
}

std::string Bson::canonicalJson() const { return takeJson(bson_as_canonical_extended_json(doc_, nullptr)); }
std::string Bson::relaxedJson() const { return takeJson(bson_as_relaxed_extended_json(doc_, nullptr)); }

Result<Json> Bson::toJson() const { return parseJson(relaxedJson(), "BSON reply"); }

}  // namespace sdb::engines::mongo
