// Pod Security admission: every check we model, with the library's reasons and details, and the
// enforce/warn behaviour for pods and workloads.
#include "e2e/apimachinery/pod_security.h"

#include <gtest/gtest.h>

#include "e2e/apimachinery/store.h"

namespace sdb::apimachinery {
namespace {

// A container that passes the restricted profile.
Json good(const std::string& name) {
  return {{"name", name},
          {"image", "x"},
          {"securityContext",
           {{"allowPrivilegeEscalation", false}, {"capabilities", {{"drop", {"ALL"}}}}}}};
}

// A restricted pod spec: pod-level runAsNonRoot and seccomp, compliant containers.
Json restrictedSpec() {
  return {{"securityContext", {{"runAsNonRoot", true}, {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
          {"containers", {good("c")}}};
}

std::string restricted(const Json& spec) { return formatViolations(evaluatePodSecurity(PodSecurityLevel::kRestricted, spec)); }
std::string baseline(const Json& spec) { return formatViolations(evaluatePodSecurity(PodSecurityLevel::kBaseline, spec)); }

Json with(Json spec, const Json::json_pointer& p, Json v) {
  spec[p] = std::move(v);
  return spec;
}

TEST(PodSecurity, RestrictedChecks) {
  using P = Json::json_pointer;
  const Json ok = restrictedSpec();
  EXPECT_EQ(restricted(ok), "");
  struct Case {
    Json spec;
    std::string want;
  } cases[] = {
      {with(ok, P("/hostNetwork"), true), "host namespaces (hostNetwork)"},
      {with(with(ok, P("/hostPID"), true), P("/hostIPC"), true), "host namespaces (hostIPC, hostPID)"},
      {with(ok, P("/containers/0/ports"), {{{"containerPort", 80}, {"hostPort", 8080}}, {{"containerPort", 9}, {"hostPort", 10}}}),
       "hostPort (container \"c\" uses hostPorts 10, 8080)"},
      {with(ok, P("/containers/0/securityContext/privileged"), true),
       "privileged (container \"c\" must not set securityContext.privileged=true)"},
      {with(ok, P("/containers/0/securityContext/allowPrivilegeEscalation"), true),
       "allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false)"},
      {with(ok, P("/containers/0/securityContext/capabilities"), {{"add", {"SYS_ADMIN", "NET_BIND_SERVICE", "NET_RAW"}}}),
       "unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]; container \"c\" "
       "must not include \"NET_RAW\", \"SYS_ADMIN\" in securityContext.capabilities.add)"},
      {with(ok, P("/containers/0/securityContext/capabilities/add"), {"NET_BIND_SERVICE"}), ""},
      {with(ok, P("/volumes"), {{{"name", "data"}, {"persistentVolumeClaim", {{"claimName", "x"}}}},
                                {{"name", "host"}, {"hostPath", {{"path", "/"}}}},
                                {{"name", "nfs"}, {"nfs", {{"server", "s"}}}}}),
       "restricted volume types (volumes \"host\", \"nfs\" use restricted volume types \"hostPath\", \"nfs\")"},
      {with(ok, P("/securityContext/runAsNonRoot"), false),
       "runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)"},
      {with(ok, P("/securityContext"), {{"seccompProfile", {{"type", "RuntimeDefault"}}}}),
       "runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true)"},
      {with(with(ok, P("/securityContext"), {{"seccompProfile", {{"type", "RuntimeDefault"}}}}),
            P("/containers/0/securityContext/runAsNonRoot"), true),
       ""},
      {with(ok, P("/containers/0/securityContext/runAsNonRoot"), false),
       "runAsNonRoot != true (container \"c\" must not set securityContext.runAsNonRoot=false)"},
      {with(ok, P("/securityContext/runAsUser"), 0), "runAsUser=0 (pod must not set runAsUser=0)"},
      {with(with(ok, P("/securityContext/runAsNonRoot"), false), P("/hostUsers"), false), ""},
      {with(ok, P("/securityContext/seccompProfile/type"), "Unconfined"),
       "seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")"},
      {with(ok, P("/securityContext"), {{"runAsNonRoot", true}}),
       "seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or "
       "\"Localhost\")"},
      {with(ok, P("/initContainers"), {good("init")}), ""},
      {with(ok, P("/initContainers"), {{{"name", "init"}, {"image", "x"}}}),
       "allowPrivilegeEscalation != false (container \"init\" must set securityContext.allowPrivilegeEscalation=false), "
       "unrestricted capabilities (container \"init\" must set securityContext.capabilities.drop=[\"ALL\"])"},
  };
  for (const auto& c : cases) EXPECT_EQ(restricted(c.spec), c.want) << c.spec.dump();
}

TEST(PodSecurity, PrivilegedPodUnderRestrictedListsEveryReasonInOrder) {
  Json spec = {{"containers", {{{"name", "c"}, {"image", "x"}, {"securityContext", {{"privileged", true}}}}}}};
  EXPECT_EQ(restricted(spec),
            "privileged (container \"c\" must not set securityContext.privileged=true), allowPrivilegeEscalation != false "
            "(container \"c\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities "
            "(container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or "
            "container \"c\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"c\" must "
            "set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")");
}

TEST(PodSecurity, BaselineChecks) {
  Json plain = {{"containers", {{{"name", "c"}, {"image", "x"}}}}};
  EXPECT_EQ(baseline(plain), "");
  Json caps = plain;
  caps["containers"][0]["securityContext"] = {{"capabilities", {{"add", {"CHOWN", "SYS_ADMIN"}}}}};
  EXPECT_EQ(baseline(caps), "non-default capabilities (container \"c\" must not include \"SYS_ADMIN\" in securityContext.capabilities.add)");
  Json host = plain;
  host["volumes"] = {{{"name", "h"}, {"hostPath", {{"path", "/"}}}}};
  EXPECT_EQ(baseline(host), "hostPath volumes (volume \"h\")");
  Json seccomp = plain;
  seccomp["containers"][0]["securityContext"] = {{"seccompProfile", {{"type", "Unconfined"}}}};
  EXPECT_EQ(baseline(seccomp), "seccompProfile (container \"c\" must not set securityContext.seccompProfile.type to \"Unconfined\")");
  EXPECT_TRUE(evaluatePodSecurity(PodSecurityLevel::kPrivileged, host).empty());
}

ResourceInfo infoOf(const std::string& group, const std::string& resource) {
  ResourceInfo i;
  i.ref = {group, "v1", resource, "", true};
  return i;
}

Json ns(Json labels) { return {{"metadata", {{"name", "n"}, {"labels", std::move(labels)}}}}; }

TEST(PodSecurity, EnforceRejectsPodsAndWarnsForWorkloads) {
  Json pod = {{"metadata", {{"name", "p"}}},
              {"spec", {{"containers", {{{"name", "c"}, {"image", "x"}, {"securityContext", {{"privileged", true}}}}}}}}};
  auto a = admitPodSecurity(infoOf("", "pods"), pod, ns({{"pod-security.kubernetes.io/enforce", "restricted"}}));
  ASSERT_TRUE(a.denied);
  EXPECT_EQ(a.denied->httpCode, 403);
  EXPECT_EQ(a.denied->message.rfind("pods \"p\" is forbidden: violates PodSecurity \"restricted:latest\": privileged "
                                    "(container \"c\" must not set securityContext.privileged=true), allowPrivilegeEscalation",
                                    0),
            0u)
      << a.denied->message;
  Json deploy = {{"metadata", {{"name", "d"}}}, {"spec", {{"template", pod}}}};
  auto w = admitPodSecurity(infoOf("apps", "deployments"), deploy, ns({{"pod-security.kubernetes.io/enforce", "baseline"},
                                                                        {"pod-security.kubernetes.io/enforce-version", "v1.30"}}));
  EXPECT_FALSE(w.denied);
  ASSERT_EQ(w.warnings.size(), 1u);
  EXPECT_EQ(w.warnings[0], "would violate PodSecurity \"baseline:v1.30\": privileged (container \"c\" must not set securityContext.privileged=true)");
  Json cron = {{"metadata", {{"name", "cj"}}}, {"spec", {{"jobTemplate", {{"spec", {{"template", pod}}}}}}}};
  EXPECT_EQ(admitPodSecurity(infoOf("batch", "cronjobs"), cron, ns({{"pod-security.kubernetes.io/warn", "baseline"}})).warnings.size(), 1u);
  // warn only: pods are admitted with a warning.
  auto warned = admitPodSecurity(infoOf("", "pods"), pod, ns({{"pod-security.kubernetes.io/warn", "restricted"}}));
  EXPECT_FALSE(warned.denied);
  EXPECT_EQ(warned.warnings.size(), 1u);
  // No labels, privileged, other kinds: nothing.
  EXPECT_FALSE(admitPodSecurity(infoOf("", "pods"), pod, ns(Json::object())).denied);
  EXPECT_FALSE(admitPodSecurity(infoOf("", "pods"), pod, ns({{"pod-security.kubernetes.io/enforce", "privileged"}})).denied);
  EXPECT_TRUE(admitPodSecurity(infoOf("", "configmaps"), pod, ns({{"pod-security.kubernetes.io/enforce", "restricted"}})).warnings.empty());
}

TEST(PodSecurity, StoreRefusesAPrivilegedPodInARestrictedNamespace) {
  auto store = Store::open({});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->create(kube::resources::kNamespaces, "",
                               {{"metadata", {{"name", "r"}, {"labels", {{"pod-security.kubernetes.io/enforce", "restricted"}}}}}}).ok());
  Json pod = {{"metadata", {{"name", "p"}}},
              {"spec", {{"containers", {{{"name", "c"}, {"image", "x"}, {"securityContext", {{"privileged", true}}}}}}}}};
  auto refused = (*store)->create(kube::resources::kPods, "r", pod);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().httpCode, 403);
  Json compliant = {{"metadata", {{"name", "q"}}}, {"spec", restrictedSpec()}};
  EXPECT_TRUE((*store)->create(kube::resources::kPods, "r", compliant).ok());
}

}  // namespace
}  // namespace sdb::apimachinery
