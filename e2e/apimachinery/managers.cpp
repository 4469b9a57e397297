#include "e2e/apimachinery/managers.h"

#include <algorithm>

#include "operator/core/clock.h"

namespace sdb::apimachinery {

namespace {
constexpr size_t kMaxUpdateManagers = 10;
}  // namespace

// The JSON kube-apiserver identifies a manager by: the entry without its fields and time, and
// without its apiVersion for appliers (so an applier keeps one entry across versions).
std::string identifier(const std::string& manager, const std::string& operation, const std::string& apiVersion,
                       const std::string& subresource) {
  std::string out = "{\"manager\":" + dumpJson(Json(manager)) + ",\"operation\":" + dumpJson(Json(operation));
  if (operation != "Apply" && !apiVersion.empty()) out += ",\"apiVersion\":" + dumpJson(Json(apiVersion));
  if (!subresource.empty()) out += ",\"subresource\":" + dumpJson(Json(subresource));
  return out + "}";
}

// "kubectl-client-side-apply" using apps/v1 / "mgr" with subresource "status"
std::string printManager(const Entry& e) {
  std::string s = dumpJson(Json(e.manager));
  if (!e.subresource.empty()) s += " with subresource " + dumpJson(Json(e.subresource));
  if (e.operation == "Update") s += " using " + e.apiVersion;
  return s;
}

Result<Managers> decodeManagers(const Json* managedFields) {
  Managers out;
  if (!managedFields || managedFields->is_null()) return out;
  if (!managedFields->is_array()) return invalidArgument("managedFields must be a list");
  for (size_t i = 0; i < managedFields->size(); ++i) {
    const Json& m = (*managedFields)[i];
    if (!m.is_object()) return invalidArgument("managed fields entry " + std::to_string(i) + " is not an object");
    Entry e;
    e.operation = m.value("operation", "");
    if (e.operation != "Apply" && e.operation != "Update") return invalidArgument("operation must be `Apply` or `Update`");
    e.apiVersion = m.value("apiVersion", "");
    if (e.apiVersion.empty()) return invalidArgument("apiVersion must not be empty");
    const std::string type = m.value("fieldsType", "");
    if (type.empty()) return invalidArgument("missing fieldsType in managed fields entry " + std::to_string(i));
    if (type != "FieldsV1") return invalidArgument("invalid fieldsType \"" + type + "\" in managed fields entry " + std::to_string(i));
    e.manager = m.value("manager", "");
    e.subresource = m.value("subresource", "");
    if (m.contains("time") && m["time"].is_string()) e.time = m["time"].get<std::string>();
    auto fields = FieldSet::fromFieldsV1(m.contains("fieldsV1") ? m["fieldsV1"] : Json::object());
    if (!fields.ok()) return fields.error();
    e.fields = std::move(*fields);
    out[identifier(e.manager, e.operation, e.apiVersion, e.subresource)] = std::move(e);
  }
  return out;
}

Json encodeManagers(const Managers& managers) {
  if (managers.empty()) return nullptr;
  std::vector<const Entry*> entries;
  for (const auto& [k, e] : managers) entries.push_back(&e);
  auto seconds = [](const Entry* e) {
    std::chrono::system_clock::time_point t{};
    if (e->time) parseRfc3339(*e->time, &t);
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  };
  std::sort(entries.begin(), entries.end(), [&](const Entry* p, const Entry* q) {
    if (p->operation != q->operation) return p->operation < q->operation;
    if (seconds(p) != seconds(q)) return seconds(p) < seconds(q);
    if (p->manager != q->manager) return p->manager < q->manager;
    if (p->apiVersion != q->apiVersion) return p->apiVersion < q->apiVersion;
    return p->subresource < q->subresource;
  });
  Json out = Json::array();
  for (const Entry* e : entries) {
    Json j = {{"manager", e->manager}, {"operation", e->operation}, {"apiVersion", e->apiVersion},
              {"fieldsType", "FieldsV1"}, {"fieldsV1", e->fields.toFieldsV1()}};
    if (e->time) j["time"] = *e->time;
    if (!e->subresource.empty()) j["subresource"] = e->subresource;
    out.push_back(std::move(j));
  }
  return out;
}

// Fields kube-apiserver never records as owned.
const FieldSet& strippedFields() {
  static const FieldSet s = [] {
    FieldSet f;
    f.insert({fieldElement("apiVersion")});
    f.insert({fieldElement("kind")});
    f.insert({fieldElement("metadata")});
    for (const char* m : {"name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation",
                          "managedFields", "resourceVersion"}) {
      f.insert({fieldElement("metadata"), fieldElement(m)});
    }
    return f;
  }();
  return s;
}

void stripManager(Managers& managers, const std::string& key) {
  auto it = managers.find(key);
  if (it == managers.end()) return;
  it->second.fields = it->second.fields.difference(strippedFields());
  if (it->second.fields.empty()) managers.erase(it);
}

// At most kMaxUpdateManagers Update entries: the oldest merge into "ancient-changes" per version.
void capUpdateManagers(Managers& managers) {
  std::vector<std::string> updaters;
  for (const auto& [k, e] : managers) {
    if (!e.applied()) updaters.push_back(k);
  }
  if (updaters.size() <= kMaxUpdateManagers) return;
  auto seconds = [&](const std::string& k) {
    std::chrono::system_clock::time_point t{};
    if (managers[k].time) parseRfc3339(*managers[k].time, &t);
    return t;
  };
  std::sort(updaters.begin(), updaters.end(), [&](const std::string& a, const std::string& b) {
    if (seconds(a) != seconds(b)) return seconds(a) < seconds(b);
    return a < b;
  });
  std::map<std::string, std::string> firstOfVersion;
  size_t length = updaters.size();
  for (size_t i = 0; i < updaters.size() && length > kMaxUpdateManagers; ++i) {
    const std::string& key = updaters[i];
    Entry e = managers[key];
    const std::string bucket = identifier("ancient-changes", "Update", e.apiVersion, "");
    auto first = firstOfVersion.find(e.apiVersion);
    if (first == firstOfVersion.end()) {
      firstOfVersion[e.apiVersion] = key;
      continue;
    }
    if (!managers.count(bucket)) {
      Entry b = managers[first->second];
      managers.erase(first->second);
      b.manager = "ancient-changes";
      b.operation = "Update";
      b.subresource.clear();
      managers[bucket] = std::move(b);
    }
    Entry& b = managers[bucket];
    b.fields = e.fields.unionWith(b.fields);
    b.time = e.time;
    managers.erase(key);
    --length;
  }
}

}  // namespace sdb::apimachinery
