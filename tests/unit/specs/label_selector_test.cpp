// Symbolic label selectors: parsing errors name the field; matches, implies and satisfiable as
// tables; and implication checked against brute force over a small universe of label maps.
#include "operator/specs/label_selector.h"

#include <gtest/gtest.h>

#include <functional>

using namespace sdb;
using namespace sdb::specs;

namespace {

LabelSelector sel(const std::string& json) {
  auto s = LabelSelector::fromJson(Json::parse(json), "sel");
  EXPECT_TRUE(s.ok()) << json << ": " << s.error().message;
  return s.ok() ? *s : LabelSelector();
}

TEST(LabelSelector, ParseErrorsNameTheField) {
  struct Case {
    std::string json, error;
  };
  const std::vector<Case> cases = {
      {R"([])", "sel: must be a label selector (matchLabels, matchExpressions)"},
      {R"({"matchLabels": []})", "sel.matchLabels: must be a map of label keys to values"},
      {R"({"matchLabels": {"a": 1}})", "sel.matchLabels[\"a\"]: must be a string"},
      {R"({"matchLabels": {"a": "-x"}})", "sel.matchLabels[\"a\"]: value \"-x\" must start and end with a letter or digit"},
      {R"({"matchLabels": {"Bad_Prefix/a": "x"}})", "sel.matchLabels[\"Bad_Prefix/a\"]: prefix of \"Bad_Prefix/a\" must be lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit"},
      {R"({"matchExpressions": {}})", "sel.matchExpressions: must be a list of requirements"},
      {R"({"matchExpressions": [{"key": "a", "operator": "In"}]})", "sel.matchExpressions[0].values: must be non-empty for In"},
      {R"({"matchExpressions": [{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "NotIn", "values": []}]})",
       "sel.matchExpressions[1].values: must be non-empty for NotIn"},
      {R"({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})", "sel.matchExpressions[0].values: must be empty for Exists"},
      {R"({"matchExpressions": [{"key": "a", "operator": "DoesNotExist", "values": ["x"]}]})", "sel.matchExpressions[0].values: must be empty for DoesNotExist"},
      {R"({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]})",
       "sel.matchExpressions[0].operator: unknown operator \"Equals\" (In, NotIn, Exists or DoesNotExist)"},
      {R"({"matchExpressions": [{"operator": "Exists"}]})", "sel.matchExpressions[0].key: must be a label key"},
      {R"({"matchExpressions": [{"key": "a", "operator": "In", "values": [3]}]})", "sel.matchExpressions[0].values[0]: must be a string"},
  };
  for (const auto& c : cases) {
    auto s = LabelSelector::fromJson(Json::parse(c.json), "sel");
    ASSERT_FALSE(s.ok()) << c.json;
    EXPECT_EQ(s.error().message, c.error) << c.json;
  }
}

TEST(LabelSelector, Matches) {
  struct Case {
    std::string selector;
    std::map<std::string, std::string> labels;
    bool matches;
  };
  const std::vector<Case> cases = {
      {R"({})", {}, true},
      {R"({"matchLabels": {"a": "b"}})", {{"a", "b"}, {"c", "d"}}, true},
      {R"({"matchLabels": {"a": "b"}})", {{"a", "c"}}, false},
      {R"({"matchLabels": {"a": "b"}})", {}, false},
      {R"({"matchExpressions": [{"key": "a", "operator": "In", "values": ["b", "c"]}]})", {{"a", "c"}}, true},
      {R"({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["b"]}]})", {}, true},
      {R"({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["b"]}]})", {{"a", "b"}}, false},
      {R"({"matchExpressions": [{"key": "a", "operator": "Exists"}]})", {{"a", ""}}, true},
      {R"({"matchExpressions": [{"key": "a", "operator": "Exists"}]})", {}, false},
      {R"({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]})", {{"a", "x"}}, false},
      {R"({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]})", {{"b", "x"}}, true},
      {R"({"matchLabels": {"a": "b"}, "matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["b"]}]})", {{"a", "b"}}, false},
  };
  for (const auto& c : cases) EXPECT_EQ(sel(c.selector).matches(c.labels), c.matches) << c.selector;
}

