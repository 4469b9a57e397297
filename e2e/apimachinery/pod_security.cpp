#include "e2e/apimachinery/pod_security.h"

#include <functional>
#include <set>

namespace sdb::apimachinery {

namespace {

using Check = std::function<std::optional<PodSecurityViolation>(const Json& spec)>;

std::string pluralize(const char* one, const char* many, size_t n) { return n == 1 ? one : many; }

template <class C>
std::string joinQuote(const C& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + Json(s).dump();
  return out;
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

const Json* at(const Json& o, std::initializer_list<const char*> path) {
  const Json* cur = &o;
  for (const char* k : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(k);
    if (it == cur->end() || it->is_null()) return nullptr;
    cur = &*it;
  }
  return cur;
}

bool isTrue(const Json* v) { return v && v->is_boolean() && v->get<bool>(); }
bool isFalse(const Json* v) { return v && v->is_boolean() && !v->get<bool>(); }

// The pod's containers as the library visits them: init containers, containers, ephemeral ones.
void visitContainers(const Json& spec, const std::function<void(const Json&, const std::string&)>& visit) {
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    if (const Json* cs = at(spec, {list}); cs && cs->is_array()) {
      for (const auto& c : *cs) visit(c, c.value("name", ""));
    }
  }
}

std::string containers(const std::vector<std::string>& names) {
  return pluralize("container", "containers", names.size()) + " " + joinQuote(names);
}

std::optional<PodSecurityViolation> hostNamespaces(const Json& spec) {
  std::vector<std::string> found;  // sorted, as sets.String.List() is
  for (const char* f : {"hostIPC", "hostNetwork", "hostPID"}) {
    if (isTrue(at(spec, {f}))) found.push_back(f);
  }
  if (found.empty()) return std::nullopt;
  return PodSecurityViolation{"host namespaces", join(found, ", ")};
}

std::optional<PodSecurityViolation> hostPathVolumes(const Json& spec) {
  std::vector<std::string> names;
  if (const Json* vs = at(spec, {"volumes"}); vs && vs->is_array()) {
    for (const auto& v : *vs) {
      if (at(v, {"hostPath"})) names.push_back(v.value("name", ""));
    }
  }
  if (names.empty()) return std::nullopt;
  return PodSecurityViolation{"hostPath volumes", pluralize("volume", "volumes", names.size()) + " " + joinQuote(names)};
}

std::optional<PodSecurityViolation> hostPorts(const Json& spec) {
  std::vector<std::string> bad;
  std::set<std::string> ports;
  visitContainers(spec, [&](const Json& c, const std::string& name) {
    bool ok = true;
    if (const Json* ps = at(c, {"ports"}); ps && ps->is_array()) {
      for (const auto& p : *ps) {
        const Json* hp = at(p, {"hostPort"});
        if (hp && hp->is_number_integer() && hp->get<int64_t>() != 0) {
          ok = false;
          ports.insert(std::to_string(hp->get<int64_t>()));
        }
      }
    }
    if (!ok) bad.push_back(name);
  });
  if (bad.empty()) return std::nullopt;
  return PodSecurityViolation{"hostPort", containers(bad) + " " + pluralize("uses", "use", bad.size()) + " " +
                                              pluralize("hostPort", "hostPorts", ports.size()) + " " +
                                              join({ports.begin(), ports.end()}, ", ")};
}

std::optional<PodSecurityViolation> privileged(const Json& spec) {
  std::vector<std::string> bad;
  visitContainers(spec, [&](const Json& c, const std::string& name) {
    if (isTrue(at(c, {"securityContext", "privileged"}))) bad.push_back(name);
  });
  if (bad.empty()) return std::nullopt;
  return PodSecurityViolation{"privileged", containers(bad) + " must not set securityContext.privileged=true"};
}

std::optional<PodSecurityViolation> capabilitiesBaseline(const Json& spec) {
  static const std::set<std::string> allowed = {"AUDIT_WRITE", "CHOWN",  "DAC_OVERRIDE", "FOWNER", "FSETID",
                                                "KILL",        "MKNOD",  "NET_BIND_SERVICE", "SETFCAP", "SETGID",
                                                "SETPCAP",     "SETUID", "SYS_CHROOT"};
  std::vector<std::string> bad;
  std::set<std::string> caps;
  visitContainers(spec, [&](const Json& c, const std::string& name) {
    bool ok = true;
    if (const Json* add = at(c, {"securityContext", "capabilities", "add"}); add && add->is_array()) {
      for (const auto& cap : *add) {
        if (cap.is_string() && !allowed.count(cap.get<std::string>())) ok = false, caps.insert(cap.get<std::string>());
      }
    }
    if (!ok) bad.push_back(name);
  });
  if (bad.empty()) return std::nullopt;
  return PodSecurityViolation{"non-default capabilities",
                              containers(bad) + " must not include " + joinQuote(caps) + " in securityContext.capabilities.add"};
}

// Shared by the seccomp checks: who sets a type outside `valid`, and who leaves it unset without a
// valid pod-level type.
std::optional<PodSecurityViolation> seccomp(const Json& spec, bool restricted) {
  auto validType = [&](const std::string& t) {
    return restricted ? (t == "RuntimeDefault" || t == "Localhost") : t != "Unconfined";
  };
  std::vector<std::string> setters;
  std::set<std::string> values;
  bool podSet = false;
  if (const Json* t = at(spec, {"securityContext", "seccompProfile"})) {
    const std::string type = t->value("type", "");
    if (!validType(type)) setters.push_back("pod"), values.insert(type);
    else podSet = true;
  }
  std::vector<std::string> explicitBad, implicitBad;
  visitContainers(spec, [&](const Json& c, const std::string& name) {
    if (const Json* t = at(c, {"securityContext", "seccompProfile"})) {
      const std::string type = t->value("type", "");
      if (!validType(type)) explicitBad.push_back(name), values.insert(type);
    } else if (!podSet) {
      implicitBad.push_back(name);
    }
  });
  if (!explicitBad.empty()) setters.push_back(containers(explicitBad));
  if (!setters.empty()) {
    return PodSecurityViolation{"seccompProfile", join(setters, " and ") + " must not set securityContext.seccompProfile.type to " +
                                                      joinQuote(values)};
  }
  if (restricted && !implicitBad.empty()) {
    return PodSecurityViolation{"seccompProfile", "pod or " + containers(implicitBad) +
                                                      " must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\""};
  }
  return std::nullopt;
}

std::optional<PodSecurityViolation> allowPrivilegeEscalation(const Json& spec) {
  std::vector<std::string> bad;
  visitContainers(spec, [&](const Json& c, const std::string& name) {
    if (!isFalse(at(c, {"securityContext", "allowPrivilegeEscalation"}))) bad.push_back(name);
  });
  if (bad.empty()) return std::nullopt;
  return PodSecurityViolation{"allowPrivilegeEscalation != false",
                              containers(bad) + " must set securityContext.allowPrivilegeEscalation=false"};
}

std::optional<PodSecurityViolation> capabilitiesRestricted(const Json& spec) {
  std::vector<std::string> missingDrop, adding;
  std::set<std::string> caps;
  visitContainers(spec, [&](const Json& c, const std::string& name) {
    const Json* capabilities = at(c, {"securityContext", "capabilities"});
    if (!capabilities) {
      missingDrop.push_back(name);
      return;
    }
    bool dropAll = false, added = false;
    if (const Json* d = at(*capabilities, {"drop"}); d && d->is_array()) {
      for (const auto& cap : *d) dropAll = dropAll || cap == "ALL";
    }
    if (const Json* a = at(*capabilities, {"add"}); a && a->is_array()) {
      for (const auto& cap : *a) {
        if (cap.is_string() && cap != "NET_BIND_SERVICE") added = true, caps.insert(cap.get<std::string>());
      }
    }
    if (!dropAll) missingDrop.push_back(name);
    if (added) adding.push_back(name);
  });
  std::vector<std::string> details;
  if (!missingDrop.empty()) details.push_back(containers(missingDrop) + " must set securityContext.capabilities.drop=[\"ALL\"]");
  if (!adding.empty()) {
    details.push_back(containers(adding) + " must not include " + joinQuote(caps) + " in securityContext.capabilities.add");
  }
  if (details.empty()) return std::nullopt;
  return PodSecurityViolation{"unrestricted capabilities", join(details, "; ")};
}

std::optional<PodSecurityViolation> restrictedVolumes(const Json& spec) {
  static const std::set<std::string> allowed = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                                                "persistentVolumeClaim", "projected", "secret"};
  std::vector<std::string> bad;
  std::set<std::string> types;
  if (const Json* vs = at(spec, {"volumes"}); vs && vs->is_array()) {
    for (const auto& v : *vs) {
      std::string type = "unknown";
      bool ok = false;
      for (auto it = v.begin(); v.is_object() && it != v.end(); ++it) {
        if (it.key() == "name" || it->is_null()) continue;
        if (allowed.count(it.key())) ok = true;
        else type = it.key();
      }
      if (!ok) bad.push_back(v.value("name", "")), types.insert(type);
    }
  }
  if (bad.empty()) return std::nullopt;
  return PodSecurityViolation{"restricted volume types",
                              pluralize("volume", "volumes", bad.size()) + " " + joinQuote(bad) + " " +
                                  pluralize("uses", "use", bad.size()) + " " +
                                  pluralize("restricted volume type", "restricted volume types", types.size()) + " " +
                                  joinQuote(types)};
}

// KEP-127: pods in a user namespace (hostUsers: false) may run as root inside it.
bool userNamespacePod(const Json& spec) { return isFalse(at(spec, {"hostUsers"})); }

std::optional<PodSecurityViolation> runAsNonRoot(const Json& spec) {
  if (userNamespacePod(spec)) return std::nullopt;
  std::vector<std::string> setters, explicitBad, implicitBad;
  bool podNonRoot = false;
  if (const Json* v = at(spec, {"securityContext", "runAsNonRoot"})) {
    if (isFalse(v)) setters.push_back("pod");
    else podNonRoot = true;
  }
  visitContainers(spec, [&](const Json& c, const std::string& name) {
    if (const Json* v = at(c, {"securityContext", "runAsNonRoot"})) {
      if (isFalse(v)) explicitBad.push_back(name);
    } else if (!podNonRoot) {
      implicitBad.push_back(name);
    }
  });
  if (!explicitBad.empty()) setters.push_back(containers(explicitBad));
  if (!setters.empty()) {
    return PodSecurityViolation{"runAsNonRoot != true", join(setters, " and ") + " must not set securityContext.runAsNonRoot=false"};
  }
  if (!implicitBad.empty()) {
    return PodSecurityViolation{"runAsNonRoot != true",
                                "pod or " + containers(implicitBad) + " must set securityContext.runAsNonRoot=true"};
  }
  return std::nullopt;
}

std::optional<PodSecurityViolation> runAsUser(const Json& spec) {
  if (userNamespacePod(spec)) return std::nullopt;
  auto root = [](const Json* v) { return v && v->is_number_integer() && v->get<int64_t>() == 0; };
  std::vector<std::string> setters, bad;
  if (root(at(spec, {"securityContext", "runAsUser"}))) setters.push_back("pod");
  visitContainers(spec, [&](const Json& c, const std::string& name) {
    if (root(at(c, {"securityContext", "runAsUser"}))) bad.push_back(name);
  });
  if (!bad.empty()) setters.push_back(containers(bad));
  if (setters.empty()) return std::nullopt;
  return PodSecurityViolation{"runAsUser=0", join(setters, " and ") + " must not set runAsUser=0"};
}

PodSecurityLevel parseLevel(const std::string& v) {
  if (v == "privileged") return PodSecurityLevel::kPrivileged;
  if (v == "baseline") return PodSecurityLevel::kBaseline;
  return PodSecurityLevel::kRestricted;  // "restricted", and invalid values fail closed
}

const char* levelName(PodSecurityLevel l) {
  return l == PodSecurityLevel::kPrivileged ? "privileged" : l == PodSecurityLevel::kBaseline ? "baseline" : "restricted";
}

// The pod template of a workload kind, or the pod itself.
const Json* podSpecOf(const ResourceInfo& info, const Json& obj, bool& isPod) {
  const std::string& r = info.ref.resource;
  isPod = info.ref.group.empty() && r == "pods";
  if (isPod) return at(obj, {"spec"});
  if (r == "cronjobs" && info.ref.group == "batch") return at(obj, {"spec", "jobTemplate", "spec", "template", "spec"});
  const bool workload = (info.ref.group == "apps" && (r == "deployments" || r == "replicasets" || r == "statefulsets" ||
                                                      r == "daemonsets")) ||
                        (info.ref.group == "batch" && r == "jobs") || (info.ref.group.empty() && r == "replicationcontrollers");
  return workload ? at(obj, {"spec", "template", "spec"}) : nullptr;
}

}  // namespace

