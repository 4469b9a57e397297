// A container of a pod spec resolved against its image and the objects it refers to, as the kubelet
// and the container runtime do it: argv from command/args over the image's ENTRYPOINT/CMD, the
// environment (image ENV, then envFrom, env with valueFrom, then the Service variables for names not
// yet set), $(VAR) expansion, the identity (runAsUser/runAsGroup/fsGroup/supplementalGroups over the
// image's USER, runAsNonRoot checked), workingDir, readOnlyRootFilesystem and
// allowPrivilegeEscalation; and the /etc/passwd and /etc/group the container gets.
//
// Errors are the kubelet's CreateContainerConfigError messages (`secret "x" not found`,
// `couldn't find key k in Secret ns/x`, `container has runAsNonRoot and image will run as root ...`).
//
// Contract: pure (lookups are passed in), thread-safe.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "e2e/kubelet/images.h"
#include "operator/core/json.h"
#include "operator/core/result.h"

namespace sdb::kubelet {

// Finds a Secret or ConfigMap in the pod's namespace; nullopt when it does not exist.
struct ObjectLookup {
  std::function<std::optional<Json>(const std::string& name)> secret;
  std::function<std::optional<Json>(const std::string& name)> configMap;
};

struct PodFacts {
  std::string podIP, hostIP, nodeName;
  std::vector<std::pair<std::string, std::string>> serviceEnv;  // KUBERNETES_SERVICE_HOST, ...
};

struct ResolvedContainer {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;  // final, image ENV included
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> groups;
  std::string workingDir;
  bool readOnlyRootFilesystem = false;
  bool noNewPrivileges = false;
};

Result<ResolvedContainer> resolveContainer(const Json& pod, const Json& container, const Image& image,
                                           const ObjectLookup& lookup, const PodFacts& facts);

// Secret data (base64 in `data`) or ConfigMap data (`data` plain, `binaryData` base64) by key.
std::map<std::string, std::string> secretData(const Json& secret);
std::map<std::string, std::string> configMapData(const Json& configMap);

// The value a downward-API fieldRef names (metadata.name, metadata.labels['k'], status.podIP, ...);
// an error for fields the kubelet does not support.
Result<std::string> fieldRefValue(const Json& pod, const std::string& fieldPath, const PodFacts& facts);

// "$(A) and $$(B)" with A=1 -> "1 and $(B)"; unknown references stay as written.
std::string expandReferences(const std::string& in, const std::map<std::string, std::string>& vars);

// /etc/passwd and /etc/group for the container: the host's (the image's root filesystem is the
// host's), with the image's users replacing same-named or same-uid entries, plus an entry for a
// uid or gid that has none (initdb and others insist on one).
std::string containerPasswd(const std::string& hostPasswd, const Image& image, uint32_t uid, uint32_t gid);
std::string containerGroup(const std::string& hostGroup, const Image& image, const std::vector<uint32_t>& gids);

}  // namespace sdb::kubelet
