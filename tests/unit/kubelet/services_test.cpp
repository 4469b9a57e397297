// Service resolution (endpoints from selectors or Endpoints objects), the nftables table and the
// per-pod hosts file.
#include <gtest/gtest.h>

#include "e2e/kubelet/services.h"

namespace sdb::kubelet {
namespace {

Json pod(const std::string& ns, const std::string& name, const std::string& ip, bool ready, Json labels = {{"app", "db"}}) {
  Json p = {{"metadata", {{"namespace", ns}, {"name", name}, {"labels", labels}}},
            {"spec", {{"containers", {{{"name", "c"}, {"ports", {{{"name", "pg"}, {"containerPort", 5432}}}}}}}}},
            {"status", {{"phase", "Running"}, {"podIP", ip},
                        {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
  return p;
}

Json service(const std::string& ns, const std::string& name, const std::string& ip, Json targetPort, Json selector = {{"app", "db"}}) {
  Json s = {{"metadata", {{"namespace", ns}, {"name", name}}},
            {"spec", {{"clusterIP", ip}, {"ports", {{{"name", "postgres"}, {"port", 5432}, {"targetPort", targetPort}}}}}}};
  if (!selector.is_null()) s["spec"]["selector"] = selector;
  return s;
}

TEST(ResolveServices, ReadyPodsSelectedByLabelsWithNamedTargetPorts) {
  Json terminating = pod("a", "t", "198.18.1.9", true);
  terminating["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  const std::vector<Json> pods = {pod("a", "p1", "198.18.1.2", true), pod("a", "p2", "198.18.1.3", false),
                                  pod("b", "other-ns", "198.18.1.4", true), pod("a", "unlabelled", "198.18.1.5", true, {{"app", "web"}}),
                                  terminating};
  auto views = resolveServices({service("a", "db", "198.19.1.7", "pg")}, {}, pods);
  ASSERT_EQ(views.size(), 1u);
  ASSERT_EQ(views[0].ports.size(), 1u);
  ASSERT_EQ(views[0].ports[0].endpoints.size(), 1u);
  EXPECT_EQ(views[0].ports[0].endpoints[0].ip, "198.18.1.2");
  EXPECT_EQ(views[0].ports[0].endpoints[0].port, 5432);

  Json publish = service("a", "db-peers", "None", 5432);
  publish["spec"]["publishNotReadyAddresses"] = true;
  views = resolveServices({publish}, {}, pods);
  EXPECT_EQ(views[0].ports[0].endpoints.size(), 2u) << "notReady pods too";
  EXPECT_TRUE(views[0].headless());

  views = resolveServices({service("a", "db", "198.19.1.7", "nope")}, {}, pods);
  EXPECT_TRUE(views[0].ports[0].endpoints.empty()) << "a pod without the named port is no endpoint";
}

TEST(ResolveServices, ServicesWithoutSelectorUseTheirEndpointsObject) {
  Json ep = {{"metadata", {{"namespace", "default"}, {"name", "kubernetes"}}},
             {"subsets", {{{"addresses", {{{"ip", "198.18.1.1"}}}}, {"ports", {{{"name", "postgres"}, {"port", 6443}}}}}}}};
  auto views = resolveServices({service("default", "kubernetes", "198.19.1.1", 443, nullptr)}, {ep}, {});
  ASSERT_EQ(views[0].ports[0].endpoints.size(), 1u);
  EXPECT_EQ(views[0].ports[0].endpoints[0].ip, "198.18.1.1");
  EXPECT_EQ(views[0].ports[0].endpoints[0].port, 6443);
}

TEST(RenderServiceTable, DnatPerPortAndRejectForTheRest) {
  ServiceView one{"a", "one", "198.19.1.5", false, {{"", 80, "TCP", {{"198.18.1.2", 8080}}}}, {}};
  ServiceView two{"a", "two", "198.19.1.6", true, {{"", 6379, "TCP", {{"198.18.1.2", 6379}, {"198.18.1.3", 6379}}}}, {}};
  ServiceView none{"a", "none", "198.19.1.8", false, {{"", 5432, "TCP", {}}}, {}};
  ServiceView headless{"a", "h", "None", false, {{"", 5432, "TCP", {{"198.18.1.2", 5432}}}}, {}};
  const std::string t = renderServiceTable("sdb1", "198.19.1.0/24", {one, two, none, headless});
  EXPECT_NE(t.find("ip daddr 198.19.1.5 tcp dport 80 dnat to 198.18.1.2:8080"), std::string::npos) << t;
  EXPECT_NE(t.find("ip daddr 198.19.1.6 tcp dport 6379 dnat to jhash ip saddr mod 2 map { 0 : 198.18.1.2 . 6379, 1 : 198.18.1.3 . 6379 }"),
            std::string::npos) << t;
  EXPECT_EQ(t.find("198.19.1.8"), std::string::npos) << "no endpoints: no DNAT, the reject rule answers";
  EXPECT_NE(t.find("ip daddr 198.19.1.0/24 meta l4proto tcp reject with tcp reset"), std::string::npos);
  EXPECT_EQ(t.rfind("table ip sdb1 {", 0), 0u);
}

TEST(RenderHosts, NamesServicesHeadlessAddressesAndStatefulPods) {
  Json sts0 = pod("a", "pg-0", "198.18.1.2", true);
  sts0["spec"]["hostname"] = "pg-0";
  sts0["spec"]["subdomain"] = "pg";
  auto views = resolveServices({service("a", "db", "198.19.1.7", 5432), service("b", "cache", "198.19.1.9", 6379, {{"app", "x"}}),
                                service("a", "pg", "None", 5432)},
                               {}, {sts0});
  const std::string hosts = renderHosts({"a", "198.18.1.3", "client", ""}, views);
  EXPECT_NE(hosts.find("198.18.1.3\tclient\n"), std::string::npos) << hosts;
  EXPECT_NE(hosts.find("198.19.1.7\tdb.a.svc.cluster.local db.a.svc db.a db\n"), std::string::npos) << hosts;
  EXPECT_NE(hosts.find("198.19.1.9\tcache.b.svc.cluster.local cache.b.svc cache.b\n"), std::string::npos)
      << "no short name across namespaces: " << hosts;
  EXPECT_NE(hosts.find("198.18.1.2\tpg.a.svc.cluster.local pg.a.svc pg.a pg\n"), std::string::npos) << hosts;
  EXPECT_NE(hosts.find("198.18.1.2\tpg-0.pg.a.svc.cluster.local pg-0.pg.a.svc pg-0.pg.a pg-0.pg\n"), std::string::npos) << hosts;
  const std::string own = renderHosts({"a", "198.18.1.2", "pg-0", "pg"}, {});
  EXPECT_NE(own.find("198.18.1.2\tpg-0.pg.a.svc.cluster.local\tpg-0\n"), std::string::npos) << own;
}

}  // namespace
}  // namespace sdb::kubelet
