#include "e2e/kubelet/volumes.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace sdb::kubelet {

namespace fs = std::filesystem;

namespace {

Error mountError(const std::string& volume, const std::string& message) {
  return Error(ErrorCode::kFailedPrecondition, "MountVolume.SetUp failed for volume \"" + volume + "\" : " + message);
}

uint32_t modeAt(const Json& j, const std::string& key, uint32_t fallback) {
  return j.is_object() && j.contains(key) && j[key].is_number_integer() ? j[key].get<uint32_t>() & 07777 : fallback;
}

bool optionalAt(const Json& j) { return j.is_object() && j.contains("optional") && j["optional"].is_boolean() && j["optional"].get<bool>(); }

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Keys of `data` as files, or the listed items; an error for a listed key that is missing.
Result<std::map<std::string, FileContent>> keyedPayload(const std::map<std::string, std::string>& data, const Json& source,
                                                        uint32_t defaultMode, const std::string& what) {
  std::map<std::string, FileContent> out;
  const Json* items = jsonAt(source, {"items"});
  if (!items || !items->is_array() || items->empty()) {
    for (const auto& [k, v] : data) out[k] = {v, defaultMode};
    return out;
  }
  for (const auto& item : *items) {
    const std::string key = jsonString(item, {"key"}), path = jsonString(item, {"path"});
    auto it = data.find(key);
    if (it == data.end()) {
      if (optionalAt(source)) continue;
      return Error(ErrorCode::kFailedPrecondition, what + " references non-existent config key: " + key);
    }
    out[path] = {it->second, modeAt(item, "mode", defaultMode)};
  }
  return out;
}

Result<std::map<std::string, FileContent>> downwardPayload(const Json& pod, const Json& items, uint32_t defaultMode,
                                                           const PodFacts& facts) {
  std::map<std::string, FileContent> out;
  for (const auto& item : items.is_array() ? items : Json::array()) {
    const std::string path = jsonString(item, {"path"});
    const std::string field = jsonString(item, {"fieldRef", "fieldPath"});
    if (field.empty()) {
      return Error(ErrorCode::kFailedPrecondition, "downwardAPI item " + path + ": only fieldRef is supported by the local node");
    }
    std::string value;
    if (field == "metadata.labels" || field == "metadata.annotations") {
      const Json* m = jsonAt(pod, {"metadata", field.substr(9)});
      std::ostringstream s;
      if (m && m->is_object()) {
        for (const auto& [k, v] : m->items()) s << k << "=" << v.dump() << "\n";
      }
      value = s.str();
      if (!value.empty()) value.pop_back();
    } else {
      auto v = fieldRefValue(pod, field, facts);
      if (!v.ok()) return v.error();
      value = *v;
    }
    out[path] = {value, modeAt(item, "mode", defaultMode)};
  }
  return out;
}

void applyReadOnlyOwnership(const fs::path& dir, uint32_t fsGroup) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || S_ISLNK(st.st_mode)) continue;
    (void)!::lchown(it->path().c_str(), static_cast<uid_t>(-1), fsGroup);
    mode_t mode = (st.st_mode & 07777) | 0440;
    if (S_ISDIR(st.st_mode)) mode |= S_ISGID | 0110;
    ::chmod(it->path().c_str(), mode);
  }
  (void)!::lchown(dir.c_str(), static_cast<uid_t>(-1), fsGroup);
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) ::chmod(dir.c_str(), (st.st_mode & 07777) | S_ISGID | 0550);
}

}  // namespace

