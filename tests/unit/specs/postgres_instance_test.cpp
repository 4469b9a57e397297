// The dedicated PostgreSQL instance: golden files for the ConfigMap and the StatefulSet (default,
// and with resources, storage class, extra settings and another image repository), and the
// properties that matter asserted one by one, so a careless golden update cannot drop them.
#include "operator/specs/postgres_instance.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/unit/specs/golden_file.h"

using namespace sdb;
using namespace sdb::specs;
using sdb::specs::golden::configMapReview;
using sdb::specs::golden::matchesGolden;

namespace {

ServiceDatabase defaultSdb() {
  auto s = parseServiceDatabase(Json::parse(R"({"apiVersion": "servicedb.io/v1alpha1", "kind": "ServiceDatabase",
    "metadata": {"name": "orders", "namespace": "shop", "uid": "7d1c2a9e-uid"},
    "spec": {"service": "orders-api", "engine": "postgres", "version": "16"}})"));
  EXPECT_TRUE(s.ok()) << s.error().message;
  return *s;
}

ServiceDatabase customSdb() {
  auto s = parseServiceDatabase(Json::parse(R"({"apiVersion": "servicedb.io/v1alpha1", "kind": "ServiceDatabase",
    "metadata": {"name": "orders", "namespace": "shop", "uid": "7d1c2a9e-uid"},
    "spec": {"service": "orders-api", "engine": "postgres", "version": "15.4", "deletionPolicy": "Delete",
             "storage": {"size": "20Gi", "storageClassName": "fast-ssd"},
             "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}}})"));
  EXPECT_TRUE(s.ok()) << s.error().message;
  return *s;
}

PostgresInstanceOptions customOptions() {
  PostgresInstanceOptions o;
  o.imageRepository = "registry.example.com/mirror/postgres";
  o.extraSettings = {{"log_statement", "mod"}, {"log_line_prefix", "%m [%p] %q%u@%d "}, {"pg_stat_statements.max", "5000"}};
  return o;
}

Json configMap(const ServiceDatabase& s, const PostgresInstanceOptions& o = {}) {
  auto cm = postgresConfigMap(s, o);
  EXPECT_TRUE(cm.ok()) << cm.error().message;
  return cm.ok() ? *cm : Json();
}

Json statefulSet(const ServiceDatabase& s, const PostgresInstanceOptions& o = {}) {
  auto sts = postgresStatefulSet(s, o, configMapHash(configMap(s, o)));
  EXPECT_TRUE(sts.ok()) << sts.error().message;
  return sts.ok() ? *sts : Json();
}

std::vector<std::vector<std::string>> configLines(const std::string& file) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::vector<std::string> tokens;
    for (std::string w; words >> w;) tokens.push_back(w);
    out.push_back(tokens);
  }
  return out;
}

const Json& container(const Json& sts) { return sts["spec"]["template"]["spec"]["containers"][0]; }

TEST(PostgresInstance, ConfigMapGolden) {
  EXPECT_TRUE(matchesGolden(configMapReview(configMap(defaultSdb())), "postgres_configmap.json"));
  EXPECT_TRUE(matchesGolden(configMapReview(configMap(customSdb(), customOptions())), "postgres_configmap_custom.json"));
  Json cm = configMap(defaultSdb());
  EXPECT_EQ(cm["metadata"]["name"], "orders-postgres-config");
  EXPECT_EQ(cm["data"].size(), 2u);
}

TEST(PostgresInstance, StatefulSetGolden) {
  EXPECT_TRUE(matchesGolden(statefulSet(defaultSdb()), "postgres_statefulset.json"));
  EXPECT_TRUE(matchesGolden(statefulSet(customSdb(), customOptions()), "postgres_statefulset_custom.json"));
}

TEST(PostgresInstance, PostgresqlConfSettings) {
  const std::string conf = configMap(defaultSdb())["data"]["postgresql.conf"];
  std::map<std::string, std::string> settings;
  for (const auto& t : configLines(conf)) {
    ASSERT_GE(t.size(), 3u);
    ASSERT_EQ(t[1], "=");
    settings[t[0]] = t[2];
  }
  EXPECT_EQ(settings["listen_addresses"], "'*'");
  EXPECT_EQ(settings["port"], "5432");
  EXPECT_EQ(settings["ssl"], "on");
  EXPECT_EQ(settings["ssl_cert_file"], "'/tls/tls.crt'");
  EXPECT_EQ(settings["ssl_key_file"], "'/tls/tls.key'");
  EXPECT_EQ(settings["ssl_min_protocol_version"], "'TLSv1.2'");
  EXPECT_EQ(settings["password_encryption"], "'scram-sha-256'");
  EXPECT_EQ(settings["hba_file"], "'/etc/postgresql/pg_hba.conf'");
  EXPECT_EQ(settings["unix_socket_directories"], "'/var/run/postgresql'");
  EXPECT_EQ(settings["shared_buffers"], "'128MB'");
  EXPECT_EQ(settings["max_connections"], "100");
}

