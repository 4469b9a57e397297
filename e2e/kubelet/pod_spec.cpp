#include "e2e/kubelet/pod_spec.h"

#include <set>
#include <sstream>

#include "operator/backup/crypto_util.h"

namespace sdb::kubelet {

namespace {

Error configError(const std::string& message) { return Error(ErrorCode::kFailedPrecondition, message); }

bool boolAt(const Json& j, const std::string& key, bool fallback = false) {
  return j.is_object() && j.contains(key) && j[key].is_boolean() ? j[key].get<bool>() : fallback;
}

std::optional<int64_t> intAt(const Json* j, const std::string& key) {
  if (!j || !j->is_object() || !j->contains(key) || !(*j)[key].is_number_integer()) return std::nullopt;
  return (*j)[key].get<int64_t>();
}

std::vector<std::string> strings(const Json* j) {
  std::vector<std::string> out;
  if (!j || !j->is_array()) return out;
  for (const auto& s : *j) out.push_back(s.is_string() ? s.get<std::string>() : s.dump());
  return out;
}

bool validEnvName(const std::string& n) {
  if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) return false;
  for (char c : n) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

std::string podRef(const Json& pod) {
  return "\"" + jsonString(pod, {"metadata", "name"}) + "_" + jsonString(pod, {"metadata", "namespace"}) + "(" +
         jsonString(pod, {"metadata", "uid"}) + ")\"";
}

// The primary gid of `uid` as /etc/passwd says (the image's users first), 0 when unknown.
uint32_t primaryGid(uint32_t uid, const Image& image, const std::string& hostPasswd) {
  for (const auto& u : image.users) {
    if (u.uid == uid) return u.gid;
  }
  if (uid == image.uid) return image.gid;
  std::istringstream in(hostPasswd);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    std::string part;
    while (std::getline(ls, part, ':')) f.push_back(part);
    if (f.size() >= 4 && f[2] == std::to_string(uid)) return static_cast<uint32_t>(std::stoul(f[3]));
  }
  return 0;
}

}  // namespace

std::map<std::string, std::string> secretData(const Json& secret) {
  std::map<std::string, std::string> out;
  if (const Json* d = jsonAt(secret, {"data"}); d && d->is_object()) {
    for (const auto& [k, v] : d->items()) {
      if (!v.is_string()) continue;
      auto raw = backup::crypto::fromBase64(v.get<std::string>());
      if (raw.ok()) out[k] = std::string(raw->begin(), raw->end());
    }
  }
  return out;
}

std::map<std::string, std::string> configMapData(const Json& cm) {
  std::map<std::string, std::string> out;
  if (const Json* d = jsonAt(cm, {"data"}); d && d->is_object()) {
    for (const auto& [k, v] : d->items()) {
      if (v.is_string()) out[k] = v.get<std::string>();
    }
  }
  if (const Json* d = jsonAt(cm, {"binaryData"}); d && d->is_object()) {
    for (const auto& [k, v] : d->items()) {
      if (!v.is_string()) continue;
      auto raw = backup::crypto::fromBase64(v.get<std::string>());
      if (raw.ok()) out[k] = std::string(raw->begin(), raw->end());
    }
  }
  return out;
}

Result<std::string> fieldRefValue(const Json& pod, const std::string& path, const PodFacts& facts) {
  auto mapEntry = [&](const std::string& prefix, const std::string& field) -> std::optional<std::string> {
    if (path.rfind(prefix + "['", 0) != 0 || path.size() < prefix.size() + 4 || path.substr(path.size() - 2) != "']") return std::nullopt;
    const std::string key = path.substr(prefix.size() + 2, path.size() - prefix.size() - 4);
    return jsonString(pod, {"metadata", field, key});
  };
  if (path == "metadata.name") return jsonString(pod, {"metadata", "name"});
  if (path == "metadata.namespace") return jsonString(pod, {"metadata", "namespace"});
  if (path == "metadata.uid") return jsonString(pod, {"metadata", "uid"});
  if (auto v = mapEntry("metadata.labels", "labels")) return *v;
  if (auto v = mapEntry("metadata.annotations", "annotations")) return *v;
  if (path == "spec.nodeName") return facts.nodeName;
  if (path == "spec.serviceAccountName") return jsonString(pod, {"spec", "serviceAccountName"}, "default");
  if (path == "status.hostIP" || path == "status.hostIPs") return facts.hostIP;
  if (path == "status.podIP" || path == "status.podIPs") return facts.podIP;
  return configError("unsupported fieldPath \"" + path + "\" (the local node supports metadata.name, namespace, uid, labels, "
                     "annotations, spec.nodeName, spec.serviceAccountName, status.hostIP and status.podIP)");
}

