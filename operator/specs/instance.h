// Engine-neutral pieces of a dedicated database instance (spec.mode: dedicated): child object
// names, the owner reference, the server certificate's DNS names, spec.version's major, Kubernetes
// quantities, container resources with their defaults, the restricted Pod Security contexts, the
// pod spec and StatefulSet around an engine's containers, the two Services, and the superuser and
// TLS Secrets. The engines' builders (postgres_instance.h, redis_instance.h, mongo_instance.h)
// assemble their StatefulSets and ConfigMaps from these.
//
// Names: every child name is a DNS-1035 label of at most 63 characters. The base is
// "<metadata.name>-<engine image name>" ("orders-postgres") when that is a DNS-1035 label of at
// most 47 characters (47 leaves room for "<base>-0", "data-<base>-0" and the StatefulSet's
// controller-revision-hash label "<base>-<10 characters>"). Otherwise (a long name, a name with '.'
// or one that starts with a digit) it is "<cut name>-<10 hex of SHA-256(name/engine)>": dots
// become '-', a leading digit gets "db-" in front. A plain base ends in the engine's name
// ("-postgres", "-redis", "-mongodb", none of them hex), a hashed one in hex, so the two kinds never
// meet; two hashed names meet only on a 40-bit SHA-256 collision.
//
// Errors name the spec field they concern ("spec.resources.limits.memory: ..."), as conditions
// show them.
//
// Contract: pure functions, no I/O, thread-safe. Secrets are built with base64 `data` (as
// credentials_secret.h does), so they compare equal to what the API server returns.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "operator/core/json.h"
#include "operator/core/result.h"
#include "operator/specs/labels.h"
#include "operator/specs/servicedatabase.h"