Result<bool> writeAtomically(const std::string& dirPath, const std::map<std::string, FileContent>& payload,
                             std::optional<uint32_t> fsGroup, Clock& clock) {
  const fs::path dir = dirPath;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return ioError("cannot create " + dir.string() + ": " + ec.message());
  // Unchanged content: nothing to write.
  const fs::path data = dir / "..data";
  std::string current;
  if (fs::is_symlink(data, ec)) current = fs::read_symlink(data, ec).string();
  if (!current.empty()) {
    bool same = true;
    size_t files = 0;
    for (auto it = fs::recursive_directory_iterator(dir / current, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file()) ++files;
    }
    if (files != payload.size()) same = false;
    for (const auto& [path, fc] : payload) {
      if (!same) break;
      const fs::path f = dir / current / path;
      struct stat st {};
      if (::stat(f.c_str(), &st) != 0 || readFile(f) != fc.content) same = false;
      else if (!fsGroup && (st.st_mode & 07777) != fc.mode) same = false;
      else if (fsGroup && (st.st_mode & 07777) != (fc.mode | 0440)) same = false;
    }
    if (same) return false;
  }
  // A new timestamped directory with the payload.
  const auto now = clock.now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm {};
  ::gmtime_r(&t, &tm);
  char stamp[64];
  std::strftime(stamp, sizeof stamp, "..%Y_%m_%d_%H_%M_%S.", &tm);
  const std::string tsName = std::string(stamp) + std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                       now.time_since_epoch()).count() % 1000000000);
  const fs::path ts = dir / tsName;
  fs::create_directories(ts, ec);
  if (ec) return ioError("cannot create " + ts.string() + ": " + ec.message());
  ::chmod(ts.c_str(), 0755);
  for (const auto& [path, fc] : payload) {
    if (path.empty() || path[0] == '/' || path.find("..") != std::string::npos) {
      return invalidArgument("invalid path " + path + " (must be relative and may not contain '..')");
    }
    const fs::path f = ts / path;
    fs::create_directories(f.parent_path(), ec);
    const int fd = ::open(f.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return ioError("cannot write " + f.string() + ": " + std::strerror(errno));
    const bool wrote = ::write(fd, fc.content.data(), fc.content.size()) == static_cast<ssize_t>(fc.content.size());
    ::fchmod(fd, fc.mode);
    ::close(fd);
    if (!wrote) return ioError("cannot write " + f.string());
  }
  if (fsGroup) applyReadOnlyOwnership(ts, *fsGroup);
  // Swap ..data atomically, then the top-level links.
  const fs::path tmp = dir / "..data_tmp";
  fs::remove(tmp, ec);
  fs::create_symlink(tsName, tmp, ec);
  if (ec) return ioError("cannot link " + tmp.string() + ": " + ec.message());
  if (::rename(tmp.c_str(), data.c_str()) != 0) return ioError("cannot swap " + data.string() + ": " + std::strerror(errno));
  std::set<std::string> top;
  for (const auto& [path, fc] : payload) top.insert(path.substr(0, path.find('/')));
  for (const auto& name : top) {
    const fs::path link = dir / name;
    if (!fs::is_symlink(link, ec)) {
      fs::remove_all(link, ec);
      fs::create_symlink(fs::path("..data") / name, link, ec);
      if (ec) return ioError("cannot link " + link.string() + ": " + ec.message());
    }
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == "..data" || name == tsName) continue;
    if (name.rfind("..", 0) == 0) fs::remove_all(entry.path(), ec);
    else if (!top.count(name)) fs::remove_all(entry.path(), ec);
  }
  if (fsGroup) {
    (void)!::lchown(dir.c_str(), static_cast<uid_t>(-1), *fsGroup);
    ::chmod(dir.c_str(), 02755);
  }
  return true;
}

Status setVolumeOwnership(const std::string& dirPath, uint32_t fsGroup, bool onRootMismatch) {
  const fs::path dir = dirPath;
  struct stat root {};
  if (::stat(dir.c_str(), &root) != 0) return ioError("cannot stat " + dir.string() + ": " + std::strerror(errno));
  if (onRootMismatch && root.st_gid == fsGroup && (root.st_mode & (S_ISGID | 0770)) == (S_ISGID | 0770)) return okStatus();
  auto apply = [&](const fs::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) return;
    (void)!::lchown(p.c_str(), static_cast<uid_t>(-1), fsGroup);
    if (S_ISLNK(st.st_mode)) return;
    mode_t mode = (st.st_mode & 07777) | 0660;
    if (S_ISDIR(st.st_mode)) mode |= S_ISGID | 0110;
    ::chmod(p.c_str(), mode);
  };
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) apply(it->path());
  apply(dir);
  return okStatus();
}

bool PodVolumes::mountsServiceAccount(const Json& pod, const Json& container) {
  const Json* automount = jsonAt(pod, {"spec", "automountServiceAccountToken"});
  if (automount && automount->is_boolean() && !automount->get<bool>()) return false;
  if (const Json* mounts = jsonAt(container, {"volumeMounts"}); mounts && mounts->is_array()) {
    for (const auto& m : *mounts) {
      if (jsonString(m, {"mountPath"}) == kServiceAccountMountPath) return false;
    }
  }
  return true;
}

