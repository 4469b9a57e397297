// HttpKubeClient against the real local cluster over HTTPS with its bearer token: every verb, patch
// types, subresources, typed errors with the server's causes, TLS trust and auth failures, watches
// (incremental, stop from another thread, idle timeout) and request deadlines.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "e2e/fixture/local_cluster.h"
#include "operator/schema/yaml_json.h"

using namespace sdb;
using namespace sdb::e2e;
using namespace std::chrono_literals;
namespace res = sdb::kube::resources;
using kube::ApiErrorReason;

namespace {

class HttpClientE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new LocalCluster();
    auto s = cluster_->start();
    ASSERT_TRUE(s.ok()) << s.error().message;
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(cluster_);
    client_ = cluster_->client();
    ASSERT_TRUE(client_);
  }
  static Json ns(const std::string& name) { return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}}; }
  static Json cm(const std::string& name, const Json& data = Json::object()) {
    return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", data}};
  }
  static inline LocalCluster* cluster_ = nullptr;
  std::unique_ptr<kube::HttpKubeClient> client_;
};

Json readYaml(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  auto j = schema::yamlToJson(ss.str());
  return j.ok() ? *j : Json();
}

TEST_F(HttpClientE2E, CrudPatchesSubresourcesAndTypedErrors) {
  kube::KubeClient& c = *client_;
  ASSERT_TRUE(c.create(res::kNamespaces, "", ns("crud")).ok());
  auto created = c.create(res::kConfigMaps, "crud", cm("a", {{"k", "v1"}}));
  ASSERT_TRUE(created.ok()) << created.error().toString();
  EXPECT_FALSE(jsonString(*created, {"metadata", "uid"}).empty());

  auto dup = c.create(res::kConfigMaps, "crud", cm("a"));
  ASSERT_FALSE(dup.ok());
  EXPECT_TRUE(dup.error().is(ApiErrorReason::kAlreadyExists)) << dup.error().toString();
  EXPECT_EQ(dup.error().message, "configmaps \"a\" already exists");

  auto missing = c.get(res::kConfigMaps, "crud", "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().is(ApiErrorReason::kNotFound));
  EXPECT_EQ(missing.error().httpCode, 404);

  // update with a stale resourceVersion is a Conflict, a fresh one succeeds.
  Json stale = *created;
  Json fresh = *created;
  fresh["data"]["k"] = "v2";
  ASSERT_TRUE(c.update(res::kConfigMaps, "crud", fresh).ok());
  stale["data"]["k"] = "v3";
  auto conflict = c.update(res::kConfigMaps, "crud", stale);
  ASSERT_FALSE(conflict.ok());
  EXPECT_TRUE(conflict.error().is(ApiErrorReason::kConflict)) << conflict.error().toString();

  // Patches: merge, JSON, strategic (a built-in kind).
  ASSERT_TRUE(c.patch(res::kConfigMaps, "crud", "a", kube::PatchType::kMerge, R"({"data":{"m":"1"}})").ok());
  ASSERT_TRUE(c.patch(res::kConfigMaps, "crud", "a", kube::PatchType::kJson, R"([{"op":"add","path":"/data/j","value":"2"}])").ok());
  auto smp = c.patch(res::kConfigMaps, "crud", "a", kube::PatchType::kStrategicMerge, R"({"data":{"s":"3"}})");
  ASSERT_TRUE(smp.ok()) << smp.error().toString();
  EXPECT_EQ((*smp)["data"], Json({{"k", "v2"}, {"m", "1"}, {"j", "2"}, {"s", "3"}}));
  auto badJsonPatch = c.patch(res::kConfigMaps, "crud", "a", kube::PatchType::kJson, R"([{"op":"test","path":"/data/k","value":"x"}])");
  ASSERT_FALSE(badJsonPatch.ok());

  // Server-side apply (application/apply-patch+yaml): creates, records the manager, refuses to take a
  // field another manager owns without force (409 Conflict naming it), and takes it with force.
  kube::PatchOptions mine;
  mine.fieldManager = "e2e-apply";
  auto applied = c.patch(res::kConfigMaps, "crud", "applied", kube::PatchType::kApply,
                         R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"applied"},"data":{"x":"1"}})", mine);
  ASSERT_TRUE(applied.ok()) << applied.error().toString();
  EXPECT_EQ((*applied)["data"]["x"], "1");
  bool managed = false;
  for (const auto& m : (*applied)["metadata"]["managedFields"]) managed = managed || (m["manager"] == "e2e-apply" && m["operation"] == "Apply");
  EXPECT_TRUE(managed) << (*applied)["metadata"].dump();
  kube::PatchOptions theirs;
  theirs.fieldManager = "e2e-other";
  const std::string other = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"applied"},"data":{"x":"2"}})";
  auto clash = c.patch(res::kConfigMaps, "crud", "applied", kube::PatchType::kApply, other, theirs);
  ASSERT_FALSE(clash.ok());
  EXPECT_TRUE(clash.error().is(ApiErrorReason::kConflict)) << clash.error().toString();
  EXPECT_NE(clash.error().message.find("e2e-apply"), std::string::npos) << "the conflict names the owner: " << clash.error().message;
  theirs.force = true;
  auto forced = c.patch(res::kConfigMaps, "crud", "applied", kube::PatchType::kApply, other, theirs);
  ASSERT_TRUE(forced.ok()) << forced.error().toString();
  EXPECT_EQ((*forced)["data"]["x"], "2");
  kube::PatchOptions dryApply = mine;
  dryApply.dryRun = true;
  dryApply.force = true;
  ASSERT_TRUE(c.patch(res::kConfigMaps, "crud", "applied", kube::PatchType::kApply,
                      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"applied"},"data":{"x":"3"}})", dryApply).ok());
  EXPECT_EQ((*c.get(res::kConfigMaps, "crud", "applied"))["data"]["x"], "2") << "dryRun=All wrote nothing";

  // Lists: label selectors, limit and continue.
  for (int i = 0; i < 5; ++i) {
    Json o = cm("l" + std::to_string(i));
    o["metadata"]["labels"] = {{"tier", i % 2 ? "odd" : "even"}};
    ASSERT_TRUE(c.create(res::kConfigMaps, "crud", o).ok());
  }
  kube::ListOptions lo;
  lo.labelSelector = "tier in (odd)";
  auto odd = c.list(res::kConfigMaps, "crud", lo);
  ASSERT_TRUE(odd.ok()) << odd.error().toString();
  EXPECT_EQ((*odd)["items"].size(), 2u);
  lo.labelSelector = "tier";
  lo.limit = 2;
  std::vector<std::string> names;
  do {
    auto page = c.list(res::kConfigMaps, "crud", lo);
    ASSERT_TRUE(page.ok()) << page.error().toString();
    for (const auto& item : (*page)["items"]) names.push_back(item["metadata"]["name"]);
    lo.continueToken = jsonString(*page, {"metadata", "continue"});
  } while (!lo.continueToken.empty());
  EXPECT_EQ(names.size(), 5u);
  lo = {};
  lo.fieldSelector = "metadata.name=l3";
  EXPECT_EQ((*c.list(res::kConfigMaps, "crud", lo))["items"].size(), 1u);
  lo.fieldSelector = "data.k=v";
  auto badField = c.list(res::kConfigMaps, "crud", lo);
  ASSERT_FALSE(badField.ok());
  EXPECT_TRUE(badField.error().is(ApiErrorReason::kBadRequest));

  // Delete: a wrong uid precondition is a Conflict; dryRun leaves the object; a real delete removes it.
  kube::DeleteOptions wrongUid;
  wrongUid.preconditionUid = "not-the-uid";
  auto refused = c.remove(res::kConfigMaps, "crud", "a", wrongUid);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.error().is(ApiErrorReason::kConflict)) << refused.error().toString();
  kube::DeleteOptions dry;
  dry.dryRun = true;
  ASSERT_TRUE(c.remove(res::kConfigMaps, "crud", "a", dry).ok());
  ASSERT_TRUE(c.get(res::kConfigMaps, "crud", "a").ok());
  kube::DeleteOptions real;
  real.preconditionUid = jsonString(*created, {"metadata", "uid"});
  real.propagationPolicy = "Background";
  ASSERT_TRUE(c.remove(res::kConfigMaps, "crud", "a", real).ok());
  EXPECT_TRUE(c.get(res::kConfigMaps, "crud", "a").error().is(ApiErrorReason::kNotFound));
}