std::vector<PodSecurityViolation> evaluatePodSecurity(PodSecurityLevel level, const Json& spec) {
  if (level == PodSecurityLevel::kPrivileged) return {};
  // The library's order: baseline checks (by file name), the baseline checks that restricted ones
  // replace (baseline level only), then the restricted checks.
  std::vector<Check> checks = {hostNamespaces, hostPorts, privileged};
  if (level == PodSecurityLevel::kBaseline) {
    checks.insert(checks.end(), {capabilitiesBaseline, hostPathVolumes, [](const Json& s) { return seccomp(s, false); }});
  } else {
    checks.insert(checks.end(), {allowPrivilegeEscalation, capabilitiesRestricted, restrictedVolumes, runAsNonRoot,
                                 runAsUser, [](const Json& s) { return seccomp(s, true); }});
  }
  std::vector<PodSecurityViolation> out;
  for (const auto& check : checks) {
    if (auto v = check(spec)) out.push_back(std::move(*v));
  }
  return out;
}

std::string formatViolations(const std::vector<PodSecurityViolation>& violations) {
  std::string out;
  for (size_t i = 0; i < violations.size(); ++i) {
    out += (i ? ", " : "") + violations[i].reason;
    if (!violations[i].detail.empty()) out += " (" + violations[i].detail + ")";
  }
  return out;
}