std::string expandReferences(const std::string& in, const std::map<std::string, std::string>& vars) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '$' && i + 1 < in.size() && in[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    if (in[i] == '$' && i + 1 < in.size() && in[i + 1] == '(') {
      const auto close = in.find(')', i + 2);
      if (close != std::string::npos) {
        const std::string name = in.substr(i + 2, close - i - 2);
        auto it = vars.find(name);
        if (it != vars.end()) {
          out += it->second;
          i = close;
          continue;
        }
      }
    }
    out.push_back(in[i]);
  }
  return out;
}

Result<ResolvedContainer> resolveContainer(const Json& pod, const Json& c, const Image& image, const ObjectLookup& lookup,
                                           const PodFacts& facts) {
  ResolvedContainer r;
  const std::string ns = jsonString(pod, {"metadata", "namespace"});
  const std::string cname = jsonString(c, {"name"});
  // Environment: envFrom, then env (later wins); $(VAR) refers to what is defined before.
  std::vector<std::pair<std::string, std::string>> defined;
  std::map<std::string, std::string> values;
  auto define = [&](const std::string& k, const std::string& v) {
    if (!values.count(k)) defined.push_back({k, v});
    else {
      for (auto& [dk, dv] : defined) {
        if (dk == k) dv = v;
      }
    }
    values[k] = v;
  };
  if (const Json* from = jsonAt(c, {"envFrom"}); from && from->is_array()) {
    for (const auto& src : *from) {
      const std::string prefix = jsonString(src, {"prefix"});
      const bool isSecret = src.contains("secretRef");
      const Json ref = isSecret ? src["secretRef"] : src.value("configMapRef", Json::object());
      const std::string name = jsonString(ref, {"name"});
      auto obj = isSecret ? lookup.secret(name) : lookup.configMap(name);
      if (!obj) {
        if (boolAt(ref, "optional")) continue;
        return configError(std::string(isSecret ? "secret" : "configmap") + " \"" + name + "\" not found");
      }
      for (const auto& [k, v] : isSecret ? secretData(*obj) : configMapData(*obj)) {
        if (validEnvName(prefix + k)) define(prefix + k, v);
      }
    }
  }
  if (const Json* env = jsonAt(c, {"env"}); env && env->is_array()) {
    for (const auto& e : *env) {
      const std::string name = jsonString(e, {"name"});
      if (e.contains("value") && e["value"].is_string()) {
        define(name, expandReferences(e["value"].get<std::string>(), values));
        continue;
      }
      const Json* from = jsonAt(e, {"valueFrom"});
      if (!from) {
        define(name, "");
        continue;
      }
      if (const Json* ref = jsonAt(*from, {"secretKeyRef"})) {
        const std::string sname = jsonString(*ref, {"name"}), key = jsonString(*ref, {"key"});
        auto s = lookup.secret(sname);
        if (!s) {
          if (boolAt(*ref, "optional")) continue;
          return configError("secret \"" + sname + "\" not found");
        }
        auto data = secretData(*s);
        if (!data.count(key)) {
          if (boolAt(*ref, "optional")) continue;
          return configError("couldn't find key " + key + " in Secret " + ns + "/" + sname);
        }
        define(name, data[key]);
      } else if (const Json* cref = jsonAt(*from, {"configMapKeyRef"})) {
        const std::string cmname = jsonString(*cref, {"name"}), key = jsonString(*cref, {"key"});
        auto cm = lookup.configMap(cmname);
        if (!cm) {
          if (boolAt(*cref, "optional")) continue;
          return configError("configmap \"" + cmname + "\" not found");
        }
        auto data = configMapData(*cm);
        if (!data.count(key)) {
          if (boolAt(*cref, "optional")) continue;
          return configError("couldn't find key " + key + " in ConfigMap " + ns + "/" + cmname);
        }
        define(name, data[key]);
      } else if (const Json* fref = jsonAt(*from, {"fieldRef"})) {
        auto v = fieldRefValue(pod, jsonString(*fref, {"fieldPath"}), facts);
        if (!v.ok()) return v.error();
        define(name, *v);
      } else {
        return configError("env " + name + ": valueFrom.resourceFieldRef is not supported by the local node");
      }
    }
  }
  for (const auto& [k, v] : facts.serviceEnv) {
    if (!values.count(k)) define(k, v);
  }
  // Image ENV under the container's.
  for (const auto& [k, v] : image.env) {
    if (!values.count(k)) r.env.push_back({k, v});
  }
  for (const auto& [k, v] : image.env) values.emplace(k, v);
  r.env.insert(r.env.end(), defined.begin(), defined.end());

  // argv: command replaces ENTRYPOINT (and drops CMD); args replace CMD.
  const Json* command = jsonAt(c, {"command"});
  const Json* args = jsonAt(c, {"args"});
  std::vector<std::string> argv;
  if (command && command->is_array() && !command->empty()) {
    argv = strings(command);
    for (const auto& a : strings(args)) argv.push_back(a);
  } else {
    argv = image.entrypoint;
    const auto tail = args && args->is_array() && !args->empty() ? strings(args) : image.cmd;
    argv.insert(argv.end(), tail.begin(), tail.end());
  }
  for (auto& a : argv) a = expandReferences(a, values);
  if (argv.empty()) return configError("no command specified");
  r.argv = argv;

  // Identity.
  const Json* podSc = jsonAt(pod, {"spec", "securityContext"});
  const Json* sc = jsonAt(c, {"securityContext"});
  const auto runAsUser = intAt(sc, "runAsUser") ? intAt(sc, "runAsUser") : intAt(podSc, "runAsUser");
  const auto runAsGroup = intAt(sc, "runAsGroup") ? intAt(sc, "runAsGroup") : intAt(podSc, "runAsGroup");
  r.uid = runAsUser ? static_cast<uint32_t>(*runAsUser) : image.uid;
  r.gid = runAsGroup ? static_cast<uint32_t>(*runAsGroup) : runAsUser ? primaryGid(r.uid, image, "") : image.gid;
  bool runAsNonRoot = false;
  if (sc && sc->contains("runAsNonRoot") && (*sc)["runAsNonRoot"].is_boolean()) runAsNonRoot = (*sc)["runAsNonRoot"].get<bool>();
  else if (podSc && podSc->contains("runAsNonRoot") && (*podSc)["runAsNonRoot"].is_boolean()) runAsNonRoot = (*podSc)["runAsNonRoot"].get<bool>();
  if (runAsNonRoot && r.uid == 0) {
    if (runAsUser) {
      return configError("container's runAsUser breaks non-root policy (pod: " + podRef(pod) + ", container: " + cname + ")");
    }
    return configError("container has runAsNonRoot and image will run as root (pod: " + podRef(pod) + ", container: " + cname + ")");
  }
  std::set<uint32_t> groups = {r.gid};
  if (const auto fsGroup = intAt(podSc, "fsGroup")) groups.insert(static_cast<uint32_t>(*fsGroup));
  if (const Json* sup = podSc ? jsonAt(*podSc, {"supplementalGroups"}) : nullptr; sup && sup->is_array()) {
    for (const auto& g : *sup) {
      if (g.is_number_integer()) groups.insert(g.get<uint32_t>());
    }
  }
  r.groups.assign(groups.begin(), groups.end());
  r.workingDir = jsonString(c, {"workingDir"});
  if (r.workingDir.empty()) r.workingDir = image.workingDir;
  r.readOnlyRootFilesystem = sc && boolAt(*sc, "readOnlyRootFilesystem");
  r.noNewPrivileges = sc && sc->contains("allowPrivilegeEscalation") && !boolAt(*sc, "allowPrivilegeEscalation", true);
  return r;
}

