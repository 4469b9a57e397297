#include "e2e/kubelet/images.h"

#include <unistd.h>

namespace sdb::kubelet {

// Generated from images/*.sh by CMake (embedded_scripts.cpp).
extern const unsigned char kPostgresEntrypoint[];
extern const unsigned char kRedisEntrypoint[];

namespace {

const char* kPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string majorOf(const std::string& tag) {
  size_t i = 0;
  while (i < tag.size() && std::isdigit(static_cast<unsigned char>(tag[i]))) ++i;
  return tag.substr(0, i);
}

std::string available(const ImageTableOptions& o) {
  return "this node runs postgres:15*, redis:7* and " + o.operatorImage + ":* (e2e/README.md, image table)";
}

ImageLookup notAvailable(const std::string& reference, const std::string& why, const ImageTableOptions& o) {
  ImageLookup l;
  l.reason = "ErrImagePull";
  l.message = "image \"" + reference + "\" is not available on the local node: " + why + "; " + available(o);
  return l;
}

Image postgres(const std::string& reference, const ImageTableOptions& o) {
  Image i;
  i.reference = reference;
  i.imageId = "servicedb.local/postgres@15-debian";
  i.entrypoint = {"docker-entrypoint.sh"};
  i.cmd = {"postgres"};
  i.env = {{"PATH", std::string(kPath) + ":" + o.postgresBinDir},
           {"PG_MAJOR", "15"},
           {"PGDATA", "/var/lib/postgresql/data"},
           {"LANG", "C.UTF-8"}};
  i.stopSignal = SIGINT;
  i.users = {{"postgres", 999, 999, "/var/lib/postgresql", "/bin/bash"}};
  i.dirs = {{"/var/lib/postgresql", 0755, 999, 999},
            {"/var/lib/postgresql/data", 01777, 999, 999},
            {"/run/postgresql", 03777, 999, 999},
            {"/docker-entrypoint-initdb.d", 0755, 0, 0}};
  i.files = {{"/usr/local/bin/docker-entrypoint.sh", reinterpret_cast<const char*>(kPostgresEntrypoint), 0755}};
  return i;
}

Image redis(const std::string& reference) {
  Image i;
  i.reference = reference;
  i.imageId = "servicedb.local/redis@7-debian";
  i.entrypoint = {"docker-entrypoint.sh"};
  i.cmd = {"redis-server"};
  i.env = {{"PATH", kPath}};
  i.workingDir = "/data";
  i.users = {{"redis", 999, 999, "/home/redis", "/usr/sbin/nologin"}};
  i.dirs = {{"/data", 0755, 999, 999}};
  i.files = {{"/usr/local/bin/docker-entrypoint.sh", reinterpret_cast<const char*>(kRedisEntrypoint), 0755}};
  return i;
}

Image operatorImage(const std::string& reference, const ImageTableOptions& o) {
  Image i;
  i.reference = reference;
  i.imageId = "servicedb.local/servicedb-operator@build";
  i.entrypoint = {"/usr/local/bin/servicedb-operator"};
  i.cmd = {"run"};
  i.env = {{"PATH", kPath}};
  i.uid = 65532;
  i.gid = 65532;
  i.users = {{"nonroot", 65532, 65532, "/home/nonroot", "/usr/sbin/nologin"}};
  i.binds = {{o.operatorBinary, "/usr/local/bin/servicedb-operator", true}};
  return i;
}

}  // namespace

std::pair<std::string, std::string> splitImageReference(const std::string& reference) {
  std::string ref = reference;
  if (auto at = ref.find('@'); at != std::string::npos) ref = ref.substr(0, at);
  for (const char* prefix : {"docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/"}) {
    if (ref.rfind(prefix, 0) == 0) {
      ref = ref.substr(std::string(prefix).size());
      break;
    }
  }
  if (ref.rfind("library/", 0) == 0) ref = ref.substr(8);
  const auto slash = ref.find_last_of('/');
  const auto colon = ref.find_last_of(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) return {ref.substr(0, colon), ref.substr(colon + 1)};
  return {ref, "latest"};
}

ImageLookup lookupImage(const std::string& reference, const ImageTableOptions& o) {
  const auto [name, tag] = splitImageReference(reference);
  ImageLookup l;
  if (name == "postgres") {
    if (majorOf(tag) != "15") {
      return notAvailable(reference, "it would be PostgreSQL " + (majorOf(tag).empty() ? tag : majorOf(tag)) +
                                         " and only PostgreSQL 15 is installed here (a different major is never run as 15)", o);
    }
    if (::access((o.postgresBinDir + "/postgres").c_str(), X_OK) != 0) {
      return notAvailable(reference, o.postgresBinDir + "/postgres is not installed (scripts/setup installs it)", o);
    }
    l.image = postgres(reference, o);
    return l;
  }
  if (name == "redis") {
    if (majorOf(tag) != "7") return notAvailable(reference, "it would be Redis " + tag + " and only redis-server 7 is installed here", o);
    l.image = redis(reference);
    return l;
  }
  if (!o.operatorImage.empty() && name == o.operatorImage) {
    if (o.operatorBinary.empty() || ::access(o.operatorBinary.c_str(), X_OK) != 0) {
      return notAvailable(reference, "the operator binary " + (o.operatorBinary.empty() ? "(unset)" : o.operatorBinary) + " is not built", o);
    }
    l.image = operatorImage(reference, o);
    return l;
  }
  if (name == "mongo") return notAvailable(reference, "there is no mongod on this machine", o);
  return notAvailable(reference, "it is not in the node's image table", o);
}

}  // namespace sdb::kubelet