TEST_F(HttpClientE2E, CustomResourcesStatusSubresourceAndInvalidCauses) {
  kube::KubeClient& c = *client_;
  Json crd = readYaml(sourceDir() + "/crds/servicedb.io_servicedatabases.yaml");
  ASSERT_TRUE(crd.is_object());
  auto made = c.create(res::kCustomResourceDefinitions, "", crd);
  ASSERT_TRUE(made.ok() || made.error().is(ApiErrorReason::kAlreadyExists)) << made.error().toString();
  ASSERT_TRUE(c.create(res::kNamespaces, "", ns("cr")).ok());
  Json sdb = readYaml(sourceDir() + "/crds/examples/servicedatabase-postgres-dedicated.yaml");
  ASSERT_TRUE(sdb.is_object());
  sdb["metadata"]["namespace"] = "cr";
  Json bad = sdb;
  bad["spec"]["engine"] = "oracle";
  auto invalid = c.create(res::kServiceDatabases, "cr", bad);
  ASSERT_FALSE(invalid.ok());
  EXPECT_TRUE(invalid.error().is(ApiErrorReason::kInvalid)) << invalid.error().toString();
  ASSERT_FALSE(invalid.error().causes.empty());
  EXPECT_EQ(invalid.error().causes[0].field, "spec.engine");
  EXPECT_EQ(invalid.error().kind, "ServiceDatabase");

  auto created = c.create(res::kServiceDatabases, "cr", sdb);
  ASSERT_TRUE(created.ok()) << created.error().toString();
  Json withStatus = *created;
  withStatus["status"] = {{"observedGeneration", 1}, {"conditions", Json::array({{{"type", "Ready"}, {"status", "False"},
                                                                                   {"reason", "Testing"}, {"message", "e2e"},
                                                                                   {"lastTransitionTime", "2026-01-01T00:00:00Z"}}})}};
  auto st = c.updateStatus(res::kServiceDatabases, "cr", withStatus);
  ASSERT_TRUE(st.ok()) << st.error().toString();
  auto viaStatus = c.get(res::kServiceDatabases, "cr", jsonString(sdb, {"metadata", "name"}), "status");
  ASSERT_TRUE(viaStatus.ok());
  EXPECT_EQ((*viaStatus)["status"]["conditions"][0]["reason"], "Testing");
  auto statusPatch = c.patch(res::kServiceDatabases, "cr", jsonString(sdb, {"metadata", "name"}), kube::PatchType::kMerge,
                             R"({"status":{"observedGeneration":7}})", {}, "status");
  ASSERT_TRUE(statusPatch.ok()) << statusPatch.error().toString();
  EXPECT_EQ((*statusPatch)["status"]["observedGeneration"], 7);
  auto smp = c.patch(res::kServiceDatabases, "cr", jsonString(sdb, {"metadata", "name"}), kube::PatchType::kStrategicMerge, "{}");
  ASSERT_FALSE(smp.ok());
  EXPECT_TRUE(smp.error().is(ApiErrorReason::kUnsupportedMediaType)) << "custom resources take no strategic merge patch";
}