namespace {

std::vector<std::vector<std::string>> colonLines(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    size_t start = 0;
    while (true) {
      const auto colon = line.find(':', start);
      f.push_back(line.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    out.push_back(f);
  }
  return out;
}

std::string join(const std::vector<std::string>& f) {
  std::string s;
  for (size_t i = 0; i < f.size(); ++i) s += (i ? ":" : "") + f[i];
  return s;
}

}  // namespace

std::string containerPasswd(const std::string& hostPasswd, const Image& image, uint32_t uid, uint32_t gid) {
  std::set<std::string> names;
  std::set<uint32_t> uids;
  for (const auto& u : image.users) {
    names.insert(u.name);
    uids.insert(u.uid);
  }
  std::ostringstream out;
  for (const auto& f : colonLines(hostPasswd)) {
    if (f.size() < 7) continue;
    if (names.count(f[0]) || uids.count(static_cast<uint32_t>(std::stoul(f[2])))) continue;
    uids.insert(static_cast<uint32_t>(std::stoul(f[2])));
    out << join(f) << "\n";
  }
  for (const auto& u : image.users) {
    out << u.name << ":x:" << u.uid << ":" << u.gid << "::" << u.home << ":" << u.shell << "\n";
  }
  if (!uids.count(uid)) out << "uid" << uid << ":x:" << uid << ":" << gid << "::/:/usr/sbin/nologin\n";
  return out.str();
}

std::string containerGroup(const std::string& hostGroup, const Image& image, const std::vector<uint32_t>& gids) {
  std::set<std::string> names;
  std::set<uint32_t> have;
  for (const auto& u : image.users) {
    names.insert(u.name);
    have.insert(u.gid);
  }
  std::ostringstream out;
  for (const auto& f : colonLines(hostGroup)) {
    if (f.size() < 3) continue;
    if (names.count(f[0]) || have.count(static_cast<uint32_t>(std::stoul(f[2])))) continue;
    have.insert(static_cast<uint32_t>(std::stoul(f[2])));
    out << join(f) << "\n";
  }
  for (const auto& u : image.users) out << u.name << ":x:" << u.gid << ":\n";
  for (uint32_t g : gids) {
    if (have.insert(g).second) out << "gid" << g << ":x:" << g << ":\n";
  }
  return out.str();
}

}  // namespace sdb::kubelet