Result<std::map<std::string, FileContent>> PodVolumes::projectedPayload(const Json& pod, const std::string& volume,
                                                                        const Json& sources, uint32_t defaultMode,
                                                                        const VolumeContext& ctx) {
  std::map<std::string, FileContent> out;
  for (const auto& src : sources.is_array() ? sources : Json::array()) {
    if (const Json* s = jsonAt(src, {"secret"})) {
      const std::string name = jsonString(*s, {"name"});
      auto obj = ctx.lookup.secret(name);
      if (!obj) {
        if (optionalAt(*s)) continue;
        return mountError(volume, "secret \"" + name + "\" not found");
      }
      auto p = keyedPayload(secretData(*obj), *s, defaultMode, "secret " + name);
      if (!p.ok()) return mountError(volume, p.error().message);
      out.insert(p->begin(), p->end());
    } else if (const Json* c = jsonAt(src, {"configMap"})) {
      const std::string name = jsonString(*c, {"name"});
      auto obj = ctx.lookup.configMap(name);
      std::map<std::string, std::string> data;
      if (obj) data = configMapData(*obj);
      else if (name == "kube-root-ca.crt") data = {{"ca.crt", ctx.caPem}};
      else if (optionalAt(*c)) continue;
      else return mountError(volume, "configmap \"" + name + "\" not found");
      auto p = keyedPayload(data, *c, defaultMode, "configmap " + name);
      if (!p.ok()) return mountError(volume, p.error().message);
      out.insert(p->begin(), p->end());
    } else if (const Json* d = jsonAt(src, {"downwardAPI"})) {
      auto p = downwardPayload(pod, d->value("items", Json::array()), defaultMode, ctx.facts);
      if (!p.ok()) return mountError(volume, p.error().message);
      out.insert(p->begin(), p->end());
    } else if (const Json* t = jsonAt(src, {"serviceAccountToken"})) {
      const std::string path = jsonString(*t, {"path"});
      const std::string audience = jsonString(*t, {"audience"});
      int64_t seconds = t->contains("expirationSeconds") && (*t)["expirationSeconds"].is_number_integer()
                            ? (*t)["expirationSeconds"].get<int64_t>() : 3600;
      const std::string key = volume + "/" + path;
      const auto now = ctx.clock->now();
      auto it = tokens_.find(key);
      const bool fresh = it != tokens_.end() && now < it->second.issued + (it->second.expiry - it->second.issued) * 8 / 10;
      if (!fresh) {
        auto issued = ctx.token(audience, seconds);
        if (!issued.ok()) return mountError(volume, issued.error().message);
        tokens_[key] = {issued->first, now, issued->second};
      }
      out[path] = {tokens_[key].token, modeAt(*t, "mode", defaultMode)};
    } else {
      return mountError(volume, "a projected source other than secret, configMap, downwardAPI or serviceAccountToken");
    }
  }
  return out;
}

