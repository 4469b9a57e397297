// What servicedb-container-init needs to turn itself into one container: the pod's network
// namespace, the root filesystem to build, mounts, identity and the program. The kubelet fills it;
// container-init reads it as JSON (launch: from fd 3; exec into a running container: from stdin).
//
// The container's root is an overlay whose lower layer is the host's own root filesystem (the
// "image" is the host's installed programs, chosen by the image table) and whose upper layer is a
// tmpfs made fresh for each start, as a container's writable layer is. It gets its own /proc, a
// minimal /dev, fresh /tmp and /run, the pod's hosts/hostname/resolv.conf, the image's files and
// directories, and the volume mounts, then pivot_root(2) makes it "/".
//
// Contract: plain values; toJson/fromJson round-trip (fromJson names the first bad field).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "operator/core/json.h"

namespace sdb::kubelet {

struct MountSpec {
  std::string source;   // host path
  std::string target;   // path in the container
  bool readOnly = false;
};

struct FileSpec {
  std::string path;     // in the container
  std::string content;
  uint32_t mode = 0644;
};

struct DirSpec {
  std::string path;     // in the container; parents are made 0755 root
  uint32_t mode = 0755;
  uint32_t uid = 0, gid = 0;
};

struct LinkSpec {
  std::string path, target;  // symlink at path -> target
};

struct ContainerLaunch {
  std::string mode = "launch";  // "launch" a new container, or "exec" into the one whose pid is execPid
  int64_t execPid = 0;
  std::string netnsPath;
  std::string stagingDir;       // host directory the container's tmpfs (upper layer) is mounted on
  std::string hostname;
  bool readOnlyRootFilesystem = false;
  std::vector<DirSpec> dirs;
  std::vector<FileSpec> files;
  std::vector<LinkSpec> links;
  std::vector<MountSpec> mounts;  // applied in order (parents before children)
  std::vector<std::string> argv;
  std::vector<std::string> env;   // "K=V"; PATH here is the one used to find argv[0]
  std::string workingDir = "/";
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> supplementalGroups;
  bool noNewPrivileges = false;
  int64_t parentPid = 0;          // dies with this process (PR_SET_PDEATHSIG) unless 0
};

Json toJson(const ContainerLaunch& launch);
Result<ContainerLaunch> launchFromJson(const Json& j);

}  // namespace sdb::kubelet