namespace sdb::specs {

// The cluster DNS domain assumed for fully qualified names. Clients are given "<svc>.<ns>.svc",
// which does not depend on it; the "...cluster.local" SANs merely add the common default.
inline constexpr const char* kClusterDomain = "cluster.local";
// The pod template annotation that carries configMapHash(): a change of configuration changes the
// template and so rolls the pods.
inline constexpr const char* kAnnotationConfigHash = "servicedb.io/config-hash";
inline constexpr size_t kMaxInstanceBase = 47;

struct InstanceNames {
  std::string base;             // StatefulSet and ClusterIP Service
  std::string headlessService;  // base + "-hl"
  std::string service;          // base: what clients use
  std::string configMap;        // base + "-config"
  std::string superuserSecret;  // base + "-superuser"
  std::string tlsSecret;        // base + "-tls"
  std::string networkPolicy;    // base
  std::string pod0;             // base + "-0"
  std::string pvc0;             // "data-" + base + "-0" (volumeClaimTemplate "data")
};
InstanceNames instanceNames(const ServiceDatabase& sdb);

// {apiVersion: servicedb.io/v1alpha1, kind: ServiceDatabase, name, uid, controller: true,
//  blockOwnerDeletion: true}
Json ownerReference(const ServiceDatabase& sdb);
// metadata of an instance child: name, namespace, labels standardLabels(kInstance), and the owner
// reference.
Json instanceMetadata(const ServiceDatabase& sdb, const std::string& name);

// Every DNS name a client may use, for the server certificate's SANs: for the ClusterIP and the
// headless Service each of svc, svc.ns, svc.ns.svc, svc.ns.svc.<kClusterDomain>; then
// pod0.headless.ns.svc and pod0.headless.ns.svc.<kClusterDomain>; then "localhost" (the pod's own
// probes and `kubectl exec` sessions). No duplicates; this order.
std::vector<std::string> instanceDnsNames(const ServiceDatabase& sdb);

// spec.version as an engine accepts it: MAJOR, or up to `maxParts` dot-separated numbers ("16.4",
// "7.2.4"), no leading zeros, at most 4 digits each; the major within [minMajor, maxMajor].
// Errors name spec.version: `"16-alpine" is not MAJOR or MAJOR.MINOR (such as "16" or "16.4")`,
// `PostgreSQL 11 is not supported (supported: 12 to 17)`.
struct VersionRule {
  std::string product;          // "PostgreSQL", "Redis"
  int minMajor = 0, maxMajor = 0;
  int maxParts = 2;             // 2: MAJOR.MINOR; 3: MAJOR.MINOR.PATCH
  std::string examples;         // "\"16\" or \"16.4\""
};
Result<int> versionMajor(const std::string& version, const VersionRule& rule);

// Kubernetes quantities (resource.Quantity): a non-negative decimal number ("2", "1.5", ".5",
// "1e3") and a suffix: binary Ki Mi Gi Ti Pi Ei, decimal n u m k M G T P E, or none. Fractions
// of the unit round up, as Quantity.Value() and MilliValue() do ("500m" is 1 byte, "0.1m" 1
// millicore). Errors (malformed, negative, beyond int64) start with `field`.
Result<int64_t> quantityBytes(const std::string& q, const std::string& field);
Result<int64_t> quantityMillis(const std::string& q, const std::string& field);

// spec.resources with defaults and validation, as the instance's container `resources`:
// - defaults: requests cpu 100m and memory 256Mi; limits memory 512Mi; no cpu limit (a cpu limit
//   throttles the database under load while a node has idle cores);
// - only the maps requests and limits, each only with cpu, memory and ephemeral-storage; every
//   value a positive quantity (a string, or an integer number);
// - a request given without its limit raises the default limit to the request; a limit given
//   without its request lowers the default request to the limit (Kubernetes defaults a missing
//   request to the limit in the same way);
// - then every request must be at most its limit: "spec.resources.requests.memory: 2Gi is more
//   than spec.resources.limits.memory 1Gi".
// Values keep the user's spelling; integer numbers become strings.
struct ContainerResources {
  Json json;
  int64_t memoryLimitBytes = 0;
};
Result<ContainerResources> containerResources(const ServiceDatabase& sdb);

// Pod Security Standard "restricted" (and then some): the pod runs as `uid` (user, group and
// fsGroup, so volumes are group-owned by it; fsGroupChangePolicy OnRootMismatch spares a large
// volume the recursive chown on every start), runAsNonRoot, seccomp RuntimeDefault. Containers:
// no privilege escalation, all capabilities dropped, read-only root filesystem, runAsNonRoot.
Json restrictedPodSecurityContext(int uid);
Json restrictedContainerSecurityContext();

// An env entry read from a Secret's key: {name, valueFrom: {secretKeyRef: {name: secret, key}}}.
Json secretKeyEnv(const std::string& name, const std::string& secret, const std::string& key);

// The volume "tls" of the TLS Secret, files mode 0640: root-owned, readable by the fsGroup (the
// database's own group) and nobody else, which both PostgreSQL's key-file rule and Redis accept.
Json instanceTlsVolume(const InstanceNames& n);

// The pod spec of an instance: no ServiceAccount token (the database never calls the API), no
// Service environment variables, restrictedPodSecurityContext(uid), the grace period, and the
// given containers and volumes (initContainers only when `initContainers` is a non-empty array).
Json instancePodSpec(int uid, int terminationGracePeriodSeconds, Json initContainers, Json containers, Json volumes);

// The StatefulSet "<base>" around `podSpec`: one replica, serviceName the headless Service,
// OrderedReady, RollingUpdate, selector instanceSelector(), the template labelled
// standardLabels(kInstance) and annotated kAnnotationConfigHash = `configHash` when not empty (a
// configuration change rolls the pod), and the volumeClaimTemplate "data" (ReadWriteOnce, spec.storage.size,
// spec.storage.storageClassName when set). spec.deletionPolicy Delete or Snapshot sets
// persistentVolumeClaimRetentionPolicy.whenDeleted to Delete; Retain keeps the PVC. Errors name
// spec.storage.size.
Result<Json> instanceStatefulSet(const ServiceDatabase& sdb, const Json& podSpec, const std::string& configHash);

// servicedb.io/database=<name>, servicedb.io/component=instance,
// app.kubernetes.io/managed-by=servicedb-operator. The StatefulSet's selector (immutable) and the
// Services' selector; a subset of standardLabels(kInstance), and never a replica's pods.
Labels instanceSelector(const ServiceDatabase& sdb);

// Services of the instance, one TCP port `port` named `portName` (the container port's name is the
// targetPort). Headless: clusterIP None and publishNotReadyAddresses true, for the StatefulSet's
// stable pod names (the pod's DNS name exists before it is ready, as replicas and the operator's
// own first connection may need). ClusterIP: what clients connect to.
Json headlessService(const ServiceDatabase& sdb, const InstanceNames& n, const std::string& portName, int port);
Json clusterIpService(const ServiceDatabase& sdb, const InstanceNames& n, const std::string& portName, int port);

// The superuser Secret (Opaque; keys username, password), read only by the operator and by the
// instance's container environment. Labels standardLabels(kInstance); owner reference.
Json superuserSecret(const ServiceDatabase& sdb, const InstanceNames& n, const std::string& username,
                     const std::string& password);
// The server's TLS Secret (type kubernetes.io/tls; PEM): tls.crt, tls.key, ca.crt, and tls.pem =
// tls.crt followed by tls.key (tlsCombinedPem), for servers that read certificate and key from one
// file (mongod's --tlsCertificateKeyFile). tls.pem lives in the same Secret, rather than being
// concatenated by an init container, so the kubelet swaps it together with tls.crt on renewal and a
// running server can reload it.
std::string tlsCombinedPem(const std::string& certPem, const std::string& keyPem);
Json tlsSecret(const ServiceDatabase& sdb, const InstanceNames& n, const std::string& certPem,
               const std::string& keyPem, const std::string& caPem);

// SHA-256 (hex) of a ConfigMap's `data` and `binaryData`, for kAnnotationConfigHash.
std::string configMapHash(const Json& configMap);

}  // namespace sdb::specs