Result<std::map<std::string, PreparedVolume>> PodVolumes::setUp(const Json& pod, const VolumeContext& ctx) {
  std::map<std::string, PreparedVolume> out;
  const Json* podSc = jsonAt(pod, {"spec", "securityContext"});
  std::optional<uint32_t> fsGroup;
  if (podSc && podSc->contains("fsGroup") && (*podSc)["fsGroup"].is_number_integer()) fsGroup = (*podSc)["fsGroup"].get<uint32_t>();
  const bool onRootMismatch = podSc && jsonString(*podSc, {"fsGroupChangePolicy"}) == "OnRootMismatch";
  const fs::path volumesDir = fs::path(ctx.podDir) / "volumes";
  std::error_code ec;
  auto atomic = [&](const std::string& name, const std::string& kind, Result<std::map<std::string, FileContent>> payload)
      -> Status {
    if (!payload.ok()) return payload.error();
    const fs::path dir = volumesDir / kind / name;
    auto wrote = writeAtomically(dir.string(), *payload, fsGroup, *ctx.clock);
    if (!wrote.ok()) return mountError(name, wrote.error().message);
    out[name] = {dir.string(), true};
    return okStatus();
  };
  const Json* volumes = jsonAt(pod, {"spec", "volumes"});
  for (const auto& v : volumes && volumes->is_array() ? *volumes : Json::array()) {
    const std::string name = jsonString(v, {"name"});
    if (const Json* s = jsonAt(v, {"secret"})) {
      const std::string sname = jsonString(*s, {"secretName"});
      auto obj = ctx.lookup.secret(sname);
      if (!obj && !optionalAt(*s)) return mountError(name, "secret \"" + sname + "\" not found");
      auto p = keyedPayload(obj ? secretData(*obj) : std::map<std::string, std::string>{}, *s, modeAt(*s, "defaultMode", 0644),
                            "secret " + sname);
      if (!p.ok()) return mountError(name, p.error().message);
      SDB_TRY(atomic(name, "secret", std::move(p)));
    } else if (const Json* c = jsonAt(v, {"configMap"})) {
      const std::string cname = jsonString(*c, {"name"});
      auto obj = ctx.lookup.configMap(cname);
      if (!obj && !optionalAt(*c)) return mountError(name, "configmap \"" + cname + "\" not found");
      auto p = keyedPayload(obj ? configMapData(*obj) : std::map<std::string, std::string>{}, *c, modeAt(*c, "defaultMode", 0644),
                            "configmap " + cname);
      if (!p.ok()) return mountError(name, p.error().message);
      SDB_TRY(atomic(name, "configmap", std::move(p)));
    } else if (const Json* d = jsonAt(v, {"downwardAPI"})) {
      auto p = downwardPayload(pod, d->value("items", Json::array()), modeAt(*d, "defaultMode", 0644), ctx.facts);
      if (!p.ok()) return mountError(name, p.error().message);
      SDB_TRY(atomic(name, "downward-api", std::move(p)));
    } else if (const Json* p = jsonAt(v, {"projected"})) {
      SDB_TRY(atomic(name, "projected", projectedPayload(pod, name, p->value("sources", Json::array()), modeAt(*p, "defaultMode", 0644), ctx)));
    } else if (jsonAt(v, {"emptyDir"})) {
      const fs::path dir = volumesDir / "empty-dir" / name;
      if (!fs::exists(dir)) {
        fs::create_directories(dir, ec);
        if (ec) return mountError(name, ec.message());
        ::chmod(dir.c_str(), 0777);
      }
      if (fsGroup) SDB_TRY(setVolumeOwnership(dir.string(), *fsGroup, false));
      out[name] = {dir.string(), false};
    } else if (const Json* pvc = jsonAt(v, {"persistentVolumeClaim"})) {
      const std::string claimName = jsonString(*pvc, {"claimName"});
      auto claim = ctx.claim(claimName);
      if (!claim) return mountError(name, "persistentvolumeclaim \"" + claimName + "\" not found");
      const std::string uid = jsonString(*claim, {"metadata", "uid"});
      const fs::path dir = fs::path(ctx.pvcRoot) / ("pvc-" + uid);
      if (!fs::exists(dir)) {
        fs::create_directories(dir, ec);
        if (ec) return mountError(name, ec.message());
        ::chmod(dir.c_str(), 0777);
      }
      if (fsGroup) SDB_TRY(setVolumeOwnership(dir.string(), *fsGroup, onRootMismatch));
      const bool ro = pvc->contains("readOnly") && (*pvc)["readOnly"].is_boolean() && (*pvc)["readOnly"].get<bool>();
      out[name] = {dir.string(), ro};
    } else if (const Json* hp = jsonAt(v, {"hostPath"})) {
      const std::string path = jsonString(*hp, {"path"}), type = jsonString(*hp, {"type"});
      if (type == "DirectoryOrCreate" && !fs::exists(path)) {
        fs::create_directories(path, ec);
        ::chmod(path.c_str(), 0755);
      } else if (type == "FileOrCreate" && !fs::exists(path)) {
        std::ofstream(path).close();
      }
      if (!fs::exists(path)) return mountError(name, "hostPath type check failed: " + path + " does not exist");
      out[name] = {path, false};
    } else {
      return mountError(name, "this volume type is not supported by the local node (e2e/README.md lists the supported ones)");
    }
  }
  // The implicit ServiceAccount volume, as the ServiceAccount admission plugin would add it.
  bool anyMounts = false;
  for (const char* kind : {"containers", "initContainers"}) {
    const Json* cs = jsonAt(pod, {"spec", kind});
    for (const auto& c : cs && cs->is_array() ? *cs : Json::array()) anyMounts = anyMounts || mountsServiceAccount(pod, c);
  }
  if (anyMounts) {
    const Json sources = Json::array(
        {{{"serviceAccountToken", {{"expirationSeconds", 3607}, {"path", "token"}}}},
         {{"configMap", {{"name", "kube-root-ca.crt"}, {"items", {{{"key", "ca.crt"}, {"path", "ca.crt"}}}}}}},
         {{"downwardAPI", {{"items", {{{"path", "namespace"}, {"fieldRef", {{"apiVersion", "v1"}, {"fieldPath", "metadata.namespace"}}}}}}}}}});
    SDB_TRY(atomic(kServiceAccountVolume, "projected", projectedPayload(pod, kServiceAccountVolume, sources, 0644, ctx)));
  }
  return out;
}

}  // namespace sdb::kubelet
