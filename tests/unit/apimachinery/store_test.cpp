// The store's Kubernetes semantics, in-process: CRUD, generation, conflicts, status subresource,
// finalizers, CRDs and custom-resource validation, lists with continue, persistence.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "e2e/apimachinery/store.h"
#include "operator/schema/yaml_json.h"

namespace sdb::apimachinery {
namespace {

using kube::ApiErrorReason;
namespace res = kube::resources;

const char* kCrd = R"(
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.io}
spec:
  group: example.io
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              required: [size]
              properties:
                size: {type: integer, minimum: 1}
                color: {type: string, default: blue}
            status:
              type: object
              properties:
                phase: {type: string}
)";
const kube::ResourceRef kWidgets{"example.io", "v1", "widgets", "Widget", true};

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { open(""); }
  void open(const std::string& dir) {
    store_.reset();
    StoreOptions o;
    o.dataDir = dir;
    o.clock = &clock_;
    o.random = &random_;
    o.historyLimit = 50;
    auto s = Store::open(o);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
  }
  Json ns(const std::string& name) { return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}}; }
  void mustCreate(const kube::ResourceRef& r, const std::string& n, Json o) {
    auto c = store_->create(r, n, std::move(o));
    ASSERT_TRUE(c.ok()) << c.error().toString();
  }
  void installCrd() {
    auto crd = schema::yamlToJson(kCrd);
    mustCreate(res::kCustomResourceDefinitions, "", *crd);
  }
  Json widget(const std::string& name, Json spec) {
    return {{"apiVersion", "example.io/v1"}, {"kind", "Widget"}, {"metadata", {{"name", name}}}, {"spec", spec}};
  }
  FakeClock clock_{std::chrono::system_clock::from_time_t(1764040000)};
  SeededRandom random_{99};
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, CreateGetAndTheirErrors) {
  mustCreate(res::kNamespaces, "", ns("a"));
  Json cm = {{"metadata", {{"name", "cfg"}}}, {"data", {{"k", "v"}}}};
  auto created = store_->create(res::kConfigMaps, "a", cm);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ((*created)["metadata"]["namespace"], "a");
  EXPECT_EQ((*created)["kind"], "ConfigMap");
  EXPECT_EQ((*created)["metadata"]["uid"].get<std::string>().size(), 36u);
  EXPECT_EQ((*created)["metadata"]["creationTimestamp"], formatRfc3339(clock_.now()));
  auto dup = store_->create(res::kConfigMaps, "a", cm);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().reason, ApiErrorReason::kAlreadyExists);
  EXPECT_EQ(dup.error().message, "configmaps \"cfg\" already exists");
  auto missingNs = store_->create(res::kConfigMaps, "nope", cm);
  EXPECT_EQ(missingNs.error().message, "namespaces \"nope\" not found");
  auto nf = store_->get(res::kConfigMaps, "a", "other");
  EXPECT_EQ(nf.error().reason, ApiErrorReason::kNotFound);
  EXPECT_EQ(nf.error().message, "configmaps \"other\" not found");
  auto gen = store_->create(res::kConfigMaps, "a", {{"metadata", {{"generateName", "cfg-"}}}});
  ASSERT_TRUE(gen.ok());
  EXPECT_EQ((*gen)["metadata"]["name"].get<std::string>().size(), 9u);
  auto noName = store_->create(res::kConfigMaps, "a", {{"metadata", Json::object()}});
  EXPECT_EQ(noName.error().reason, ApiErrorReason::kInvalid);
  EXPECT_EQ(noName.error().causes[0].field, "metadata.name");
}

