#include "operator/engines/mongo/dedicated.h"

namespace sdb::engines::mongo {
namespace {

constexpr const char* kTlsDir = "/etc/servicedb/tls";

Json labels(const DedicatedInput& in) {
  return {{"app.kubernetes.io/name", "mongodb"},
          {"app.kubernetes.io/instance", in.name},
          {"app.kubernetes.io/component", "database"},
          {"app.kubernetes.io/part-of", in.service},
          {"app.kubernetes.io/managed-by", "servicedb-operator"},
          {"servicedb.io/database", in.name},
          {"servicedb.io/component", "instance"}};
}

Json secretEnv(const std::string& name, const std::string& secret, const std::string& key) {
  return {{"name", name}, {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", key}}}}}};
}

}  // namespace

std::string dedicatedInstanceName(const std::string& name) { return name + "-mongodb"; }

Json dedicatedStatefulSet(const DedicatedInput& in) {
  const std::string instance = dedicatedInstanceName(in.name);
  const Json selector = {{"app.kubernetes.io/instance", in.name}, {"servicedb.io/component", "instance"},
                         {"servicedb.io/database", in.name}};
  const std::string tlsDir = kTlsDir;
  Json args = Json::array({"--bind_ip_all", "--port", std::to_string(kMongoPort), "--auth", "--tlsMode", "requireTLS",
                           "--tlsCertificateKeyFile", tlsDir + "/tls.pem", "--tlsCAFile", tlsDir + "/ca.crt",
                           "--tlsAllowConnectionsWithoutCertificates", "--setParameter",
                           "authenticationMechanisms=SCRAM-SHA-256", "--dbpath", "/data/db"});
  Json probe = {{"tcpSocket", {{"port", "mongodb"}}}, {"periodSeconds", 10}, {"timeoutSeconds", 5}};
  Json readiness = probe;
  readiness["initialDelaySeconds"] = 5;
  Json liveness = probe;
  liveness["initialDelaySeconds"] = 30;
  liveness["failureThreshold"] = 6;
  Json container = {
      {"name", "mongod"},
      {"image", "mongo:" + in.version},
      {"imagePullPolicy", "IfNotPresent"},
      {"args", args},
      {"env", Json::array({secretEnv("MONGO_INITDB_ROOT_USERNAME", in.adminSecretName, "username"),
                           secretEnv("MONGO_INITDB_ROOT_PASSWORD", in.adminSecretName, "password")})},
      {"ports", Json::array({{{"name", "mongodb"}, {"containerPort", kMongoPort}, {"protocol", "TCP"}}})},
      {"readinessProbe", readiness},
      {"livenessProbe", liveness},
      {"resources", {{"requests", {{"cpu", in.cpuRequest}, {"memory", in.memoryRequest}}},
                     {"limits", {{"memory", in.memoryLimit}}}}},
      {"securityContext", {{"allowPrivilegeEscalation", false},
                           {"readOnlyRootFilesystem", true},
                           {"runAsNonRoot", true},
                           {"capabilities", {{"drop", Json::array({"ALL"})}}}}},
      {"volumeMounts", Json::array({{{"name", "data"}, {"mountPath", "/data/db"}},
                                    {{"name", "configdb"}, {"mountPath", "/data/configdb"}},
                                    {{"name", "tmp"}, {"mountPath", "/tmp"}},
                                    {{"name", "tls"}, {"mountPath", tlsDir}, {"readOnly", true}}})}};
  Json pvcSpec = {{"accessModes", Json::array({"ReadWriteOnce"})},
                  {"resources", {{"requests", {{"storage", in.storageSize}}}}}};
  if (!in.storageClassName.empty()) pvcSpec["storageClassName"] = in.storageClassName;
  Json podSpec = {
      {"automountServiceAccountToken", false},
      {"enableServiceLinks", false},
      {"terminationGracePeriodSeconds", 60},
      {"securityContext", {{"runAsNonRoot", true},
                           {"runAsUser", 999},
                           {"runAsGroup", 999},
                           {"fsGroup", 999},
                           {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"containers", Json::array({container})},
      {"volumes", Json::array({{{"name", "configdb"}, {"emptyDir", Json::object()}},
                               {{"name", "tmp"}, {"emptyDir", {{"medium", "Memory"}, {"sizeLimit", "64Mi"}}}},
                               {{"name", "tls"}, {"secret", {{"secretName", in.tlsSecretName}, {"defaultMode", 0440}}}}})}};
  return {
      {"apiVersion", "apps/v1"},
      {"kind", "StatefulSet"},
      {"metadata",
       {{"name", instance},
        {"namespace", in.namespaceName},
        {"labels", labels(in)},
        {"ownerReferences", Json::array({{{"apiVersion", "servicedb.io/v1alpha1"},
                                          {"kind", "ServiceDatabase"},
                                          {"name", in.name},
                                          {"uid", in.uid},
                                          {"controller", true},
                                          {"blockOwnerDeletion", true}}})}}},
      {"spec",
       {{"replicas", 1},
        {"serviceName", instance},
        {"podManagementPolicy", "OrderedReady"},
        {"updateStrategy", {{"type", "RollingUpdate"}}},
        {"selector", {{"matchLabels", selector}}},
        {"template", {{"metadata", {{"labels", labels(in)}}}, {"spec", podSpec}}},
        {"volumeClaimTemplates",
         Json::array({{{"metadata", {{"name", "data"}, {"labels", labels(in)}}}, {"spec", pvcSpec}}})}}}};
}

}  // namespace sdb::engines::mongo
