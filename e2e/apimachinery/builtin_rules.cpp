#include "e2e/apimachinery/builtin_rules.h"

#include <cmath>
#include <map>

#include "operator/backup/crypto_util.h"

namespace sdb::apimachinery {

namespace {

using Causes = std::vector<kube::StatusCause>;

bool is(const ResourceInfo& info, const char* group, const char* resource) {
  return info.ref.group == group && info.ref.resource == resource;
}

Json at(const Json& obj, const std::vector<std::string>& path) {
  const Json* p = jsonAt(obj, path);
  return p ? *p : Json(nullptr);
}

// "Invalid value: <value>: field is immutable", the value printed as kube-apiserver prints it.
std::string immutable(const Json& value) {
  return "Invalid value: " + (value.is_null() ? std::string("null") : dumpJson(value)) + ": field is immutable";
}

void immutableField(Causes& causes, const Json& next, const Json& old, const std::vector<std::string>& path) {
  const Json n = at(next, path), o = at(old, path);
  if (n == o) return;
  std::string field;
  for (const auto& p : path) field += (field.empty() ? "" : ".") + p;
  causes.push_back({"FieldValueInvalid", immutable(n), field});
}

bool immutableFlag(const Json& obj) { return at(obj, {"immutable"}) == Json(true); }

void immutableWhenSet(Causes& causes, const Json& next, const Json& old, const std::vector<const char*>& fields) {
  if (!immutableFlag(old)) return;
  const std::string msg = "Forbidden: field is immutable when `immutable` is set";
  if (!immutableFlag(next)) causes.push_back({"FieldValueForbidden", msg, "immutable"});
  for (const char* f : fields) {
    // nil and empty maps are the same to kube-apiserver once decoded.
    Json n = at(next, {f}), o = at(old, {f});
    if (n.is_object() && n.empty()) n = nullptr;
    if (o.is_object() && o.empty()) o = nullptr;
    if (n != o) causes.push_back({"FieldValueForbidden", msg, f});
  }
}

Json without(Json obj, std::initializer_list<const char*> keys) {
  if (!obj.is_object()) return obj;
  for (const char* k : keys) obj.erase(k);
  return obj;
}

std::optional<long double> storageOf(const Json& obj, const std::vector<std::string>& path) {
  const Json v = at(obj, path);
  if (v.is_string()) return parseQuantity(v.get<std::string>());
  if (v.is_number()) return v.get<long double>();
  return std::nullopt;
}

std::optional<kube::ApiError> checkPvc(const ResourceInfo& info, const Json& next, const Json& old, const ClusterLookup& lookup) {
  const std::string name = jsonString(old, {"metadata", "name"});
  Causes causes;
  Json newSpec = at(next, {"spec"}), oldSpec = at(old, {"spec"});
  if (!newSpec.is_object()) newSpec = Json::object();
  if (!oldSpec.is_object()) oldSpec = Json::object();
  // volumeName may be set once (by the binder).
  if (jsonString(oldSpec, {"volumeName"}).empty()) {
    if (newSpec.contains("volumeName")) oldSpec["volumeName"] = newSpec["volumeName"];
    else oldSpec.erase("volumeName");
  }
  const bool bound = jsonString(next, {"status", "phase"}) == "Bound";
  if (bound) {
    // A bound claim's storage request may change (within the rules below).
    const Json req = at(oldSpec, {"resources", "requests", "storage"});
    if (jsonAt(newSpec, {"resources", "requests"})) {
      if (req.is_null()) newSpec["resources"]["requests"].erase("storage");
      else newSpec["resources"]["requests"]["storage"] = req;
    }
  }
  if (newSpec != oldSpec) {
    causes.push_back({"FieldValueForbidden", "Forbidden: spec is immutable after creation except resources.requests for bound claims", "spec"});
  }
  const auto newSize = storageOf(next, {"spec", "resources", "requests", "storage"});
  const auto oldSize = storageOf(old, {"spec", "resources", "requests", "storage"});
  const long double capacity = storageOf(old, {"status", "capacity", "storage"}).value_or(0);
  if (newSize && oldSize && *newSize < *oldSize && *newSize <= capacity) {
    causes.push_back({"FieldValueForbidden", "Forbidden: field can not be less than status.capacity", "spec.resources.requests.storage"});
  }
  if (!causes.empty()) return kube::invalidError(info.ref.kind, info.ref.group, name, causes);
  if (newSize && oldSize && *newSize > *oldSize) {
    // The PersistentVolumeClaimResize admission plugin.
    const std::string scName = jsonString(next, {"spec", "storageClassName"});
    const Json* sc = scName.empty() ? nullptr : lookup("storageclasses", scName);
    if (!sc || !sc->value("allowVolumeExpansion", false)) {
      kube::ApiError e = kube::fromHttpResponse(403, "");
      e.reason = kube::ApiErrorReason::kForbidden;
      e.message = info.ref.groupResource() + " \"" + name +
                  "\" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions "
                  "the pvc must support resize";
      e.name = name;
      e.kind = info.ref.resource;
      return e;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<long double> parseQuantity(const std::string& text) {
  size_t i = 0;
  const size_t n = text.size();
  if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
  const size_t numStart = i;
  while (i < n && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == numStart) return std::nullopt;
  long double value = 0;
  try {
    value = std::stold(text.substr(0, i));
  } catch (...) {
    return std::nullopt;
  }
  const std::string suffix = text.substr(i);
  static const std::map<std::string, long double> factors = {
      {"", 1},        {"n", 1e-9},   {"u", 1e-6},   {"m", 1e-3},   {"k", 1e3},    {"M", 1e6},    {"G", 1e9},
      {"T", 1e12},    {"P", 1e15},   {"E", 1e18},   {"Ki", 1024.0L}, {"Mi", std::pow(1024.0L, 2)},
      {"Gi", std::pow(1024.0L, 3)},  {"Ti", std::pow(1024.0L, 4)},  {"Pi", std::pow(1024.0L, 5)},
      {"Ei", std::pow(1024.0L, 6)}};
  if (auto f = factors.find(suffix); f != factors.end()) return value * f->second;
  if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    try {
      size_t used = 0;
      const int exp = std::stoi(suffix.substr(1), &used);
      if (used + 1 == suffix.size()) return value * std::pow(10.0L, exp);
    } catch (...) {
    }
  }
  return std::nullopt;
}

void normalizeBuiltin(const ResourceInfo& info, Json& obj) {
  if (!is(info, "", "secrets")) return;
  if (!obj.contains("type") || !obj["type"].is_string() || obj["type"].get<std::string>().empty()) obj["type"] = "Opaque";
  if (const Json* sd = jsonAt(obj, {"stringData"}); sd && sd->is_object()) {
    Json data = obj.contains("data") && obj["data"].is_object() ? obj["data"] : Json::object();
    for (const auto& [k, v] : sd->items()) {
      if (!v.is_string()) continue;
      const std::string s = v.get<std::string>();
      data[k] = backup::crypto::toBase64(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    }
    obj["data"] = std::move(data);
  }
  obj.erase("stringData");
}

std::optional<kube::ApiError> checkBuiltinUpdate(const ResourceInfo& info, const Json& next, const Json& old,
                                                 const ClusterLookup& lookup) {
  const std::string name = jsonString(old, {"metadata", "name"});
  Causes causes;
  if (is(info, "", "secrets")) {
    immutableField(causes, next, old, {"type"});
    immutableWhenSet(causes, next, old, {"data"});
  } else if (is(info, "", "configmaps")) {
    immutableWhenSet(causes, next, old, {"data", "binaryData"});
  } else if (is(info, "apps", "statefulsets")) {
    auto rest = [](const Json& o) {
      return without(at(o, {"spec"}), {"replicas", "ordinals", "template", "updateStrategy",
                                       "persistentVolumeClaimRetentionPolicy", "minReadySeconds"});
    };
    if (rest(next) != rest(old)) {
      causes.push_back({"FieldValueForbidden",
                        "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                        "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                        "spec"});
    }
  } else if (is(info, "apps", "deployments")) {
    immutableField(causes, next, old, {"spec", "selector"});
  } else if (is(info, "batch", "jobs")) {
    immutableField(causes, next, old, {"spec", "selector"});
    Json oldTemplate = at(old, {"spec", "template"});
    const Json newTemplate = at(next, {"spec", "template"});
    // A suspended Job that never started may change where its pods go.
    if (at(old, {"spec", "suspend"}) == Json(true) && !jsonAt(old, {"status", "startTime"}) && oldTemplate.is_object() &&
        newTemplate.is_object()) {
      for (const auto& path : std::vector<std::vector<std::string>>{{"spec", "nodeSelector"}, {"spec", "tolerations"},
                                                                    {"spec", "affinity"}, {"spec", "schedulingGates"},
                                                                    {"metadata", "annotations"}, {"metadata", "labels"}}) {
        const Json v = at(newTemplate, path);
        if (v.is_null()) {
          if (oldTemplate.contains(path[0]) && oldTemplate[path[0]].is_object()) oldTemplate[path[0]].erase(path[1]);
        } else {
          oldTemplate[path[0]][path[1]] = v;
        }
      }
    }
    if (newTemplate != oldTemplate) causes.push_back({"FieldValueInvalid", immutable(newTemplate), "spec.template"});
    for (const char* f : {"completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"}) {
      immutableField(causes, next, old, {"spec", f});
    }
  } else if (is(info, "", "persistentvolumeclaims")) {
    return checkPvc(info, next, old, lookup);
  }
  if (causes.empty()) return std::nullopt;
  return kube::invalidError(info.ref.kind, info.ref.group, name, causes);
}

}  // namespace sdb::apimachinery
