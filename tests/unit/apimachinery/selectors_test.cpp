#include <gtest/gtest.h>

#include "e2e/apimachinery/selectors.h"

namespace sdb::apimachinery {
namespace {

Json withLabels(std::map<std::string, std::string> labels) {
  Json l = Json::object();
  for (auto& [k, v] : labels) l[k] = v;
  return {{"metadata", {{"name", "x"}, {"namespace", "a"}, {"labels", l}}}};
}

TEST(LabelSelector, TableOfExpressions) {
  struct C {
    const char* selector;
    std::map<std::string, std::string> labels;
    bool want;
  };
  const std::vector<C> cases = {
      {"", {}, true},
      {"app=db", {{"app", "db"}}, true},
      {"app==db", {{"app", "web"}}, false},
      {"app!=db", {}, true},
      {"app!=db", {{"app", "db"}}, false},
      {"tier in (a, b)", {{"tier", "b"}}, true},
      {"tier in (a,b)", {{"tier", "c"}}, false},
      {"tier notin (a,b)", {}, true},
      {"tier notin (a,b)", {{"tier", "a"}}, false},
      {"app", {{"app", ""}}, true},
      {"!app", {{"app", "x"}}, false},
      {"!app", {}, true},
      {"app=db,tier in (a),!legacy", {{"app", "db"}, {"tier", "a"}}, true},
      {"app=db,tier in (a),!legacy", {{"app", "db"}, {"tier", "a"}, {"legacy", "1"}}, false},
      {"app.kubernetes.io/name=orders", {{"app.kubernetes.io/name", "orders"}}, true},
  };
  for (const auto& c : cases) {
    auto s = LabelSelector::parse(c.selector);
    ASSERT_TRUE(s.ok()) << c.selector << ": " << s.error().message;
    EXPECT_EQ(s->matches(withLabels(c.labels)), c.want) << c.selector;
  }
}

TEST(LabelSelector, ParseErrorsAreNamed) {
  for (const char* bad : {"a b", "a=(", "=x", "tier in (a b)", "a=b,,c", "bad key=1"}) {
    auto s = LabelSelector::parse(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.error().message.find("unable to parse requirement"), std::string::npos) << s.error().message;
  }
}

TEST(LabelSelector, FromMetav1Json) {
  auto s = LabelSelector::fromJson({{"matchLabels", {{"app", "db"}}},
                                    {"matchExpressions", {{{"key", "tier"}, {"operator", "NotIn"}, {"values", {"x"}}}}}});
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->matches(withLabels({{"app", "db"}})));
  EXPECT_FALSE(s->matches(withLabels({{"app", "db"}, {"tier", "x"}})));
  EXPECT_FALSE(LabelSelector::fromJson({{"matchExpressions", {{{"key", "a"}, {"operator", "Near"}}}}}).ok());
}

TEST(FieldSelector, MetadataAndEventFields) {
  Json ev = {{"metadata", {{"name", "e1"}, {"namespace", "a"}}},
             {"involvedObject", {{"kind", "ServiceDatabase"}, {"name", "orders"}, {"uid", "u1"}}},
             {"type", "Warning"}};
  auto s = FieldSelector::parse("involvedObject.name=orders,involvedObject.kind=ServiceDatabase,type!=Normal", "Event");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->matches(ev));
  auto other = FieldSelector::parse("involvedObject.uid=u2", "Event");
  EXPECT_FALSE(other->matches(ev));
  auto name = FieldSelector::parse("metadata.name=e1", "ConfigMap");
  EXPECT_EQ(name->exactName(), "e1");
  auto unsupported = FieldSelector::parse("involvedObject.name=x", "ConfigMap");
  ASSERT_FALSE(unsupported.ok());
  EXPECT_EQ(unsupported.error().message, "field label not supported: involvedObject.name");
}

}  // namespace
}  // namespace sdb::apimachinery