TEST(PostgresInstance, SharedBuffersIsAQuarterOfTheMemoryLimitAtLeast32MB) {
  constexpr int64_t Mi = 1024 * 1024;
  struct Case {
    int64_t limit, want;
  };
  for (const auto& c : std::vector<Case>{{512 * Mi, 128}, {1024 * Mi, 256}, {4096 * Mi, 1024}, {200 * Mi, 50},
                                         {129 * Mi, 32}, {127 * Mi, 32}, {64 * Mi, 32}, {1, 32}, {1000000000, 238}}) {
    EXPECT_EQ(postgresSharedBuffersMb(c.limit), c.want) << c.limit;
  }
  const std::string conf = configMap(customSdb(), customOptions())["data"]["postgresql.conf"];
  EXPECT_NE(conf.find("\nshared_buffers = '512MB'\n"), std::string::npos) << "2Gi limit: " << conf;
  ServiceDatabase tiny = defaultSdb();
  tiny.resources = {{"limits", {{"memory", "64Mi"}}}};
  EXPECT_NE(configMap(tiny)["data"]["postgresql.conf"].get<std::string>().find("\nshared_buffers = '32MB'\n"), std::string::npos);
}

TEST(PostgresInstance, PgHbaHasNoPlainTextHostLineThatIsNotReject) {
  const std::string hba = configMap(defaultSdb())["data"]["pg_hba.conf"];
  int hostssl = 0, rejects = 0;
  for (const auto& t : configLines(hba)) {
    ASSERT_GE(t.size(), 4u);
    const std::string& type = t[0];
    const std::string& method = t.back();
    if (type == "local") {
      EXPECT_EQ(method, "peer");
    } else if (type == "hostssl") {
      EXPECT_EQ(method, "scram-sha-256") << "TLS lines use SCRAM only";
      ++hostssl;
    } else {
      // host (plain or TLS), hostnossl, hostgssenc, hostnogssenc: all may carry plain text.
      EXPECT_EQ(method, "reject") << "plain-text line: " << t[0] << " " << t[3];
      EXPECT_EQ(type, "hostnossl");
      ++rejects;
    }
  }
  EXPECT_EQ(hostssl, 2) << "IPv4 and IPv6";
  EXPECT_EQ(rejects, 2) << "IPv4 and IPv6";
  EXPECT_NE(hba.find("hostnossl  all       all   0.0.0.0/0        reject"), std::string::npos);
  EXPECT_NE(hba.find("hostnossl  all       all   ::/0             reject"), std::string::npos);
}

TEST(PostgresInstance, ExtraSettingsAreSortedQuotedAndValidated) {
  PostgresInstanceOptions o;
  o.extraSettings = {{"work_mem", "8MB"}, {"application_name", "it's \\ here"}};
  const std::string conf = configMap(defaultSdb(), o)["data"]["postgresql.conf"];
  size_t app = conf.find("\napplication_name = 'it''s \\\\ here'\n");
  size_t work = conf.find("\nwork_mem = '8MB'\n");
  EXPECT_NE(app, std::string::npos) << conf;
  EXPECT_NE(work, std::string::npos);
  EXPECT_LT(app, work);
  EXPECT_GT(app, conf.find("max_connections")) << "after the operator's own settings";

  struct Case {
    std::string name, value, want;
  };
  for (const auto& c : std::vector<Case>{
           {"Log_Statement", "mod", "postgres extra setting \"Log_Statement\": a name must match [a-z_][a-z0-9_.]*"},
           {"a;b", "1", "postgres extra setting \"a;b\": a name must match [a-z_][a-z0-9_.]*"},
           {"1abc", "1", "postgres extra setting \"1abc\": a name must match [a-z_][a-z0-9_.]*"},
           {"", "1", "postgres extra setting \"\": a name must match [a-z_][a-z0-9_.]*"},
           {"ssl", "off", "postgres extra setting \"ssl\": set by the operator itself and cannot be overridden"},
           {"hba_file", "/x", "postgres extra setting \"hba_file\": set by the operator itself and cannot be overridden"},
           {"include", "/etc/passwd", "postgres extra setting \"include\": set by the operator itself and cannot be overridden"},
           {"shared_buffers", "1GB", "postgres extra setting \"shared_buffers\": set by the operator itself and cannot be overridden"},
           {"log_statement", "mod'\nssl = off", "postgres extra setting \"log_statement\": the value must not contain control characters"},
       }) {
    PostgresInstanceOptions bad;
    bad.extraSettings = {{c.name, c.value}};
    auto cm = postgresConfigMap(defaultSdb(), bad);
    ASSERT_FALSE(cm.ok()) << c.name;
    EXPECT_EQ(cm.error().message, c.want);
  }
}