TEST_F(StoreTest, ResourceVersionsRiseAndStaleUpdatesConflict) {
  mustCreate(res::kNamespaces, "", ns("a"));
  auto v1 = store_->create(res::kConfigMaps, "a", {{"metadata", {{"name", "c"}}}, {"data", {{"k", "1"}}}});
  Json edit = *v1;
  edit["data"]["k"] = "2";
  auto v2 = store_->update(res::kConfigMaps, "a", "c", edit);
  ASSERT_TRUE(v2.ok());
  EXPECT_GT(std::stoll((*v2)["metadata"]["resourceVersion"].get<std::string>()),
            std::stoll((*v1)["metadata"]["resourceVersion"].get<std::string>()));
  auto stale = store_->update(res::kConfigMaps, "a", "c", edit);  // still carries v1's RV
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().reason, ApiErrorReason::kConflict);
  EXPECT_EQ(stale.error().message,
            "Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your "
            "changes to the latest version and try again");
  // A no-op update writes nothing: same resourceVersion.
  auto same = store_->update(res::kConfigMaps, "a", "c", *v2);
  EXPECT_EQ((*same)["metadata"]["resourceVersion"], (*v2)["metadata"]["resourceVersion"]);
  auto wrongName = store_->update(res::kConfigMaps, "a", "d", *v2);
  EXPECT_EQ(wrongName.error().reason, ApiErrorReason::kBadRequest);
}

