// Golden files for the specs tests (tests/unit/specs/golden/). A Secret's `data` is shown decoded,
// as "data (decoded)", so a reviewer can read it; the base64 round trip is asserted separately.
// SERVICEDB_UPDATE_GOLDEN=1 rewrites the files instead of comparing.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "operator/core/json.h"
#include "operator/specs/credentials_secret.h"

namespace sdb::specs::testing {

inline std::string goldenPath(const std::string& file) {
  const char* src = std::getenv("SERVICEDB_SOURCE_DIR");
  return std::string(src ? src : ".") + "/tests/unit/specs/golden/" + file;
}

inline ::testing::AssertionResult matchesGolden(const Json& actual, const std::string& file) {
  Json review = actual;
  review.erase("data");
  review["data (decoded)"] = secretData(actual);
  std::string text = review.dump(2) + "\n";
  if (std::getenv("SERVICEDB_UPDATE_GOLDEN")) {
    std::ofstream(goldenPath(file)) << text;
    return ::testing::AssertionSuccess();
  }
  std::ifstream in(goldenPath(file));
  if (!in) return ::testing::AssertionFailure() << "missing golden file " << goldenPath(file);
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str() == text) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << file << " differs; got:\n" << text;
}

}  // namespace sdb::specs::testing