TEST(LabelSelector, ImpliesAndSatisfiable) {
  struct Case {
    std::string narrow, wide;
    bool implies;
  };
  const std::string ab = R"({"matchLabels": {"a": "b"}})";
  const std::vector<Case> cases = {
      {R"({"matchLabels": {"a": "b", "c": "d"}})", ab, true},
      {ab, R"({"matchLabels": {"a": "b", "c": "d"}})", false},
      {ab, R"({})", true},
      {R"({})", ab, false},
      {R"({"matchExpressions": [{"key": "a", "operator": "In", "values": ["b"]}]})",
       R"({"matchExpressions": [{"key": "a", "operator": "In", "values": ["b", "c"]}]})", true},
      {R"({"matchExpressions": [{"key": "a", "operator": "In", "values": ["b", "c"]}]})", ab, false},
      {ab, R"({"matchExpressions": [{"key": "a", "operator": "Exists"}]})", true},
      {R"({"matchExpressions": [{"key": "a", "operator": "Exists"}]})", ab, false},
      {ab, R"({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["c"]}]})", true},
      {ab, R"({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["b"]}]})", false},
      {R"({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["b", "c"]}]})",
       R"({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["b"]}]})", true},
      {R"({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["b"]}]})",
       R"({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["b", "c"]}]})", false},
      {R"({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]})",
       R"({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["b"]}]})", true},
      {R"({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["b"]}]})",
       R"({"matchExpressions": [{"key": "a", "operator": "Exists"}]})", false},
      // Unsatisfiable selectors match nothing and so imply anything.
      {R"({"matchLabels": {"a": "b"}, "matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["b"]}]})",
       R"({"matchLabels": {"z": "z"}})", true},
  };
  for (const auto& c : cases) EXPECT_EQ(sel(c.narrow).implies(sel(c.wide)), c.implies) << c.narrow << " => " << c.wide;

  EXPECT_TRUE(sel(R"({"matchLabels": {"team": "x"}})").intersect(LabelSelector::fromLabels({{"app", "y"}})).satisfiable());
  EXPECT_FALSE(sel(ab).intersect(LabelSelector::fromLabels({{"a", "c"}})).satisfiable());
  EXPECT_FALSE(sel(R"({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["c"]}]})")
                   .intersect(LabelSelector::fromLabels({{"a", "c"}}))
                   .satisfiable());
  EXPECT_FALSE(sel(R"({"matchExpressions": [{"key": "a", "operator": "Exists"}, {"key": "a", "operator": "DoesNotExist"}]})").satisfiable());
  EXPECT_EQ(sel(R"({"matchExpressions": [{"key": "a", "operator": "In", "values": ["x", "y"]},
                                          {"key": "a", "operator": "NotIn", "values": ["y"]}]})").finiteValues("a"),
            (std::set<std::string>{"x"}));
  EXPECT_EQ(sel(R"({"matchExpressions": [{"key": "a", "operator": "Exists"}]})").finiteValues("a"), std::nullopt);
}

// Implication agrees with brute force: over keys {a, b} and values {absent, x, y, z}, A implies B
// exactly when every label map A matches, B matches ("z" stands for every value no selector names,
// which is why the pool of requirements never mentions it).
TEST(LabelSelector, ImplicationAgreesWithBruteForce) {
  std::vector<Json> requirements;
  for (const char* key : {"a", "b"}) {
    requirements.push_back({{"key", key}, {"operator", "Exists"}});
    requirements.push_back({{"key", key}, {"operator", "DoesNotExist"}});
    for (const auto& values : std::vector<std::vector<std::string>>{{"x"}, {"y"}, {"x", "y"}}) {
      requirements.push_back({{"key", key}, {"operator", "In"}, {"values", values}});
      requirements.push_back({{"key", key}, {"operator", "NotIn"}, {"values", values}});
    }
  }
  std::vector<LabelSelector> selectors = {LabelSelector()};
  std::vector<std::string> texts = {"{}"};
  for (size_t i = 0; i < requirements.size(); ++i) {
    for (size_t j = i; j < requirements.size(); ++j) {
      Json s = {{"matchExpressions", Json::array({requirements[i], requirements[j]})}};
      selectors.push_back(sel(s.dump()));
      texts.push_back(s.dump());
    }
  }
  std::vector<std::map<std::string, std::string>> universe;
  for (const char* va : {"", "x", "y", "z"}) {
    for (const char* vb : {"", "x", "y", "z"}) {
      std::map<std::string, std::string> labels;
      if (*va) labels["a"] = va;
      if (*vb) labels["b"] = vb;
      universe.push_back(labels);
    }
  }
  int implications = 0;
  for (size_t i = 0; i < selectors.size(); ++i) {
    for (size_t j = 0; j < selectors.size(); ++j) {
      const bool expected = std::all_of(universe.begin(), universe.end(), [&](const auto& labels) {
        return !selectors[i].matches(labels) || selectors[j].matches(labels);
      });
      ASSERT_EQ(selectors[i].implies(selectors[j]), expected) << texts[i] << " => " << texts[j];
      implications += expected;
    }
    const bool anyMatch = std::any_of(universe.begin(), universe.end(), [&](const auto& l) { return selectors[i].matches(l); });
    ASSERT_EQ(selectors[i].satisfiable(), anyMatch) << texts[i];
  }
  EXPECT_GT(implications, static_cast<int>(selectors.size()));  // not only the reflexive ones
}

TEST(LabelSelector, NameRules) {
  EXPECT_EQ(dnsLabelProblem("shop-1"), "");
  EXPECT_NE(dnsLabelProblem("Shop"), "");
  EXPECT_NE(dnsLabelProblem("-shop"), "");
  EXPECT_NE(dnsLabelProblem(""), "");
  EXPECT_EQ(labelKeyProblem("app.kubernetes.io/name"), "");
  EXPECT_NE(labelKeyProblem("a/b/c"), "");
  EXPECT_NE(labelKeyProblem(std::string(64, 'a')), "");
  EXPECT_EQ(labelValueProblem(""), "");
  EXPECT_EQ(labelValueProblem("A_b.c-9"), "");
  EXPECT_NE(labelValueProblem("a b"), "");
}

}  // namespace