TEST_F(StoreTest, CustomResourcesAreValidatedPrunedAndDefaulted) {
  mustCreate(res::kNamespaces, "", ns("a"));
  installCrd();
  auto crd = store_->get(res::kCustomResourceDefinitions, "", "widgets.example.io");
  ASSERT_TRUE(crd.ok());
  bool established = false;
  for (const auto& c : (*crd)["status"]["conditions"]) established |= c["type"] == "Established" && c["status"] == "True";
  EXPECT_TRUE(established);
  auto ok = store_->create(kWidgets, "a", widget("w", {{"size", 2}, {"junk", 1}}));
  ASSERT_TRUE(ok.ok()) << ok.error().toString();
  EXPECT_EQ((*ok)["spec"]["color"], "blue");
  EXPECT_FALSE((*ok)["spec"].contains("junk"));
  EXPECT_EQ((*ok)["metadata"]["generation"], 1);
  auto bad = store_->create(kWidgets, "a", widget("bad", {{"size", 0}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().httpCode, 422);
  EXPECT_EQ(bad.error().message,
            "Widget.example.io \"bad\" is invalid: spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1");
  ASSERT_EQ(bad.error().causes.size(), 1u);
  EXPECT_EQ(bad.error().causes[0].field, "spec.size");
  kube::WriteOptions strict;
  strict.fieldValidation = "Strict";
  auto s = store_->create(kWidgets, "a", widget("s", {{"size", 1}, {"junk", 1}}), strict);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "strict decoding error: unknown field \"spec.junk\"");
  kube::WriteOptions warn;
  warn.fieldValidation = "Warn";
  RequestContext ctx;
  ASSERT_TRUE(store_->create(kWidgets, "a", widget("w2", {{"size", 1}, {"junk", 1}}), warn, &ctx).ok());
  EXPECT_EQ(ctx.warnings, (std::vector<std::string>{"unknown field \"spec.junk\""}));
  kube::WriteOptions dry;
  dry.dryRun = true;
  ASSERT_TRUE(store_->create(kWidgets, "a", widget("dry", {{"size", 1}}), dry).ok());
  EXPECT_EQ(store_->get(kWidgets, "a", "dry").error().reason, ApiErrorReason::kNotFound);
}

TEST_F(StoreTest, GenerationAndTheStatusSubresource) {
  mustCreate(res::kNamespaces, "", ns("a"));
  installCrd();
  Json w = widget("w", {{"size", 1}});
  w["status"] = {{"phase", "ignored on create"}};
  auto v1 = store_->create(kWidgets, "a", w);
  EXPECT_FALSE((*v1).contains("status"));
  Json labelled = *v1;
  labelled["metadata"]["labels"] = {{"x", "y"}};
  auto v2 = store_->update(kWidgets, "a", "w", labelled);
  EXPECT_EQ((*v2)["metadata"]["generation"], 1) << "metadata-only changes keep the generation";
  Json withStatus = *v2;
  withStatus["status"] = {{"phase", "Ready"}};
  auto v3 = store_->update(kWidgets, "a", "w", withStatus);  // main resource: status ignored
  EXPECT_FALSE((*v3).contains("status"));
  auto v4 = store_->update(kWidgets, "a", "w", withStatus, {}, "status");
  ASSERT_TRUE(v4.ok()) << v4.error().toString();
  EXPECT_EQ((*v4)["status"]["phase"], "Ready");
  EXPECT_EQ((*v4)["metadata"]["generation"], 1) << "status changes keep the generation";
  Json bigger = *v4;
  bigger["spec"]["size"] = 3;
  bigger["status"]["phase"] = "not through the main resource";
  auto v5 = store_->update(kWidgets, "a", "w", bigger);
  EXPECT_EQ((*v5)["metadata"]["generation"], 2);
  EXPECT_EQ((*v5)["status"]["phase"], "Ready");
}

TEST_F(StoreTest, FinalizersHoldDeletionUntilRemoved) {
  mustCreate(res::kNamespaces, "", ns("a"));
  mustCreate(res::kConfigMaps, "a", {{"metadata", {{"name", "c"}, {"finalizers", {"example.io/guard"}}}}});
  auto del = store_->remove(res::kConfigMaps, "a", "c");
  ASSERT_TRUE(del.ok());
  EXPECT_TRUE((*del)["metadata"].contains("deletionTimestamp"));
  auto still = store_->get(res::kConfigMaps, "a", "c");
  ASSERT_TRUE(still.ok());
  auto cleared = store_->patch(res::kConfigMaps, "a", "c", kube::PatchType::kMerge, R"({"metadata":{"finalizers":null}})");
  ASSERT_TRUE(cleared.ok()) << cleared.error().toString();
  EXPECT_EQ(store_->get(res::kConfigMaps, "a", "c").error().reason, ApiErrorReason::kNotFound);
}

TEST_F(StoreTest, PatchesAndDeletePreconditions) {
  mustCreate(res::kNamespaces, "", ns("a"));
  mustCreate(res::kConfigMaps, "a", {{"metadata", {{"name", "c"}}}, {"data", {{"a", "1"}, {"b", "2"}}}});
  auto merged = store_->patch(res::kConfigMaps, "a", "c", kube::PatchType::kMerge, R"({"data":{"a":null,"c":"3"}})");
  EXPECT_EQ((*merged)["data"], (Json{{"b", "2"}, {"c", "3"}}));
  auto jp = store_->patch(res::kConfigMaps, "a", "c", kube::PatchType::kJson, R"([{"op":"replace","path":"/data/b","value":"9"}])");
  EXPECT_EQ((*jp)["data"]["b"], "9");
  auto failedTest = store_->patch(res::kConfigMaps, "a", "c", kube::PatchType::kJson, R"([{"op":"test","path":"/data/b","value":"1"}])");
  EXPECT_FALSE(failedTest.ok());
  kube::DeleteOptions pre;
  pre.preconditionUid = "not-the-uid";
  auto refused = store_->remove(res::kConfigMaps, "a", "c", pre);
  EXPECT_EQ(refused.error().reason, ApiErrorReason::kConflict);
  EXPECT_NE(refused.error().message.find("Precondition failed: UID in precondition: not-the-uid"), std::string::npos);
}

TEST_F(StoreTest, ListsFilterAndPageWithContinue) {
  mustCreate(res::kNamespaces, "", ns("a"));
  mustCreate(res::kNamespaces, "", ns("b"));
  for (int i = 0; i < 5; ++i) {
    mustCreate(res::kConfigMaps, i < 3 ? "a" : "b",
               {{"metadata", {{"name", "c" + std::to_string(i)}, {"labels", {{"even", i % 2 ? "no" : "yes"}}}}}});
  }
  auto all = store_->list(res::kConfigMaps, "", {});
  EXPECT_EQ((*all)["items"].size(), 5u);
  EXPECT_EQ((*all)["kind"], "ConfigMapList");
  kube::ListOptions even;
  even.labelSelector = "even=yes";
  EXPECT_EQ((*store_->list(res::kConfigMaps, "", even))["items"].size(), 3u);
  EXPECT_EQ((*store_->list(res::kConfigMaps, "a", {}))["items"].size(), 3u);
  kube::ListOptions page;
  page.limit = 2;
  std::vector<std::string> names;
  while (true) {
    auto p = store_->list(res::kConfigMaps, "", page);
    ASSERT_TRUE(p.ok());
    for (const auto& it : (*p)["items"]) names.push_back(it["metadata"]["name"]);
    page.continueToken = jsonString(*p, {"metadata", "continue"});
    if (page.continueToken.empty()) break;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"c0", "c1", "c2", "c3", "c4"}));
  kube::ListOptions badSel;
  badSel.labelSelector = "a b";
  EXPECT_EQ(store_->list(res::kConfigMaps, "", badSel).error().reason, ApiErrorReason::kBadRequest);
}