PodSecurityAdmission admitPodSecurity(const ResourceInfo& info, const Json& obj, const Json& ns) {
  PodSecurityAdmission out;
  const Json* labels = at(ns, {"metadata", "labels"});
  if (!labels || !labels->is_object()) return out;
  const std::string prefix = "pod-security.kubernetes.io/";
  auto label = [&](const std::string& key) { return labels->value(prefix + key, ""); };
  const std::string enforceLabel = label("enforce"), warnLabel = label("warn");
  if (enforceLabel.empty() && warnLabel.empty()) return out;
  bool isPod = false;
  const Json* spec = podSpecOf(info, obj, isPod);
  if (!spec) return out;
  auto version = [&](const std::string& key) {
    const std::string v = label(key + "-version");
    return v.empty() ? std::string("latest") : v;
  };
  const PodSecurityLevel enforce = enforceLabel.empty() ? PodSecurityLevel::kPrivileged : parseLevel(enforceLabel);
  const std::string enforceName = std::string(levelName(enforce)) + ":" + version("enforce");
  if (isPod && enforce != PodSecurityLevel::kPrivileged) {
    auto violations = evaluatePodSecurity(enforce, *spec);
    if (!violations.empty()) {
      kube::ApiError e = kube::fromHttpResponse(403, "");
      e.reason = kube::ApiErrorReason::kForbidden;
      e.httpCode = 403;
      const std::string name = jsonString(obj, {"metadata", "name"});
      e.message = "pods \"" + name + "\" is forbidden: violates PodSecurity \"" + enforceName + "\": " + formatViolations(violations);
      e.name = name;
      e.kind = "pods";
      out.denied = std::move(e);
      return out;
    }
  }
  // warn defaults to the enforce level and version.
  const PodSecurityLevel warn = warnLabel.empty() ? enforce : parseLevel(warnLabel);
  const std::string warnName =
      warnLabel.empty() ? enforceName : std::string(levelName(warn)) + ":" + version("warn");
  auto violations = evaluatePodSecurity(warn, *spec);
  if (!violations.empty()) out.warnings.push_back("would violate PodSecurity \"" + warnName + "\": " + formatViolations(violations));
  return out;
}

}  // namespace sdb::apimachinery
