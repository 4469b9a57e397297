// A small owning wrapper over libbson's bson_t, with typed appends (values are never spliced into
// text, so no name or password can change a command's structure) and extended-JSON views.
//
// Contract: a value type (copy = deep copy, move = steal); not thread-safe to mutate concurrently.
// `canonicalJson()` is MongoDB's canonical extended JSON (deterministic, keeps types and key order),
// which the unit tests compare command by command. Never log the JSON of a command that carries
// a password.
#pragma once

#include <bson/bson.h>

#include <string>
#include <string_view>
#include <vector>

#include "operator/core/json.h"
#include "operator/core/result.h"

namespace sdb::engines::mongo {

class Bson {
 public:
  Bson();
  ~Bson();
  Bson(const Bson& other);
  Bson& operator=(const Bson& other);
  Bson(Bson&& other) noexcept;
  Bson& operator=(Bson&& other) noexcept;

  // Parses (relaxed or canonical) extended JSON; for tests and scripted replies.
  static Result<Bson> fromJson(std::string_view json);
  // Takes ownership of a heap bson_t (from bson_new or bson_copy).
  static Bson adopt(bson_t* doc);

  Bson& utf8(std::string_view key, std::string_view value);
  Bson& int32(std::string_view key, int32_t value);
  Bson& boolean(std::string_view key, bool value);
  Bson& document(std::string_view key, const Bson& value);
  Bson& documentArray(std::string_view key, const std::vector<Bson>& values);
  Bson& stringArray(std::string_view key, const std::vector<std::string>& values);

  const bson_t* get() const { return doc_; }
  std::string canonicalJson() const;
  std::string relaxedJson() const;
  // The relaxed form as nlohmann JSON, for reading replies.
  Result<Json> toJson() const;

 private:
  explicit Bson(bson_t* doc) : doc_(doc) {}
  bson_t* doc_;
};

}  // namespace sdb::engines::mongo