TEST(PostgresInstance, Major) {
  struct Case {
    std::string version;
    int want;  // 0: an error
  };
  for (const auto& c : std::vector<Case>{{"16", 16}, {"16.4", 16}, {"12", 12}, {"17.0", 17}, {"15.10", 15}, {"11", 0},
                                         {"18", 0}, {"9.6", 0}, {"", 0}, {"latest", 0}, {"16.4.1", 0}, {"16.", 0},
                                         {".4", 0}, {"016", 0}, {"16-alpine", 0}, {"16.x", 0}, {"99999", 0}}) {
    auto m = postgresMajor(c.version);
    if (c.want != 0) {
      ASSERT_TRUE(m.ok()) << c.version << ": " << m.error().message;
      EXPECT_EQ(*m, c.want);
    } else {
      ASSERT_FALSE(m.ok()) << c.version;
      EXPECT_EQ(m.error().message.rfind("spec.version: ", 0), 0u) << m.error().message;
    }
  }
  EXPECT_EQ(postgresMajor("11").error().message, "spec.version: PostgreSQL 11 is not supported (supported: 12 to 17)");
  EXPECT_EQ(postgresMajor("16-alpine").error().message,
            "spec.version: \"16-alpine\" is not MAJOR or MAJOR.MINOR (such as \"16\" or \"16.4\")");
}

