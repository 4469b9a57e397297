// The local node's image table: which host programs an image name runs, with the image's
// ENTRYPOINT, CMD, ENV, USER, WORKDIR, STOPSIGNAL, users and directories, as the real image defines
// them. Small and extensible: add an entry to lookupImage() and a row to e2e/README.md.
//
//   postgres:15*          Debian's PostgreSQL 15 (/usr/lib/postgresql/15/bin on PATH) behind our
//                         docker-entrypoint.sh with the official image's contract (images/)
//   redis:7*              Debian's redis-server 7 / redis-cli behind our docker-entrypoint.sh
//   <operator image>:*    build/bin/servicedb-operator at /usr/local/bin/servicedb-operator, USER 65532
//   anything else         not runnable: ErrImagePull with a message naming what is available (another
//                         PostgreSQL major never quietly runs 15; there is no mongod here)
//
// Registry prefixes docker.io/ and docker.io/library/ are ignored; a digest is ignored.
//
// Contract: pure apart from reading the two embedded entrypoint scripts; thread-safe.
#pragma once

#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "e2e/kubelet/container_spec.h"

namespace sdb::kubelet {

struct ImageUser {
  std::string name;
  uint32_t uid = 0, gid = 0;
  std::string home = "/", shell = "/usr/sbin/nologin";
};

struct Image {
  std::string reference;  // as the pod names it
  std::string imageId;    // for containerStatuses[].imageID
  std::vector<std::string> entrypoint, cmd;
  std::vector<std::pair<std::string, std::string>> env;
  uint32_t uid = 0, gid = 0;  // USER
  std::string workingDir = "/";
  int stopSignal = SIGTERM;
  std::vector<ImageUser> users;
  std::vector<DirSpec> dirs;
  std::vector<FileSpec> files;
  std::vector<MountSpec> binds;  // host files bound into the container read-only
};

struct ImageTableOptions {
  std::string operatorImage = "ghcr.io/servicedb/servicedb-operator";  // without tag
  std::string operatorBinary;  // host path of servicedb-operator
  std::string postgresBinDir = "/usr/lib/postgresql/15/bin";
};

struct ImageLookup {
  std::optional<Image> image;
  std::string reason;   // when not runnable: ErrImagePull
  std::string message;  // names what this node can run
};

ImageLookup lookupImage(const std::string& reference, const ImageTableOptions& options);

// "docker.io/library/postgres:15.4@sha256:..." -> {"postgres", "15.4"}; tag "latest" when absent.
std::pair<std::string, std::string> splitImageReference(const std::string& reference);

}  // namespace sdb::kubelet
