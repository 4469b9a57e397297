// Endpoints follow Service selectors and pod readiness; named target ports resolve per pod.
#include "e2e/workloads/endpoints.h"
#include "tests/unit/workloads/fixture.h"

namespace sdb::workloads::testing {
namespace {

class EndpointsTest : public WorkloadsTest {
 protected:
  Json pod(const std::string& name, const std::string& app, int redisPort = 6379) {
    Json c = container();
    c["ports"][0]["containerPort"] = redisPort;
    return {{"metadata", {{"name", name}, {"labels", {{"app", app}}}}}, {"spec", {{"containers", {c}}}}};
  }
  Json service(const std::string& name, const Json& selector, bool headless = false) {
    Json s = {{"metadata", {{"name", name}, {"labels", {{"team", "a"}}}}},
              {"spec", {{"selector", selector},
                        {"ports", {{{"name", "redis"}, {"port", 6379}, {"targetPort", "redis"}},
                                   {{"name", "metrics"}, {"port", 9121}, {"targetPort", 9121}}}}}}};
    if (headless) s["spec"]["clusterIP"] = "None";
    return s;
  }
  Json endpoints(const std::string& name) { return get(res::kEndpoints, name).value_or(Json::object()); }
  static std::vector<std::string> ips(const Json& ep, const char* key) {
    std::vector<std::string> out;
    for (const auto& s : ep.value("subsets", Json::array())) {
      for (const auto& a : s.value(key, Json::array())) out.push_back(a["ip"]);
    }
    return out;
  }
};

TEST_F(EndpointsTest, ReadyPodsAreAddressesTheOthersNotReady) {
  create(res::kServices, service("cache", {{"app", "cache"}}));
  ASSERT_TRUE(eventually([&] { return exists(res::kEndpoints, "cache"); }));
  EXPECT_EQ(endpoints("cache")["metadata"]["labels"], (Json{{"team", "a"}}));
  EXPECT_FALSE(endpoints("cache").contains("subsets"));
  create(res::kPods, pod("a", "cache"));
  create(res::kPods, pod("b", "cache"));
  create(res::kPods, pod("other", "web"));
  markRunning("a", true, "198.18.0.11");
  markRunning("b", false, "198.18.0.12");
  markRunning("other", true, "198.18.0.13");
  ASSERT_TRUE(eventually([&] { return ips(endpoints("cache"), "notReadyAddresses").size() == 1; }));
  Json ep = endpoints("cache");
  EXPECT_EQ(ips(ep, "addresses"), (std::vector<std::string>{"198.18.0.11"}));
  EXPECT_EQ(ips(ep, "notReadyAddresses"), (std::vector<std::string>{"198.18.0.12"}));
  const Json& subset = ep["subsets"][0];
  EXPECT_EQ(subset["ports"], (Json{{{"name", "redis"}, {"port", 6379}, {"protocol", "TCP"}},
                                   {{"name", "metrics"}, {"port", 9121}, {"protocol", "TCP"}}}));
  const Json& addr = subset["addresses"][0];
  EXPECT_EQ(addr["targetRef"]["name"], "a");
  EXPECT_EQ(addr["targetRef"]["kind"], "Pod");
  EXPECT_FALSE(addr.contains("hostname"));
  // Readiness moves an address; deletion removes it; a pod that loses the label leaves.
  markRunning("b", true);
  ASSERT_TRUE(eventually([&] { return ips(endpoints("cache"), "addresses").size() == 2; }));
  remove(res::kPods, "a");
  ASSERT_TRUE(eventually([&] { return ips(endpoints("cache"), "addresses") == std::vector<std::string>{"198.18.0.12"}; }));
  patch(res::kPods, "b", {{"metadata", {{"labels", {{"app", "gone"}}}}}});
  ASSERT_TRUE(eventually([&] { return !endpoints("cache").contains("subsets"); }));
  // A pod without an IP is not listed at all.
  create(res::kPods, pod("c", "cache"));
  settle();
  EXPECT_FALSE(endpoints("cache").contains("subsets"));
  // Deleting the Service deletes its Endpoints.
  remove(res::kServices, "cache");
  ASSERT_TRUE(eventually([&] { return !exists(res::kEndpoints, "cache"); }));
}

TEST_F(EndpointsTest, NamedPortsResolvePerPodAndHeadlessServicesGetHostnames) {
  create(res::kServices, service("db", {{"app", "db"}}, /*headless=*/true));
  Json p1 = pod("db-0", "db", 6379), p2 = pod("db-1", "db", 6380);
  p1["spec"]["hostname"] = "db-0";
  p1["spec"]["subdomain"] = "db";
  create(res::kPods, p1);
  create(res::kPods, p2);
  markRunning("db-0", true, "198.18.1.1");
  markRunning("db-1", true, "198.18.1.2");
  ASSERT_TRUE(eventually([&] { return endpoints("db").value("subsets", Json::array()).size() == 2; }));
  Json ep = endpoints("db");
  EXPECT_EQ(ep["metadata"]["labels"]["service.kubernetes.io/headless"], "");
  std::map<std::string, int64_t> portByIp;
  for (const auto& s : ep["subsets"]) {
    for (const auto& a : s["addresses"]) {
      for (const auto& p : s["ports"]) {
        if (p["name"] == "redis") portByIp[a["ip"]] = p["port"];
      }
      if (a["ip"] == "198.18.1.1") {
        EXPECT_EQ(a["hostname"], "db-0");
      } else {
        EXPECT_FALSE(a.contains("hostname"));
      }
    }
  }
  EXPECT_EQ(portByIp, (std::map<std::string, int64_t>{{"198.18.1.1", 6379}, {"198.18.1.2", 6380}}));
}

TEST_F(EndpointsTest, PublishNotReadyAndFinishedPods) {
  Json svc = service("all", {{"app", "x"}});
  svc["spec"]["publishNotReadyAddresses"] = true;
  create(res::kServices, svc);
  Json never = pod("job-pod", "x");
  never["spec"]["restartPolicy"] = "Never";
  create(res::kPods, pod("slow", "x"));
  create(res::kPods, never);
  markRunning("slow", false, "198.18.2.1");
  markRunning("job-pod", true, "198.18.2.2");
  ASSERT_TRUE(eventually([&] { return ips(endpoints("all"), "addresses").size() == 2; }));
  markFinished("job-pod", true);
  ASSERT_TRUE(eventually([&] { return ips(endpoints("all"), "addresses") == std::vector<std::string>{"198.18.2.1"}; }));
}

TEST_F(EndpointsTest, SelectorlessServicesAreLeftToTheirOwnersAndEditsAreRepaired) {
  Json manual = {{"metadata", {{"name", "external"}}}, {"spec", {{"ports", {{{"port", 5432}}}}}}};
  create(res::kServices, manual);
  create(res::kEndpoints, {{"metadata", {{"name", "external"}}},
                           {"subsets", {{{"addresses", {{{"ip", "192.0.2.10"}}}}, {"ports", {{{"port", 5432}}}}}}}});
  settle();
  EXPECT_EQ(ips(endpoints("external"), "addresses"), (std::vector<std::string>{"192.0.2.10"}));
  create(res::kServices, service("cache", {{"app", "cache"}}));
  create(res::kPods, pod("a", "cache"));
  markRunning("a", true, "198.18.3.1");
  ASSERT_TRUE(eventually([&] { return ips(endpoints("cache"), "addresses").size() == 1; }));
  patch(res::kEndpoints, "cache", {{"subsets", nullptr}});
  ASSERT_TRUE(eventually([&] { return ips(endpoints("cache"), "addresses").size() == 1; }));
}

}  // namespace
}  // namespace sdb::workloads::testing
