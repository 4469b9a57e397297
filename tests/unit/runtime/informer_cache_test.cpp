// The informer's cache storage, fed through applyEvent() (no watch is started): what get/list/byLabel
// return equals what was applied, JSON value kinds included, in both the compact (MessagePack) and the
// shared-DOM modes; which old object onUpdate receives; and that indexes follow updates and deletes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "operator/runtime/informer.h"
#include "tests/unit/runtime/fixture.h"

using namespace sdb;
using namespace sdb::runtime;
using namespace sdb::runtime::testing;
namespace res = sdb::kube::resources;

namespace {

// As the API server sends it: parsed from text, so non-negative integers are unsigned, negative ones
// signed, and anything written with a fraction or exponent is a float.
const char* kAllKinds = R"({
  "apiVersion": "v1", "kind": "ConfigMap",
  "metadata": {"name": "kinds", "namespace": "a", "resourceVersion": "7", "labels": {"app": "x"},
               "managedFields": [{"manager": "kubectl"}]},
  "data": {
    "uint64Max": 18446744073709551615, "int64Min": -9223372036854775808, "int64Max": 9223372036854775807,
    "negative": -1, "zero": 0, "three": 3, "threeFloat": 3.0, "negativeZero": -0.0, "tenth": 0.1,
    "huge": 1e300, "tiny": 5e-324, "fractionFitsFloat32": 0.5, "twoPow53": 9007199254740993,
    "unicode": "h\u00e9llo \u2713 \ud83d\ude00 \u65e5\u672c", "nul": "a\u0000b", "empty": "",
    "long": "0123456789012345678901234567890123456789012345678901234567890123456789",
    "null": null, "yes": true, "no": false, "emptyObject": {}, "emptyArray": [],
    "nested": [[[]], [1, [-2, [3.5, ["s", null, true]]]], {"k": [{"deep": [false]}]}],
    "many": [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]
  }
})";

std::string kindName(const Json& j) {
  if (j.is_number_unsigned()) return "unsigned";
  if (j.is_number_integer()) return "integer";
  if (j.is_number_float()) return "float";
  return j.type_name();
}

// Same value and the same JSON kind at every node (Json's == treats 3 and 3.0 as equal; this does not).
::testing::AssertionResult sameKinds(const Json& want, const Json& got, const std::string& path = "") {
  if (want.type() != got.type()) {
    return ::testing::AssertionFailure() << path << ": kind " << kindName(want) << " became " << kindName(got)
                                         << " (" << want.dump() << " -> " << got.dump() << ")";
  }
  if (want.is_object()) {
    if (want.size() != got.size()) return ::testing::AssertionFailure() << path << ": member count differs";
    for (auto it = want.begin(); it != want.end(); ++it) {
      if (!got.contains(it.key())) return ::testing::AssertionFailure() << path << "/" << it.key() << " is missing";
      if (auto r = sameKinds(it.value(), got.at(it.key()), path + "/" + it.key()); !r) return r;
    }
    return ::testing::AssertionSuccess();
  }
  if (want.is_array()) {
    if (want.size() != got.size()) return ::testing::AssertionFailure() << path << ": length differs";
    for (size_t i = 0; i < want.size(); ++i) {
      if (auto r = sameKinds(want[i], got[i], path + "/" + std::to_string(i)); !r) return r;
    }
    return ::testing::AssertionSuccess();
  }
  if (want.is_number_float() && std::signbit(want.get<double>()) != std::signbit(got.get<double>())) {
    return ::testing::AssertionFailure() << path << ": sign of zero lost";
  }
  if (want != got) return ::testing::AssertionFailure() << path << ": " << want.dump() << " became " << got.dump();
  return ::testing::AssertionSuccess();
}

kube::WatchEvent event(kube::WatchEvent::Type type, Json obj) {
  kube::WatchEvent e;
  e.type = type;
  e.object = std::move(obj);
  return e;
}

class InformerCacheTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    store_ = openStore();
    ASSERT_TRUE(store_);
    client_ = std::make_unique<apimachinery::InProcessKubeClient>(*store_);
    InformerOptions o;
    o.resource = res::kConfigMaps;
    o.compactCache = GetParam();
    informer_ = std::make_unique<Informer>(*client_, o);
  }
  std::unique_ptr<apimachinery::Store> store_;
  std::unique_ptr<apimachinery::InProcessKubeClient> client_;
  std::unique_ptr<Informer> informer_;
};

}  // namespace

TEST_P(InformerCacheTest, ReadsReturnWhatWasAppliedWithEveryJsonKindIntact) {
  Json applied = Json::parse(kAllKinds);
  ObjectPtr delivered;
  informer_->addHandlers({[&](const ObjectPtr& o) { delivered = o; }, nullptr, nullptr});
  informer_->applyEvent(event(kube::WatchEvent::Type::kAdded, applied));
  applied["metadata"].erase("managedFields");

  ASSERT_TRUE(delivered);
  EXPECT_TRUE(sameKinds(applied, *delivered));
  auto got = informer_->get("a", "kinds");
  ASSERT_TRUE(got);
  EXPECT_TRUE(sameKinds(applied, *got));
  EXPECT_EQ(got->dump(), applied.dump()) << "3 and 3.0 print as the server sent them";
  EXPECT_TRUE((*got)["data"]["three"].is_number_unsigned());
  EXPECT_TRUE((*got)["data"]["threeFloat"].is_number_float());
  EXPECT_EQ((*got)["data"]["uint64Max"].get<uint64_t>(), 18446744073709551615u);
  EXPECT_EQ((*got)["data"]["int64Min"].get<int64_t>(), INT64_MIN);
  EXPECT_EQ((*got)["data"]["twoPow53"].get<uint64_t>(), 9007199254740993u) << "not squeezed through a double";
  EXPECT_EQ((*got)["data"]["tenth"].get<double>(), 0.1) << "not squeezed through a float";
  EXPECT_EQ((*got)["data"]["nul"].get<std::string>(), std::string("a\0b", 3));
  for (const auto& objs : {informer_->list(), informer_->list("a"), informer_->byLabel("app", "x")}) {
    ASSERT_EQ(objs.size(), 1u);
    EXPECT_TRUE(sameKinds(applied, *objs[0]));
  }
}

