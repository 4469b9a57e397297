#include "operator/specs/instance.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>

#include "operator/core/base64.h"
#include "operator/core/hash.h"

namespace sdb::specs {

namespace {

bool isDns1035Label(const std::string& s) {
  if (s.empty() || s.size() > 63 || !std::islower(static_cast<unsigned char>(s.front()))) return false;
  if (s.back() == '-') return false;
  for (char c : s) {
    if (!std::islower(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

std::string instanceBase(const ServiceDatabase& sdb) {
  const std::string engine = engineImageName(sdb.engine);
  std::string plain = sdb.name + "-" + engine;
  if (plain.size() <= kMaxInstanceBase && isDns1035Label(plain)) return plain;
  const std::string hash = sha256Hex(sdb.name + "/" + engine, 10);
  std::string cut;
  for (char c : sdb.name) cut.push_back(c == '.' ? '-' : c);
  if (cut.empty() || !std::islower(static_cast<unsigned char>(cut.front()))) cut = "db-" + cut;
  cut.resize(std::min(cut.size(), kMaxInstanceBase - hash.size() - 1));
  while (!cut.empty() && cut.back() == '-') cut.pop_back();
  return cut + "-" + hash;
}

// A decimal quantity's digits as an integer with a decimal and a binary exponent.
struct ParsedQuantity {
  unsigned __int128 mantissa = 0;
  int decimalExponent = 0;
  int binaryExponent = 0;
};

Result<ParsedQuantity> parseQuantity(const std::string& q, const std::string& field) {
  auto malformed = [&] {
    return invalidArgument(field + ": \"" + q + "\" is not a quantity (such as 512Mi, 1Gi, 1.5G or 500m)");
  };
  size_t i = 0;
  if (!q.empty() && q[0] == '-') return invalidArgument(field + ": " + q + " must not be negative");
  if (!q.empty() && q[0] == '+') ++i;
  std::string whole, fraction;
  while (i < q.size() && std::isdigit(static_cast<unsigned char>(q[i]))) whole.push_back(q[i++]);
  if (i < q.size() && q[i] == '.') {
    ++i;
    while (i < q.size() && std::isdigit(static_cast<unsigned char>(q[i]))) fraction.push_back(q[i++]);
  }
  if (whole.empty() && fraction.empty()) return malformed();
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  ParsedQuantity p;
  p.decimalExponent = -static_cast<int>(fraction.size());
  for (char c : whole + fraction) {
    if (__builtin_mul_overflow(p.mantissa, 10u, &p.mantissa) ||
        __builtin_add_overflow(p.mantissa, static_cast<unsigned>(c - '0'), &p.mantissa)) {
      return invalidArgument(field + ": " + q + " is too large");
    }
  }
  const std::string suffix = q.substr(i);
  static const std::pair<const char*, int> kBinary[] = {{"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  static const std::pair<const char*, int> kDecimal[] = {{"n", -9}, {"u", -6}, {"m", -3}, {"", 0}, {"k", 3},
                                                         {"M", 6},  {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18}};
  for (const auto& [s, e] : kBinary) {
    if (suffix == s) {
      p.binaryExponent = e;
      return p;
    }
  }
  for (const auto& [s, e] : kDecimal) {
    if (suffix == s) {
      p.decimalExponent += e;
      return p;
    }
  }
  if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    size_t j = 1;
    bool negative = suffix[j] == '-';
    if (suffix[j] == '-' || suffix[j] == '+') ++j;
    if (j == suffix.size() || suffix.size() - j > 3) return malformed();
    int exponent = 0;
    for (; j < suffix.size(); ++j) {
      if (!std::isdigit(static_cast<unsigned char>(suffix[j]))) return malformed();
      exponent = exponent * 10 + (suffix[j] - '0');
    }
    p.decimalExponent += negative ? -exponent : exponent;
    return p;
  }
  return malformed();
}

// ceil(value * 10^extraDecimals) as int64.
Result<int64_t> quantityValue(const std::string& q, const std::string& field, int extraDecimals) {
  auto parsed = parseQuantity(q, field);
  if (!parsed.ok()) return parsed.error();
  unsigned __int128 value = parsed->mantissa;
  if (value == 0) return int64_t{0};
  auto tooLarge = [&] { return invalidArgument(field + ": " + q + " is too large"); };
  if (__builtin_mul_overflow(value, static_cast<unsigned __int128>(1) << parsed->binaryExponent, &value)) return tooLarge();
  int exponent = parsed->decimalExponent + extraDecimals;
  for (; exponent > 0; --exponent) {
    if (__builtin_mul_overflow(value, 10u, &value)) return tooLarge();
  }
  if (exponent < 0) {
    unsigned __int128 divisor = 1;
    for (; exponent < 0; ++exponent) {
      if (__builtin_mul_overflow(divisor, 10u, &divisor)) return int64_t{1};  // beyond 10^38: below one unit
    }
    value = value / divisor + (value % divisor != 0 ? 1 : 0);
  }
  if (value > static_cast<unsigned __int128>(std::numeric_limits<int64_t>::max())) return tooLarge();
  return static_cast<int64_t>(value);
}

struct ResourceValue {
  std::string text;
  int64_t value = 0;
};
using ResourceMap = std::map<std::string, ResourceValue>;

Result<ResourceValue> resourceValue(const std::string& resource, const std::string& text, const std::string& field) {
  auto v = resource == "cpu" ? quantityMillis(text, field) : quantityBytes(text, field);
  if (!v.ok()) return v.error();
  if (*v <= 0) return invalidArgument(field + ": must be more than 0, got " + text);
  return ResourceValue{text, *v};
}

Result<ResourceMap> resourceMap(const Json& resources, const std::string& kind) {
  ResourceMap out;
  auto it = resources.find(kind);
  if (it == resources.end() || it->is_null()) return out;
  const std::string field = "spec.resources." + kind;
  if (!it->is_object()) return invalidArgument(field + ": must be a map of cpu, memory and ephemeral-storage");
  for (const auto& [resource, value] : it->items()) {
    const std::string sub = field + "." + resource;
    if (resource != "cpu" && resource != "memory" && resource != "ephemeral-storage") {
      return invalidArgument(sub + ": unsupported; only cpu, memory and ephemeral-storage");
    }
    std::string text;
    if (value.is_string()) text = value.get<std::string>();
    else if (value.is_number_integer()) text = value.dump();
    else return invalidArgument(sub + ": must be a quantity such as 512Mi or 500m");
    auto parsed = resourceValue(resource, text, sub);
    if (!parsed.ok()) return parsed.error();
    out[resource] = *parsed;
  }
  return out;
}

}  // namespace

InstanceNames instanceNames(const ServiceDatabase& sdb) {
  InstanceNames n;
  n.base = instanceBase(sdb);
  n.headlessService = n.base + "-hl";
  n.service = n.base;
  n.configMap = n.base + "-config";
  n.superuserSecret = n.base + "-superuser";
  n.tlsSecret = n.base + "-tls";
  n.networkPolicy = n.base;
  n.pod0 = n.base + "-0";
  n.pvc0 = "data-" + n.base + "-0";
  return n;
}

Json ownerReference(const ServiceDatabase& sdb) {
  return {{"apiVersion", "servicedb.io/v1alpha1"}, {"kind", "ServiceDatabase"}, {"name", sdb.name},
          {"uid", sdb.uid},                         {"controller", true},          {"blockOwnerDeletion", true}};
}

Json instanceMetadata(const ServiceDatabase& sdb, const std::string& name) {
  return {{"name", name},
          {"namespace", sdb.ns},
          {"labels", standardLabels(sdb, Component::kInstance)},
          {"ownerReferences", Json::array({ownerReference(sdb)})}};
}

std::vector<std::string> instanceDnsNames(const ServiceDatabase& sdb) {
  const InstanceNames n = instanceNames(sdb);
  const std::string domain = kClusterDomain;
  std::vector<std::string> out;
  for (const std::string& svc : {n.service, n.headlessService}) {
    out.push_back(svc);
    out.push_back(svc + "." + sdb.ns);
    out.push_back(svc + "." + sdb.ns + ".svc");
    out.push_back(svc + "." + sdb.ns + ".svc." + domain);
  }
  const std::string pod = n.pod0 + "." + n.headlessService + "." + sdb.ns + ".svc";
  out.push_back(pod);
  out.push_back(pod + "." + domain);
  out.push_back("localhost");
  return out;
}

Result<int> versionMajor(const std::string& version, const VersionRule& rule) {
  const std::string field = "spec.version";
  if (version.empty()) return invalidArgument(field + ": is required for a dedicated instance (such as " + rule.examples + ")");
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 4 && (s.size() == 1 || s[0] != '0') &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  };
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t dot = version.find('.', start);
    parts.push_back(version.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  const bool wellFormed = static_cast<int>(parts.size()) <= rule.maxParts && std::all_of(parts.begin(), parts.end(), digits);
  if (!wellFormed) {
    return invalidArgument(field + ": \"" + version + "\" is not " +
                           (rule.maxParts >= 3 ? "MAJOR, MAJOR.MINOR or MAJOR.MINOR.PATCH" : "MAJOR or MAJOR.MINOR") +
                           " (such as " + rule.examples + ")");
  }
  const int major = std::stoi(parts[0]);
  if (major < rule.minMajor || major > rule.maxMajor) {
    const std::string supported = rule.minMajor == rule.maxMajor
                                      ? std::to_string(rule.minMajor)
                                      : std::to_string(rule.minMajor) + " to " + std::to_string(rule.maxMajor);
    return invalidArgument(field + ": " + rule.product + " " + parts[0] + " is not supported (supported: " + supported + ")");
  }
  return major;
}

Result<int64_t> quantityBytes(const std::string& q, const std::string& field) { return quantityValue(q, field, 0); }
Result<int64_t> quantityMillis(const std::string& q, const std::string& field) { return quantityValue(q, field, 3); }

Result<ContainerResources> containerResources(const ServiceDatabase& sdb) {
  if (!sdb.resources.is_object()) return invalidArgument("spec.resources: must be an object with requests and limits");
  for (const auto& [key, _] : sdb.resources.items()) {
    if (key != "requests" && key != "limits") {
      return invalidArgument("spec.resources." + key + ": unsupported; only requests and limits");
    }
  }
  auto requests = resourceMap(sdb.resources, "requests");
  if (!requests.ok()) return requests.error();
  auto limits = resourceMap(sdb.resources, "limits");
  if (!limits.ok()) return limits.error();
  ResourceMap& req = *requests;
  ResourceMap& lim = *limits;
  // Defaults; each follows the other side when that side was given (see the header).
  auto defaultRequest = [&](const std::string& resource, const std::string& text) {
    if (req.count(resource)) return;
    ResourceValue d = *resourceValue(resource, text, "default");
    auto l = lim.find(resource);
    req[resource] = l != lim.end() && l->second.value < d.value ? l->second : d;
  };
  bool memoryLimitGiven = lim.count("memory") > 0;
  defaultRequest("cpu", "100m");
  defaultRequest("memory", "256Mi");
  if (!memoryLimitGiven) {
    ResourceValue d = *resourceValue("memory", "512Mi", "default");
    lim["memory"] = req["memory"].value > d.value ? req["memory"] : d;
  }
  for (const auto& [resource, r] : req) {
    auto l = lim.find(resource);
    if (l != lim.end() && r.value > l->second.value) {
      return invalidArgument("spec.resources.requests." + resource + ": " + r.text + " is more than spec.resources.limits." +
                             resource + " " + l->second.text);
    }
  }
  ContainerResources out;
  out.json = {{"requests", Json::object()}, {"limits", Json::object()}};
  for (const auto& [resource, r] : req) out.json["requests"][resource] = r.text;
  for (const auto& [resource, l] : lim) out.json["limits"][resource] = l.text;
  out.memoryLimitBytes = lim["memory"].value;
  return out;
}

Json restrictedPodSecurityContext(int uid) {
  return {{"runAsNonRoot", true},
          {"runAsUser", uid},
          {"runAsGroup", uid},
          {"fsGroup", uid},
          {"fsGroupChangePolicy", "OnRootMismatch"},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}};
}

Json restrictedContainerSecurityContext() {
  return {{"allowPrivilegeEscalation", false},
          {"capabilities", {{"drop", Json::array({"ALL"})}}},
          {"readOnlyRootFilesystem", true},
          {"runAsNonRoot", true}};
}

Json secretKeyEnv(const std::string& name, const std::string& secret, const std::string& key) {
  return {{"name", name}, {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", key}}}}}};
}

Json instanceTlsVolume(const InstanceNames& n) {
  return {{"name", "tls"}, {"secret", {{"secretName", n.tlsSecret}, {"defaultMode", 0640}}}};
}

Json instancePodSpec(int uid, int terminationGracePeriodSeconds, Json initContainers, Json containers, Json volumes) {
  Json spec = {{"automountServiceAccountToken", false},
               {"enableServiceLinks", false},
               {"terminationGracePeriodSeconds", terminationGracePeriodSeconds},
               {"securityContext", restrictedPodSecurityContext(uid)},
               {"containers", std::move(containers)},
               {"volumes", std::move(volumes)}};
  if (initContainers.is_array() && !initContainers.empty()) spec["initContainers"] = std::move(initContainers);
  return spec;
}

Result<Json> instanceStatefulSet(const ServiceDatabase& sdb, const Json& podSpec, const std::string& configHash) {
  auto size = quantityBytes(sdb.storageSize, "spec.storage.size");
  if (!size.ok()) return size.error();
  if (*size <= 0) return invalidArgument("spec.storage.size: must be more than 0, got " + sdb.storageSize);
  const InstanceNames n = instanceNames(sdb);
  Json pvcSpec = {{"accessModes", Json::array({"ReadWriteOnce"})},
                  {"resources", {{"requests", {{"storage", sdb.storageSize}}}}}};
  if (!sdb.storageClassName.empty()) pvcSpec["storageClassName"] = sdb.storageClassName;
  const Labels labels = standardLabels(sdb, Component::kInstance);
  const std::string whenDeleted = sdb.deletionPolicy == "Retain" ? "Retain" : "Delete";
  return Json{
      {"apiVersion", "apps/v1"},
      {"kind", "StatefulSet"},
      {"metadata", instanceMetadata(sdb, n.base)},
      {"spec",
       {{"replicas", 1},
        {"serviceName", n.headlessService},
        {"podManagementPolicy", "OrderedReady"},
        {"updateStrategy", {{"type", "RollingUpdate"}}},
        {"persistentVolumeClaimRetentionPolicy", {{"whenDeleted", whenDeleted}, {"whenScaled", "Retain"}}},
        {"selector", {{"matchLabels", instanceSelector(sdb)}}},
        {"template",
         {{"metadata", configHash.empty() ? Json{{"labels", labels}}
                                           : Json{{"labels", labels}, {"annotations", {{kAnnotationConfigHash, configHash}}}}},
          {"spec", podSpec}}},
        {"volumeClaimTemplates",
         Json::array({{{"metadata", {{"name", "data"}, {"labels", labels}}}, {"spec", pvcSpec}}})}}}};
}

Labels instanceSelector(const ServiceDatabase& sdb) {
  return {{kLabelDatabase, sdb.name}, {kLabelServicedbComponent, "instance"}, {kLabelManagedBy, kManagedByOperator}};
}

namespace {
Json service(const ServiceDatabase& sdb, const std::string& name, const std::string& portName, int port, bool headless) {
  Json spec = {{"type", "ClusterIP"},
               {"selector", instanceSelector(sdb)},
               {"ports", Json::array({{{"name", portName}, {"port", port}, {"targetPort", portName}, {"protocol", "TCP"}}})}};
  if (headless) {
    spec["clusterIP"] = "None";
    spec["publishNotReadyAddresses"] = true;
  }
  return {{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", instanceMetadata(sdb, name)}, {"spec", spec}};
}

Json secret(const ServiceDatabase& sdb, const std::string& name, const std::string& type,
            const std::map<std::string, std::string>& data) {
  Json encoded = Json::object();
  for (const auto& [k, v] : data) encoded[k] = base64Encode(v);
  return {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", instanceMetadata(sdb, name)}, {"type", type}, {"data", encoded}};
}
}  // namespace

Json headlessService(const ServiceDatabase& sdb, const InstanceNames& n, const std::string& portName, int port) {
  return service(sdb, n.headlessService, portName, port, true);
}

Json clusterIpService(const ServiceDatabase& sdb, const InstanceNames& n, const std::string& portName, int port) {
  return service(sdb, n.service, portName, port, false);
}

Json superuserSecret(const ServiceDatabase& sdb, const InstanceNames& n, const std::string& username,
                     const std::string& password) {
  return secret(sdb, n.superuserSecret, "Opaque", {{"username", username}, {"password", password}});
}

std::string tlsCombinedPem(const std::string& certPem, const std::string& keyPem) {
  // PEM blocks must start on a line of their own.
  return certPem + (certPem.empty() || certPem.back() == '\n' ? "" : "\n") + keyPem;
}

Json tlsSecret(const ServiceDatabase& sdb, const InstanceNames& n, const std::string& certPem, const std::string& keyPem,
               const std::string& caPem) {
  return secret(sdb, n.tlsSecret, "kubernetes.io/tls",
                {{"tls.crt", certPem}, {"tls.key", keyPem}, {"tls.pem", tlsCombinedPem(certPem, keyPem)}, {"ca.crt", caPem}});
}

std::string configMapHash(const Json& configMap) {
  Json content = Json::object();
  for (const char* key : {"data", "binaryData"}) {
    if (configMap.contains(key)) content[key] = configMap[key];
  }
  return sha256Hex(content.dump());
}

}  // namespace sdb::specs