TEST_F(HttpClientE2E, AuthAndTlsFailuresAreTyped) {
  auto config = kube::loadKubeconfig(cluster_->kubeconfigPath());
  ASSERT_TRUE(config.ok()) << config.error().message;
  kube::RestConfig wrongToken = *config;
  wrongToken.token = std::make_shared<kube::BearerToken>("not-the-token");
  auto c1 = kube::HttpKubeClient::fromConfig(wrongToken);
  ASSERT_TRUE(c1.ok());
  auto denied = (*c1)->get(res::kNamespaces, "", "default");
  ASSERT_FALSE(denied.ok());
  EXPECT_TRUE(denied.error().is(ApiErrorReason::kUnauthorized)) << denied.error().toString();

  // A CA that did not sign the server's certificate: the handshake fails (no silent trust of the
  // system store or of anything else).
  TempDir tmp;
  ASSERT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=other "
                         "-keyout " + tmp.path() + "/k.pem -out " + tmp.path() + "/ca.pem 2>/dev/null").c_str()), 0);
  kube::RestConfig wrongCa = *config;
  wrongCa.caPem = readFile(tmp.path() + "/ca.pem");
  kube::HttpClientOptions fast;
  fast.retry.maxAttempts = 1;
  auto c2 = kube::HttpKubeClient::fromConfig(wrongCa, fast);
  ASSERT_TRUE(c2.ok()) << c2.error().message;
  auto untrusted = (*c2)->get(res::kNamespaces, "", "default");
  ASSERT_FALSE(untrusted.ok());
  EXPECT_TRUE(untrusted.error().is(ApiErrorReason::kNetwork)) << untrusted.error().toString();

  // insecure-skip-tls-verify connects without a CA.
  kube::RestConfig insecure = *config;
  insecure.caPem.clear();
  insecure.insecureSkipTlsVerify = true;
  auto c3 = kube::HttpKubeClient::fromConfig(insecure);
  ASSERT_TRUE(c3.ok());
  EXPECT_TRUE((*c3)->get(res::kNamespaces, "", "default").ok());

  // The host name is verified: the certificate names 127.0.0.1 and localhost, not 127.0.0.2.
  kube::RestConfig otherName = *config;
  otherName.server = "https://127.0.0.2:" + std::to_string(cluster_->port());
  auto c4 = kube::HttpKubeClient::fromConfig(otherName, fast);
  ASSERT_TRUE(c4.ok());
  auto mismatch = (*c4)->get(res::kNamespaces, "", "default");
  ASSERT_FALSE(mismatch.ok()) << "a certificate for 127.0.0.1 must not be accepted for 127.0.0.2";
  kube::RestConfig byName = *config;
  byName.server = "https://localhost:" + std::to_string(cluster_->port());
  auto c5 = kube::HttpKubeClient::fromConfig(byName);
  ASSERT_TRUE(c5.ok());
  EXPECT_TRUE((*c5)->get(res::kNamespaces, "", "default").ok()) << "localhost is in the certificate";

  kube::RestConfig badKey = *config;
  badKey.clientCertificatePem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  badKey.clientKeyPem = "x";
  auto c6 = kube::HttpKubeClient::fromConfig(badKey);
  ASSERT_FALSE(c6.ok());
  EXPECT_NE(c6.error().message.find("client-certificate"), std::string::npos) << c6.error().message;
}