TEST_P(InformerCacheTest, IntegersBuiltInCodeKeepTheirValue) {
  // A DOM built in code holds 3 as a signed integer. MessagePack has no signed encoding for it, so a
  // compact cache returns it unsigned: equal under ==, and the same when printed or read as a number.
  Json applied = {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                  {"metadata", {{"name", "built"}, {"namespace", "a"}}},
                  {"data", {{"three", 3}, {"minusThree", -3}, {"threeFloat", 3.0}}}};
  informer_->applyEvent(event(kube::WatchEvent::Type::kAdded, applied));
  auto got = informer_->get("a", "built");
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, applied);
  EXPECT_EQ(got->dump(), applied.dump());
  EXPECT_EQ((*got)["data"]["three"].get<int>(), 3);
  EXPECT_TRUE((*got)["data"]["minusThree"].is_number_integer() && !(*got)["data"]["minusThree"].is_number_unsigned());
  EXPECT_TRUE((*got)["data"]["threeFloat"].is_number_float());
}

TEST_P(InformerCacheTest, UpdateHandsOverTheOldObjectOnlyToHandlersThatAskForIt) {
  Json v1 = Json::parse(kAllKinds);
  v1["metadata"].erase("managedFields");
  Json v2 = v1;
  v2["metadata"]["resourceVersion"] = "8";
  v2["metadata"]["labels"] = {{"app", "y"}};
  v2["data"]["three"] = 4u;  // unsigned, as parsed from the wire

  ObjectPtr oldSeen, newSeen, newSeenByKeyOnly;
  bool keyOnlyGotNullOld = false;
  informer_->addHandlers({nullptr, [&](const ObjectPtr& o, const ObjectPtr& n) {
                           oldSeen = o;
                           newSeen = n;
                         }, nullptr});
  InformerHandlers keyOnly{nullptr, [&](const ObjectPtr& o, const ObjectPtr& n) {
                             keyOnlyGotNullOld = o == nullptr;
                             newSeenByKeyOnly = n;
                           },
                           nullptr};
  keyOnly.needsOldObject = false;
  informer_->addHandlers(std::move(keyOnly));

  informer_->applyEvent(event(kube::WatchEvent::Type::kAdded, v1));
  informer_->applyEvent(event(kube::WatchEvent::Type::kModified, v2));
  ASSERT_TRUE(oldSeen && newSeen);
  EXPECT_TRUE(sameKinds(v1, *oldSeen));
  EXPECT_TRUE(sameKinds(v2, *newSeen));
  EXPECT_NE(oldSeen, newSeen) << "Owns wiring tells a change from a resync by pointer";
  EXPECT_TRUE(keyOnlyGotNullOld);
  EXPECT_EQ(newSeenByKeyOnly, newSeen) << "every handler shares the event's one decoded object";

  EXPECT_TRUE(informer_->byLabel("app", "x").empty()) << "the old label left the index";
  ASSERT_EQ(informer_->byLabel("app", "y").size(), 1u);
  EXPECT_TRUE(sameKinds(v2, *informer_->byLabel("app", "y")[0]));
  EXPECT_EQ(informer_->lastResourceVersion(), "8");

  ObjectPtr deleted;
  informer_->addHandlers({nullptr, nullptr, [&](const ObjectPtr& o) { deleted = o; }});
  informer_->applyEvent(event(kube::WatchEvent::Type::kDeleted, v2));
  ASSERT_TRUE(deleted);
  EXPECT_TRUE(sameKinds(v2, *deleted));
  EXPECT_EQ(informer_->size(), 0u);
  EXPECT_TRUE(informer_->byLabel("app", "y").empty());
  EXPECT_TRUE(informer_->list("a").empty());
  EXPECT_EQ(informer_->stats().events, 3u);
}

TEST_P(InformerCacheTest, OwnerIndexSurvivesRepeatedUidsAndReparenting) {
  Json child = {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                {"metadata", {{"name", "child"}, {"namespace", "a"},
                              {"ownerReferences", {{{"uid", "u1"}}, {{"uid", "u1"}}, {{"uid", "u2"}}}}}}};
  informer_->applyEvent(event(kube::WatchEvent::Type::kAdded, child));
  EXPECT_EQ(informer_->byOwnerUid("u1").size(), 1u);
  EXPECT_EQ(informer_->byOwnerUid("u2").size(), 1u);
  child["metadata"]["ownerReferences"] = {{{"uid", "u3"}}};
  informer_->applyEvent(event(kube::WatchEvent::Type::kModified, child));
  EXPECT_TRUE(informer_->byOwnerUid("u1").empty());
  EXPECT_TRUE(informer_->byOwnerUid("u2").empty());
  ASSERT_EQ(informer_->byOwnerUid("u3").size(), 1u);
  EXPECT_EQ(*informer_->byOwnerUid("u3")[0], child);
}

INSTANTIATE_TEST_SUITE_P(Storage, InformerCacheTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "Compact" : "SharedDom"; });