// The simplification of limit/continue (e2e/README.md): a later page reads the current state, not a
// snapshot at the first page's resourceVersion; a token from before the compaction point is 410.
TEST_F(StoreTest, ContinuedPagesReadTheCurrentStateAndExpireAtTheCompactionPoint) {
  mustCreate(res::kNamespaces, "", ns("a"));
  for (int i = 0; i < 4; ++i) mustCreate(res::kConfigMaps, "a", {{"metadata", {{"name", "c" + std::to_string(i)}}}});
  kube::ListOptions page;
  page.limit = 2;
  auto first = store_->list(res::kConfigMaps, "a", page);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ((*first)["items"].size(), 2u);
  page.continueToken = jsonString(*first, {"metadata", "continue"});
  ASSERT_FALSE(page.continueToken.empty());
  // Changes after the first page: one object changed, one created, one deleted, all past the cut.
  auto c2 = store_->get(res::kConfigMaps, "a", "c2");
  Json changed = *c2;
  changed["data"] = {{"k", "new"}};
  ASSERT_TRUE(store_->update(res::kConfigMaps, "a", "c2", changed).ok());
  mustCreate(res::kConfigMaps, "a", {{"metadata", {{"name", "c4"}}}});
  ASSERT_TRUE(store_->remove(res::kConfigMaps, "a", "c3").ok());
  kube::ListOptions rest = page;
  rest.limit = 0;
  auto second = store_->list(res::kConfigMaps, "a", rest);
  ASSERT_TRUE(second.ok()) << second.error().toString();
  std::vector<std::string> names;
  for (const auto& it : (*second)["items"]) names.push_back(it["metadata"]["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"c2", "c4"})) << "created c4 shows up and deleted c3 does not";
  EXPECT_EQ((*second)["items"][0]["data"]["k"], "new") << "the later page reads c2 as it is now";

  // Past the compaction point (historyLimit 50 here) the same token is refused with 410.
  for (int i = 0; i < 60; ++i) mustCreate(res::kConfigMaps, "a", {{"metadata", {{"name", "p" + std::to_string(i)}}}});
  auto gone = store_->list(res::kConfigMaps, "a", page);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().httpCode, 410);
  EXPECT_TRUE(gone.error().is(ApiErrorReason::kGone)) << gone.error().toString();
  // kube-apiserver's continueExpired text, the one it sends when it offers no token to go on with
  // (we offer none; its inconsistentContinue text also promises a token in metadata.continue).
  EXPECT_EQ(gone.error().message,
            "The provided continue parameter is too old to display a consistent list result. You can start a new "
            "list without the continue parameter.");
  page.continueToken.clear();
  EXPECT_TRUE(store_->list(res::kConfigMaps, "a", page).ok()) << "a new list without the token works";
}

// fieldValidation reaches custom resources only (e2e/README.md): a built-in kind has no schema here,
// so an unknown field is stored as sent even with Strict (kube-apiserver answers 400 `strict decoding
// error: unknown field "x"`, and drops it with Warn or Ignore).
TEST_F(StoreTest, FieldValidationIgnoreAndBuiltinKinds) {
  mustCreate(res::kNamespaces, "", ns("a"));
  installCrd();
  kube::WriteOptions ignore;
  ignore.fieldValidation = "Ignore";
  RequestContext ctx;
  auto quiet = store_->create(kWidgets, "a", widget("q", {{"size", 1}, {"junk", 1}}), ignore, &ctx);
  ASSERT_TRUE(quiet.ok()) << quiet.error().toString();
  EXPECT_TRUE(ctx.warnings.empty()) << "Ignore: no warnings";
  EXPECT_FALSE((*quiet)["spec"].contains("junk")) << "Ignore: the unknown field is still pruned";
  RequestContext none;
  ASSERT_TRUE(store_->create(kWidgets, "a", widget("d", {{"size", 1}, {"junk", 1}}), {}, &none).ok());
  EXPECT_EQ(none.warnings, (std::vector<std::string>{"unknown field \"spec.junk\""})) << "no setting warns, as Warn";

  kube::WriteOptions strict;
  strict.fieldValidation = "Strict";
  RequestContext builtin;
  auto cm = store_->create(res::kConfigMaps, "a", {{"metadata", {{"name", "odd"}}}, {"junk", 1}}, strict, &builtin);
  ASSERT_TRUE(cm.ok()) << "the boundary: built-ins are not checked: " << cm.error().toString();
  EXPECT_EQ((*cm)["junk"], 1) << "stored as sent";
  EXPECT_TRUE(builtin.warnings.empty());
}

TEST_F(StoreTest, RestartEndsWatchesResetsHistoryAndReadsTheStateBack) {
  auto dir = std::filesystem::temp_directory_path() / ("sdb-store-restart-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  open(dir.string());
  mustCreate(res::kNamespaces, "", ns("a"));
  mustCreate(res::kConfigMaps, "a", {{"metadata", {{"name", "one"}}}});
  mustCreate(res::kConfigMaps, "a", {{"metadata", {{"name", "two"}}}});
  const std::string oldRv = std::to_string(store_->resourceVersion() - 1);
  auto w = store_->watch(res::kConfigMaps, "a", {});
  ASSERT_TRUE(w.ok());
  kube::ListOptions page;
  page.limit = 1;
  const std::string token = jsonString(*store_->list(res::kConfigMaps, "a", page), {"metadata", "continue"});
  ASSERT_FALSE(token.empty());
  const int64_t rv = store_->resourceVersion();
  {
    // A write only the data dir knows of: the restart must read it back from there.
    std::ofstream wal(dir / "store.wal", std::ios::app);
    wal << Json{{"t", "put"}, {"k", "/configmaps/a/disk"}, {"rv", rv + 1},
                {"o", {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                       {"metadata", {{"name", "disk"}, {"namespace", "a"}, {"resourceVersion", std::to_string(rv + 1)}}}}}}
               .dump()
        << "\n";
  }
  auto restarted = store_->restart();
  ASSERT_TRUE(restarted.ok()) << restarted.error().message;
  EXPECT_EQ(*restarted, rv + 1);
  EXPECT_TRUE(store_->get(res::kConfigMaps, "a", "one").ok()) << "state kept";
  EXPECT_TRUE(store_->get(res::kConfigMaps, "a", "disk").ok()) << "state read back from the data dir";
  int events = 0;
  while ((*w)->next(std::chrono::milliseconds(50))) ++events;
  EXPECT_EQ(events, 2) << "the open watch delivered what it had queued";
  EXPECT_TRUE((*w)->closed()) << "and then ended, as a restart drops it";
  kube::WatchOptions from;
  from.resourceVersion = oldRv;
  auto old = store_->watch(res::kConfigMaps, "a", from);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().httpCode, 410) << "history starts again at the restart: clients re-list";
  from.resourceVersion = std::to_string(*restarted);
  EXPECT_TRUE(store_->watch(res::kConfigMaps, "a", from).ok()) << "the current resourceVersion still resumes";
  page.continueToken = token;
  EXPECT_EQ(store_->list(res::kConfigMaps, "a", page).error().httpCode, 410);
  mustCreate(res::kConfigMaps, "a", {{"metadata", {{"name", "after"}}}});
  EXPECT_GT(store_->resourceVersion(), *restarted) << "resourceVersions keep rising";
  // And a real reopen finds everything, including what was written after the restart.
  store_.reset();
  open(dir.string());
  EXPECT_TRUE(store_->get(res::kConfigMaps, "a", "after").ok());
  EXPECT_TRUE(store_->get(res::kConfigMaps, "a", "disk").ok());
  std::filesystem::remove_all(dir);
}

TEST_F(StoreTest, ServicesGetAClusterIpThatIsImmutable) {
  mustCreate(res::kNamespaces, "", ns("a"));
  auto svc = store_->create(res::kServices, "a", {{"metadata", {{"name", "db"}}}, {"spec", {{"ports", {{{"port", 5432}}}}}}});
  const std::string ip = (*svc)["spec"]["clusterIP"];
  EXPECT_EQ(ip.rfind("198.19.", 0), 0u);
  Json moved = *svc;
  moved["spec"]["clusterIP"] = "198.19.9.9";
  auto refused = store_->update(res::kServices, "a", "db", moved);
  EXPECT_EQ(refused.error().reason, ApiErrorReason::kInvalid);
  EXPECT_EQ(refused.error().causes[0].field, "spec.clusterIP");
}

TEST_F(StoreTest, StateSurvivesReopenAndATornLastLine) {
  auto dir = std::filesystem::temp_directory_path() / ("sdb-store-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  open(dir.string());
  mustCreate(res::kNamespaces, "", ns("a"));
  installCrd();
  mustCreate(kWidgets, "a", widget("w", {{"size", 4}}));
  const int64_t rvBefore = store_->resourceVersion();
  store_.reset();
  {
    std::ofstream wal(dir / "store.wal", std::ios::app);
    wal << R"({"t":"put","k":"/configmaps/a/torn","rv":)";  // a write cut mid-line by kill -9
  }
  open(dir.string());
  auto w = store_->get(kWidgets, "a", "w");  // the CRD was re-registered from disk
  ASSERT_TRUE(w.ok()) << w.error().toString();
  EXPECT_EQ((*w)["spec"]["size"], 4);
  EXPECT_EQ(store_->resourceVersion(), rvBefore);
  mustCreate(res::kConfigMaps, "a", {{"metadata", {{"name", "after"}}}});
  EXPECT_GT(store_->resourceVersion(), rvBefore);
  std::filesystem::remove_all(dir);
}

TEST_F(StoreTest, AServiceRangeOfOneSlash24LeavesTheFirstAddressForKubernetes) {
  StoreOptions o;
  o.clock = &clock_;
  o.random = &random_;
  o.serviceCidrPrefix = "198.19.7.";
  auto s = Store::open(o);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->create(res::kNamespaces, "", ns("a")).ok());
  std::set<std::string> seen;
  for (int i = 0; i < 60; ++i) {
    auto svc = (*s)->create(res::kServices, "a", {{"metadata", {{"name", "s" + std::to_string(i)}}}, {"spec", {{"ports", {{{"port", 80}}}}}}});
    ASSERT_TRUE(svc.ok()) << svc.error().toString();
    const std::string ip = (*svc)["spec"]["clusterIP"];
    ASSERT_EQ(ip.rfind("198.19.7.", 0), 0u) << ip;
    const int last = std::stoi(ip.substr(9));
    EXPECT_GE(last, 2) << ip;
    EXPECT_LE(last, 254) << ip;
    EXPECT_TRUE(seen.insert(ip).second) << ip;
  }
  auto kubernetes = (*s)->create(res::kServices, "a", {{"metadata", {{"name", "kubernetes"}}}, {"spec", {{"clusterIP", "198.19.7.1"}, {"ports", {{{"port", 443}}}}}}});
  ASSERT_TRUE(kubernetes.ok()) << kubernetes.error().toString();
}

TEST_F(StoreTest, PodsBoundToANodeAreDeletedGracefully) {
  mustCreate(res::kNamespaces, "", ns("a"));
  mustCreate(res::kPods, "a", {{"metadata", {{"name", "unbound"}}}, {"spec", {{"containers", Json::array()}}}});
  ASSERT_TRUE(store_->remove(res::kPods, "a", "unbound").ok());
  EXPECT_EQ(store_->get(res::kPods, "a", "unbound").error().reason, ApiErrorReason::kNotFound) << "an unbound pod goes at once";

  mustCreate(res::kPods, "a", {{"metadata", {{"name", "p"}}}, {"spec", {{"nodeName", "n1"}, {"terminationGracePeriodSeconds", 20}}}});
  auto del = store_->remove(res::kPods, "a", "p");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ((*del)["metadata"]["deletionGracePeriodSeconds"], 20);
  EXPECT_EQ((*del)["metadata"]["deletionTimestamp"], formatRfc3339(clock_.now() + std::chrono::seconds(20)));
  kube::DeleteOptions longer;
  longer.gracePeriodSeconds = 60;
  EXPECT_EQ((*store_->remove(res::kPods, "a", "p", longer))["metadata"]["deletionGracePeriodSeconds"], 20) << "grace only shrinks";
  kube::DeleteOptions shorter;
  shorter.gracePeriodSeconds = 5;
  EXPECT_EQ((*store_->remove(res::kPods, "a", "p", shorter))["metadata"]["deletionGracePeriodSeconds"], 5);
  ASSERT_TRUE(store_->get(res::kPods, "a", "p").ok()) << "the pod stays until its node confirms";
  kube::DeleteOptions now;
  now.gracePeriodSeconds = 0;
  ASSERT_TRUE(store_->remove(res::kPods, "a", "p", now).ok());
  EXPECT_EQ(store_->get(res::kPods, "a", "p").error().reason, ApiErrorReason::kNotFound);

  mustCreate(res::kPods, "a", {{"metadata", {{"name", "done"}}}, {"spec", {{"nodeName", "n1"}}}});
  auto finished = *store_->get(res::kPods, "a", "done");
  finished["status"] = {{"phase", "Succeeded"}};
  ASSERT_TRUE(store_->update(res::kPods, "a", "done", finished, {}, "status").ok());
  ASSERT_TRUE(store_->remove(res::kPods, "a", "done").ok());
  EXPECT_EQ(store_->get(res::kPods, "a", "done").error().reason, ApiErrorReason::kNotFound) << "a finished pod goes at once";
}

TEST_F(StoreTest, SecretStringDataIsMergedIntoData) {
  mustCreate(res::kNamespaces, "", ns("a"));
  mustCreate(res::kSecrets, "a", {{"metadata", {{"name", "s"}}}, {"data", {{"kept", "YQ=="}, {"over", "YQ=="}}},
                                  {"stringData", {{"over", "written"}, {"new", "x"}}}});
  auto s = *store_->get(res::kSecrets, "a", "s");
  EXPECT_FALSE(s.contains("stringData"));
  EXPECT_EQ(s["data"], (Json{{"kept", "YQ=="}, {"over", "d3JpdHRlbg=="}, {"new", "eA=="}}));
}

}  // namespace
}  // namespace sdb::apimachinery
