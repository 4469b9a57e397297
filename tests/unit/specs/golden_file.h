// Golden files for the specs tests (tests/unit/specs/golden/): the builder's output is compared
// whole with a checked-in file; SERVICEDB_UPDATE_GOLDEN=1 rewrites the file instead, after a
// deliberate change (review the diff). The review forms below make Secrets and ConfigMaps readable
// in the file; each test also asserts the real form separately.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "operator/core/json.h"
#include "operator/specs/credentials_secret.h"

namespace sdb::specs::golden {

inline std::string goldenPath(const std::string& file) {
  const char* src = std::getenv("SERVICEDB_SOURCE_DIR");
  return std::string(src ? src : ".") + "/tests/unit/specs/golden/" + file;
}

inline ::testing::AssertionResult matchesGolden(const Json& review, const std::string& file) {
  const std::string text = review.dump(2) + "\n";
  if (std::getenv("SERVICEDB_UPDATE_GOLDEN")) {
    std::ofstream(goldenPath(file)) << text;
    return ::testing::AssertionSuccess();
  }
  std::ifstream in(goldenPath(file));
  if (!in) return ::testing::AssertionFailure() << "missing golden file " << goldenPath(file) << " (run with SERVICEDB_UPDATE_GOLDEN=1)";
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str() == text) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << file << " differs; got:\n" << text;
}

// A Secret with `data` decoded, as "data (decoded)".
inline Json secretReview(const Json& secret) {
  Json review = secret;
  review.erase("data");
  review["data (decoded)"] = secretData(secret);
  return review;
}

// A ConfigMap with each `data` value split into lines, as "data (lines)".
inline Json configMapReview(const Json& configMap) {
  Json review = configMap;
  review.erase("data");
  Json lines = Json::object();
  for (const auto& [key, value] : configMap["data"].items()) {
    Json list = Json::array();
    std::istringstream in(value.get<std::string>());
    for (std::string line; std::getline(in, line);) list.push_back(line);
    lines[key] = list;
  }
  review["data (lines)"] = lines;
  return review;
}

}  // namespace sdb::specs::golden