TEST_F(HttpClientE2E, WatchDeliversEventsIncrementallyAndStopsPromptly) {
  kube::KubeClient& c = *client_;
  ASSERT_TRUE(c.create(res::kNamespaces, "", ns("w")).ok());
  auto listed = c.list(res::kConfigMaps, "w");
  ASSERT_TRUE(listed.ok());
  kube::WatchOptions wo;
  wo.resourceVersion = jsonString(*listed, {"metadata", "resourceVersion"});
  wo.timeoutSeconds = 60;
  auto w = c.watch(res::kConfigMaps, "w", wo);
  ASSERT_TRUE(w.ok()) << w.error().toString();
  // Each event must arrive while the next write has not happened yet: incremental, not buffered.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.create(res::kConfigMaps, "w", cm("e" + std::to_string(i))).ok());
    auto e = (*w)->next();
    ASSERT_TRUE(e.ok()) << e.error().toString();
    ASSERT_TRUE(e->has_value());
    EXPECT_EQ((*e)->type, kube::WatchEvent::Type::kAdded);
    EXPECT_EQ(jsonString((*e)->object, {"metadata", "name"}), "e" + std::to_string(i));
  }
  ASSERT_TRUE(c.patch(res::kConfigMaps, "w", "e0", kube::PatchType::kMerge, R"({"data":{"x":"1"}})").ok());
  ASSERT_TRUE(c.remove(res::kConfigMaps, "w", "e1").ok());
  auto m = (*w)->next();
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->type, kube::WatchEvent::Type::kModified);
  auto d = (*w)->next();
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_EQ((*d)->type, kube::WatchEvent::Type::kDeleted);

  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    (*w)->stop();
  });
  auto start = std::chrono::steady_clock::now();
  auto end = (*w)->next();
  stopper.join();
  ASSERT_TRUE(end.ok()) << end.error().toString();
  EXPECT_FALSE(end->has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "stop() from another thread ends a blocked next()";
}

