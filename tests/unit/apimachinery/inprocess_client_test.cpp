// The in-process KubeClient behaves as the store (and so the local API server) does, through the
// same interface the operator uses.
#include <gtest/gtest.h>

#include "e2e/apimachinery_client/inprocess_client.h"

namespace sdb::apimachinery {
namespace {

namespace res = kube::resources;

TEST(InProcessKubeClient, CrudWatchAndTypedErrorsThroughTheInterface) {
  auto store = Store::open({});
  ASSERT_TRUE(store.ok());
  InProcessKubeClient impl(**store);
  kube::KubeClient& c = impl;
  ASSERT_TRUE(c.create(res::kNamespaces, "", {{"metadata", {{"name", "a"}}}}).ok());
  auto w = c.watch(res::kSecrets, "a", {});
  ASSERT_TRUE(w.ok());
  auto s = c.create(res::kSecrets, "a", {{"metadata", {{"name", "creds"}}}, {"stringData", {{"k", "v"}}}});
  ASSERT_TRUE(s.ok());
  auto e = (*w)->next();
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_EQ((*e)->type, kube::WatchEvent::Type::kAdded);
  EXPECT_EQ((*e)->object["metadata"]["name"], "creds");
  Json stale = *s;
  ASSERT_TRUE(c.patch(res::kSecrets, "a", "creds", kube::PatchType::kMerge, R"({"metadata":{"labels":{"x":"y"}}})").ok());
  auto conflict = c.update(res::kSecrets, "a", stale);
  ASSERT_FALSE(conflict.ok());
  EXPECT_TRUE(conflict.error().is(kube::ApiErrorReason::kConflict));
  EXPECT_TRUE(c.get(res::kSecrets, "a", "nope").error().is(kube::ApiErrorReason::kNotFound));
  (*w)->stop();
  // After stop(), next() ends promptly (after draining what was queued).
  while (true) {
    auto n = (*w)->next();
    ASSERT_TRUE(n.ok());
    if (!n->has_value()) break;
  }
}

TEST(InProcessKubeClient, ExpiredResourceVersionIsGone) {
  StoreOptions o;
  o.historyLimit = 2;
  auto store = Store::open(o);
  InProcessKubeClient c(**store);
  ASSERT_TRUE(c.create(res::kNamespaces, "", {{"metadata", {{"name", "a"}}}}).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.create(res::kConfigMaps, "a", {{"metadata", {{"name", "c" + std::to_string(i)}}}}).ok());
  kube::WatchOptions wo;
  wo.resourceVersion = "1";
  auto w = c.watch(res::kConfigMaps, "a", wo);
  ASSERT_FALSE(w.ok());
  EXPECT_TRUE(w.error().is(kube::ApiErrorReason::kGone));
}

TEST(InProcessKubeClient, ServerSideApplyThroughTheInterface) {
  auto store = Store::open({});
  InProcessKubeClient impl(**store);
  kube::KubeClient& c = impl;
  ASSERT_TRUE(c.create(res::kNamespaces, "", {{"metadata", {{"name", "a"}}}}).ok());
  const Json desired = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "s"}, {"namespace", "a"}}},
                        {"stringData", {{"k", "v"}}}};
  kube::PatchOptions o;
  o.fieldManager = "servicedb-operator";
  o.force = true;
  auto created = c.patch(res::kSecrets, "a", "s", kube::PatchType::kApply, desired.dump(), o);
  ASSERT_TRUE(created.ok()) << created.error().toString();
  EXPECT_EQ((*created)["metadata"]["managedFields"][0]["manager"], "servicedb-operator");
  auto again = c.patch(res::kSecrets, "a", "s", kube::PatchType::kApply, desired.dump(), o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)["metadata"]["resourceVersion"], (*created)["metadata"]["resourceVersion"]) << "a no-op apply writes nothing";
}

}  // namespace
}  // namespace sdb::apimachinery
