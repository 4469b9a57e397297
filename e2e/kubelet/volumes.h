// A pod's volumes on the node's disk, as the kubelet's volume plugins lay them out:
// - secret, configMap, downwardAPI and projected (serviceAccountToken, secret, configMap,
//   downwardAPI sources) are written by an atomic writer: files in a `..<timestamp>` directory,
//   `..data` a symlink to it swapped with rename(2), top-level names symlinks into `..data`. A later
//   setUp() with changed content swaps `..data` again, which is how running containers see updates;
//   unchanged content writes nothing. Modes follow items[].mode / defaultMode.
// - emptyDir: a directory (mode 0777) under the pod's directory, kept across container restarts.
// - persistentVolumeClaim: one directory per claim (by the claim's uid) under the node's PVC root,
//   kept across pod deletion and cluster restarts; 0777 like a local-path provisioner's.
// - hostPath: the host path itself (created for DirectoryOrCreate / FileOrCreate).
// - With a pod fsGroup, ownership follows kubelet's SetVolumeOwnership: group fsGroup, setgid
//   directories, mode |= 0440 for read-only volumes (secret, configMap, projected, downwardAPI) and
//   |= 0660 for writable ones (emptyDir, PVC), recursively (fsGroupChangePolicy OnRootMismatch skips
//   a PVC whose root already matches). This is what makes PostgreSQL's key-file rule bite: a key in a
//   Secret volume is root-owned and group-readable (0640) only with fsGroup.
// - The ServiceAccount volume (token + ca.crt + namespace) is mounted at
//   /var/run/secrets/kubernetes.io/serviceaccount unless automountServiceAccountToken is false or a
//   container mounts that path itself; tokens are renewed at 80% of their lifetime.
//
// Contract: one PodVolumes per pod, used by one thread (the pod's worker).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "e2e/kubelet/pod_spec.h"
#include "operator/core/clock.h"

namespace sdb::kubelet {

inline constexpr const char* kServiceAccountMountPath = "/var/run/secrets/kubernetes.io/serviceaccount";
inline constexpr const char* kServiceAccountVolume = "kube-api-access";

struct VolumeContext {
  std::string podDir;   // the pod's directory on the node
  std::string pvcRoot;  // where claims' directories live
  ObjectLookup lookup;
  std::function<std::optional<Json>(const std::string& claimName)> claim;
  // A token for the pod's ServiceAccount, bound to the pod: {token, expiry}.
  std::function<Result<std::pair<std::string, std::chrono::system_clock::time_point>>(const std::string& audience,
                                                                                       int64_t expirationSeconds)> token;
  std::string caPem;  // the cluster CA, for ca.crt
  PodFacts facts;
  Clock* clock = nullptr;
};

struct PreparedVolume {
  std::string hostPath;
  bool readOnly = false;  // always mounted read-only (atomic-writer volumes)
};

struct FileContent {
  std::string content;
  uint32_t mode = 0644;
  bool operator==(const FileContent& o) const { return content == o.content && mode == o.mode; }
};

class PodVolumes {
 public:
  // Sets up or refreshes every volume of the pod (and the ServiceAccount volume); errors name the
  // volume, in the kubelet's words (`MountVolume.SetUp failed for volume "x" : secret "y" not found`).
  Result<std::map<std::string, PreparedVolume>> setUp(const Json& pod, const VolumeContext& ctx);

  // Whether the implicit ServiceAccount volume is mounted into `container`.
  static bool mountsServiceAccount(const Json& pod, const Json& container);

 private:
  struct IssuedToken {
    std::string token;
    std::chrono::system_clock::time_point issued, expiry;
  };
  Result<std::map<std::string, FileContent>> projectedPayload(const Json& pod, const std::string& volumeName,
                                                              const Json& sources, uint32_t defaultMode,
                                                              const VolumeContext& ctx);
  std::map<std::string, IssuedToken> tokens_;  // by volume/path
};

// The atomic writer on its own (exposed for tests). Returns whether anything changed.
Result<bool> writeAtomically(const std::string& dir, const std::map<std::string, FileContent>& payload,
                             std::optional<uint32_t> fsGroup, Clock& clock);
// SetVolumeOwnership for a writable volume (recursive group fsGroup, |= 0660, setgid directories).
Status setVolumeOwnership(const std::string& dir, uint32_t fsGroup, bool onRootMismatch);

}  // namespace sdb::kubelet