TEST(PostgresInstance, StatefulSetShape) {
  ServiceDatabase s = defaultSdb();
  Json sts = statefulSet(s);
  InstanceNames n = instanceNames(s);
  EXPECT_EQ(sts["metadata"]["name"], n.base);
  EXPECT_EQ(sts["metadata"]["ownerReferences"], Json::array({ownerReference(s)}));
  EXPECT_EQ(sts["spec"]["replicas"], 1);
  EXPECT_EQ(sts["spec"]["serviceName"], n.headlessService);
  EXPECT_EQ(sts["spec"]["podManagementPolicy"], "OrderedReady");
  EXPECT_EQ(sts["spec"]["updateStrategy"]["type"], "RollingUpdate");
  EXPECT_EQ(sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"], "Retain") << "deletionPolicy Retain";
  EXPECT_EQ(sts["spec"]["selector"]["matchLabels"], Json(instanceSelector(s)));
  const Json& labels = sts["spec"]["template"]["metadata"]["labels"];
  EXPECT_EQ(labels, Json(standardLabels(s, Component::kInstance)));
  for (const auto& [k, v] : sts["spec"]["selector"]["matchLabels"].items()) EXPECT_EQ(labels[k], v) << k;
  EXPECT_EQ(sts["spec"]["template"]["metadata"]["annotations"][kAnnotationConfigHash], configMapHash(configMap(s)));

  const Json& pod = sts["spec"]["template"]["spec"];
  EXPECT_EQ(pod["securityContext"], restrictedPodSecurityContext(999));
  EXPECT_EQ(pod["automountServiceAccountToken"], false);
  EXPECT_EQ(pod["enableServiceLinks"], false);
  EXPECT_EQ(pod["terminationGracePeriodSeconds"], 60);
  const Json& c = container(sts);
  EXPECT_EQ(c["image"], "postgres:16");
  EXPECT_EQ(c["args"], Json::array({"-c", "config_file=/etc/postgresql/postgresql.conf"}));
  EXPECT_EQ(c["securityContext"], restrictedContainerSecurityContext());
  EXPECT_EQ(c["resources"], containerResources(s)->json);
  std::map<std::string, Json> env;
  for (const auto& e : c["env"]) env[e["name"]] = e;
  EXPECT_EQ(env["POSTGRES_USER"]["valueFrom"]["secretKeyRef"], Json({{"name", n.superuserSecret}, {"key", "username"}}));
  EXPECT_EQ(env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"], Json({{"name", n.superuserSecret}, {"key", "password"}}));
  EXPECT_FALSE(env["POSTGRES_PASSWORD"].contains("value")) << "never the password itself";
  EXPECT_EQ(env["PGDATA"]["value"], "/var/lib/postgresql/data/pgdata");
  EXPECT_NE(env["POSTGRES_INITDB_ARGS"]["value"].get<std::string>().find("--auth-host=scram-sha-256"), std::string::npos);
  EXPECT_EQ(c["readinessProbe"]["exec"]["command"], Json::array({"pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"}));
  EXPECT_EQ(c["startupProbe"]["exec"], c["readinessProbe"]["exec"]);
  EXPECT_GE(c["startupProbe"]["failureThreshold"].get<int>() * c["startupProbe"]["periodSeconds"].get<int>(), 300);
  EXPECT_EQ(c["livenessProbe"]["tcpSocket"]["port"], "postgresql");
  EXPECT_EQ(c["ports"][0], Json({{"name", "postgresql"}, {"containerPort", 5432}, {"protocol", "TCP"}}));

  std::map<std::string, std::string> mounts;
  for (const auto& m : c["volumeMounts"]) mounts[m["mountPath"]] = m["name"];
  EXPECT_EQ(mounts, (std::map<std::string, std::string>{{"/var/lib/postgresql/data", "data"}, {"/etc/postgresql", "config"},
                                                         {"/tls", "tls"}, {"/var/run/postgresql", "run"}, {"/tmp", "tmp"},
                                                         {"/dev/shm", "shm"}}));
  std::map<std::string, Json> volumes;
  for (const auto& v : pod["volumes"]) volumes[v["name"]] = v;
  EXPECT_EQ(volumes["config"]["configMap"]["name"], n.configMap);
  EXPECT_EQ(volumes["tls"]["secret"], Json({{"secretName", n.tlsSecret}, {"defaultMode", 0640}}));
  EXPECT_EQ(volumes["shm"]["emptyDir"], Json({{"medium", "Memory"}, {"sizeLimit", "128Mi"}}));
  EXPECT_EQ(volumes.count("data"), 0u) << "from the claim template";
  const Json& claim = sts["spec"]["volumeClaimTemplates"][0];
  EXPECT_EQ(claim["metadata"]["name"], "data");
  EXPECT_EQ(claim["spec"]["accessModes"], Json::array({"ReadWriteOnce"}));
  EXPECT_EQ(claim["spec"]["resources"]["requests"]["storage"], "1Gi");
  EXPECT_FALSE(claim["spec"].contains("storageClassName")) << "the cluster's default class";
}

TEST(PostgresInstance, StatefulSetFollowsTheSpec) {
  Json sts = statefulSet(customSdb(), customOptions());
  const Json& c = container(sts);
  EXPECT_EQ(c["image"], "registry.example.com/mirror/postgres:15.4");
  EXPECT_EQ(c["resources"], Json::parse(R"({"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}})"));
  const Json& claim = sts["spec"]["volumeClaimTemplates"][0]["spec"];
  EXPECT_EQ(claim["resources"]["requests"]["storage"], "20Gi");
  EXPECT_EQ(claim["storageClassName"], "fast-ssd");
  EXPECT_EQ(sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"], "Delete");
  EXPECT_NE(sts["spec"]["template"]["metadata"]["annotations"][kAnnotationConfigHash],
            statefulSet(defaultSdb())["spec"]["template"]["metadata"]["annotations"][kAnnotationConfigHash])
      << "another configuration rolls the pod";
}

TEST(PostgresInstance, StatefulSetErrorsNameTheField) {
  ServiceDatabase s = defaultSdb();
  s.version = "10";
  EXPECT_EQ(postgresStatefulSet(s, {}, "h").error().message.rfind("spec.version: ", 0), 0u);
  s = defaultSdb();
  s.storageSize = "ten gigs";
  EXPECT_EQ(postgresStatefulSet(s, {}, "h").error().message,
            "spec.storage.size: \"ten gigs\" is not a quantity (such as 512Mi, 1Gi, 1.5G or 500m)");
  s = defaultSdb();
  s.resources = {{"requests", {{"memory", "2Gi"}}}, {"limits", {{"memory", "1Gi"}}}};
  EXPECT_EQ(postgresStatefulSet(s, {}, "h").error().message,
            "spec.resources.requests.memory: 2Gi is more than spec.resources.limits.memory 1Gi");
  EXPECT_FALSE(postgresConfigMap(s, {}).ok());
}

TEST(PostgresInstance, NoPodDisruptionBudgetForOneReplica) {
  EXPECT_FALSE(postgresPodDisruptionBudget(defaultSdb()).has_value());
}

}  // namespace