TEST_F(HttpClientE2E, WatchEndsAtTimeoutSecondsAndDiesOnIdle) {
  kube::KubeClient& c = *client_;
  kube::WatchOptions wo;
  wo.timeoutSeconds = 1;
  wo.allowWatchBookmarks = false;
  auto start = std::chrono::steady_clock::now();
  auto w = c.watch(res::kLeases, "kube-public", wo);
  ASSERT_TRUE(w.ok());
  auto end = (*w)->next();
  ASSERT_TRUE(end.ok()) << end.error().toString();
  EXPECT_FALSE(end->has_value()) << "the server ends the watch at timeoutSeconds: a clean end";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);

  kube::HttpClientOptions o;
  o.defaultWatchIdle = 1s;
  auto quick = cluster_->client(o);
  kube::WatchOptions forever;
  forever.allowWatchBookmarks = false;
  auto silent = quick->watch(res::kLeases, "kube-public", forever);
  ASSERT_TRUE(silent.ok());
  start = std::chrono::steady_clock::now();
  auto idle = (*silent)->next();
  ASSERT_FALSE(idle.ok()) << "no byte for longer than the idle timeout: the stream is declared dead";
  EXPECT_TRUE(idle.error().is(ApiErrorReason::kTimeout)) << idle.error().toString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

TEST_F(HttpClientE2E, WatchBookmarksCarryTheLatestResourceVersion) {
  kube::KubeClient& c = *client_;
  ASSERT_TRUE(c.create(res::kNamespaces, "", ns("bm")).ok());
  auto listed = c.list(res::kConfigMaps, "bm");
  ASSERT_TRUE(listed.ok());
  kube::WatchOptions wo;
  wo.resourceVersion = jsonString(*listed, {"metadata", "resourceVersion"});
  wo.timeoutSeconds = 30;
  auto w = c.watch(res::kConfigMaps, "bm", wo);
  ASSERT_TRUE(w.ok());
  // Writes elsewhere move the global resourceVersion; a bookmark (every 5 s here) reports it, so a
  // quiet watch can resume from a recent version instead of an expired one.
  auto elsewhere = c.create(res::kConfigMaps, "default", cm("elsewhere"));
  ASSERT_TRUE(elsewhere.ok());
  auto e = (*w)->next();
  ASSERT_TRUE(e.ok()) << e.error().toString();
  ASSERT_TRUE(e->has_value());
  EXPECT_EQ((*e)->type, kube::WatchEvent::Type::kBookmark);
  EXPECT_GE(std::stoll(jsonString((*e)->object, {"metadata", "resourceVersion"})),
            std::stoll(jsonString(*elsewhere, {"metadata", "resourceVersion"})));
  (*w)->stop();
}

TEST_F(HttpClientE2E, RawRequestsAndVersion) {
  auto v = client_->raw("GET", "/version");
  ASSERT_TRUE(v.ok()) << v.error().toString();
  EXPECT_EQ((*v)["major"], "1");
}

}  // namespace
