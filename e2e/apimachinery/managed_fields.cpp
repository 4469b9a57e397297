#include "e2e/apimachinery/managed_fields.h"

#include <algorithm>

#include "e2e/apimachinery/managers.h"
#include "e2e/apimachinery/typed_value.h"

namespace sdb::apimachinery {

namespace {

const char* kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";
constexpr size_t kMaxAnnotationsBytes = 256 * 1024;

Json withoutManagedFields(Json o) {
  if (o.contains("metadata") && o["metadata"].is_object()) o["metadata"].erase("managedFields");
  return o;
}

// The status subresource split: status is written only through /status, everything else only
// through the main resource, so neither tracks the other's half.
FieldSet resetFilter(const FieldSet& s, const FieldManagerScope& scope) {
  FieldSet status;
  status.insert({fieldElement("status")});
  if (scope.subresource == "status") {
    FieldSet out;
    auto it = s.children().find(fieldElement("status"));
    if (it != s.children().end()) out.mutableChildren()[it->first] = it->second;
    return out;
  }
  if (scope.statusSubresource) return s.recursiveDifference(status);
  return s;
}

Comparison filterComparison(Comparison c, const FieldManagerScope& scope) {
  c.added = resetFilter(c.added, scope);
  c.modified = resetFilter(c.modified, scope);
  c.removed = resetFilter(c.removed, scope);
  return c;
}

struct Conflict {
  std::string managerKey;
  FieldPath path;
};
using Conflicts = std::vector<Conflict>;

// Either new managers, or the conflicts that stop the operation.
struct UpdateOutcome {
  Managers managers;
  Comparison comparison;
  Conflicts conflicts;
};

// structured-merge-diff's Updater.update: other managers lose what changed under them.
Result<UpdateOutcome> updateManagers(const Json& oldObj, const Json& newObj, Managers managers, const std::string& workflow,
                                     bool force, const FieldManagerScope& scope) {
  auto cmp = compareObjects(oldObj, newObj, *scope.type);
  if (!cmp.ok()) return cmp.error().wrap("failed to compare objects");
  UpdateOutcome out;
  out.comparison = filterComparison(std::move(*cmp), scope);
  const FieldSet changed = out.comparison.modified.unionWith(out.comparison.added);
  std::map<std::string, FieldSet> conflicts;
  for (const auto& [key, e] : managers) {
    if (key == workflow) continue;
    FieldSet c = e.fields.intersection(changed);
    if (!c.empty()) conflicts[key] = std::move(c);
  }
  if (!force && !conflicts.empty()) {
    for (const auto& [key, set] : conflicts) {
      for (auto& p : set.paths()) out.conflicts.push_back({key, std::move(p)});
    }
    out.managers = std::move(managers);
    return out;
  }
  for (auto& [key, e] : managers) {
    if (key == workflow) continue;
    if (auto c = conflicts.find(key); c != conflicts.end()) e.fields = e.fields.difference(c->second);
    if (!out.comparison.removed.empty()) e.fields = e.fields.difference(out.comparison.removed);
  }
  std::erase_if(managers, [](const auto& kv) { return kv.second.fields.empty(); });
  out.managers = std::move(managers);
  return out;
}

// The Update chain of kube-apiserver's field manager (managed fields updater, strip meta,
// structured merge): `manager` gains what changed from `live` to `next`.
Result<Managers> recordUpdate(const Json& live, const Json& next, Managers managers, const std::string& manager,
                              const FieldManagerScope& scope) {
  const std::string self = "current-operation";
  auto u = updateManagers(live, next, std::move(managers), self, true, scope);
  if (!u.ok()) return u.error();
  Managers out = std::move(u->managers);
  FieldSet set = u->comparison.modified.unionWith(u->comparison.added).difference(u->comparison.removed);
  set = resetFilter(set, scope).difference(strippedFields());
  if (!set.empty()) {
    const std::string name = manager.empty() ? "unknown" : manager;
    const std::string key = identifier(name, "Update", scope.apiVersion, scope.subresource);
    Entry e;
    if (auto it = out.find(key); it != out.end()) {
      e = it->second;
      e.fields = set.unionWith(e.fields);
    } else {
      e = Entry{name, "Update", scope.subresource, scope.apiVersion, set, std::nullopt};
    }
    e.time = scope.now;
    out[key] = std::move(e);
  }
  capUpdateManagers(out);
  return out;
}

// structured-merge-diff's prune: fields the applier applied last time and not now go, unless
// another manager (or the new configuration) owns them.
Result<Json> prune(const Json& merged, const Managers& managers, const FieldSet* lastSet, const TypeNode& type) {
  if (!lastSet || lastSet->empty()) return merged;
  const FieldSet last = ensureNamedFieldsAreMembers(*lastSet, type);
  Json pruned = removeItems(merged, last, type);
  // Add back what anyone owns.
  FieldSet managed;
  for (const auto& [k, e] : managers) managed = managed.unionWith(e.fields);
  auto mergedSet = toFieldSet(merged, type, true);
  if (!mergedSet.ok()) return mergedSet.error();
  auto prunedSet = toFieldSet(pruned, type, true);
  if (!prunedSet.ok()) return prunedSet.error();
  const FieldSet mergedNamed = ensureNamedFieldsAreMembers(*mergedSet, type);
  pruned = removeItems(merged,
                       mergedNamed.difference(ensureNamedFieldsAreMembers(*prunedSet, type)
                                                  .unionWith(ensureNamedFieldsAreMembers(managed, type))),
                       type);
  // Only remove what the applier itself owned before (the rest was never its to remove).
  prunedSet = toFieldSet(pruned, type, true);
  if (!prunedSet.ok()) return prunedSet.error();
  return removeItems(merged, mergedNamed.difference(ensureNamedFieldsAreMembers(*prunedSet, type)).intersection(last), type);
}

std::string gvkString(const std::string& apiVersion, const std::string& kind) {
  const size_t slash = apiVersion.find('/');
  const std::string group = slash == std::string::npos ? "" : apiVersion.substr(0, slash);
  const std::string version = slash == std::string::npos ? apiVersion : apiVersion.substr(slash + 1);
  return group + "/" + version + ", Kind=" + kind;
}

kube::ApiError internal(const std::string& message) {
  kube::ApiError e = kube::fromHttpResponse(500, "");
  e.message = message;
  return e;
}

kube::ApiError conflictError(const Conflicts& conflicts, const Managers& managers) {
  kube::ApiError e = kube::fromHttpResponse(409, "");
  e.reason = kube::ApiErrorReason::kConflict;
  auto who = [&](const std::string& key) {
    auto it = managers.find(key);
    return it == managers.end() ? dumpJson(Json(key)) : printManager(it->second);
  };
  for (const auto& c : conflicts) e.causes.push_back({"FieldManagerConflict", "conflict with " + who(c.managerKey), pathString(c.path)});
  if (conflicts.size() == 1) {
    e.message = "Apply failed with 1 conflict: conflict with " + who(conflicts[0].managerKey) + ": " + pathString(conflicts[0].path);
    return e;
  }
  std::string msg = "Apply failed with " + std::to_string(conflicts.size()) + " conflicts: ";
  std::string current;
  bool first = true;
  for (const auto& c : conflicts) {  // grouped by manager, managers sorted by identifier
    if (c.managerKey != current) {
      msg += std::string(first ? "" : "\n") + "conflicts with " + who(c.managerKey) + ":";
      current = c.managerKey;
      first = false;
    }
    msg += "\n- " + pathString(c.path);
  }
  e.message = msg;
  return e;
}

struct ApplyOutcome {
  Json object;  // the new object without managedFields
  Managers managers;
  Conflicts conflicts;  // when non-empty, nothing else is set
};

// The Apply chain below the last-applied handling: skip-non-applied, build manager info, managed
// fields updater, strip meta and the structured merge.
kube::KResult<ApplyOutcome> applyOnce(const Json& live, const Json& config, Managers managers, const std::string& manager,
                                      bool force, const FieldManagerScope& scope) {
  const TypeNode& type = *scope.type;
  const std::string gvk = gvkString(scope.apiVersion, scope.kind);
  if (managers.empty()) {
    // Fields set before the first apply belong to "before-first-apply".
    auto before = recordUpdate(scope.emptyObject, live, {}, "before-first-apply", scope);
    if (!before.ok()) return internal("failed to create manager for existing fields: " + before.error().message);
    managers = std::move(*before);
  }
  const std::string key = identifier(manager, "Apply", "", scope.subresource);
  auto configSet = toFieldSet(config, type, false);
  if (!configSet.ok()) {
    return internal("failed to create typed patch object (" + scope.objectName + "; " + gvk + "): " + configSet.error().message);
  }
  if (auto liveSet = toFieldSet(live, type, true); !liveSet.ok()) {
    return internal("failed to create typed live object (" + scope.objectName + "; " + gvk + "): " + liveSet.error().message);
  }
  auto merged = mergeObjects(live, config, type);
  if (!merged.ok()) return internal("failed to merge config: " + merged.error().message);
  std::optional<FieldSet> lastSet;
  std::optional<std::string> lastTime;
  if (auto it = managers.find(key); it != managers.end()) lastSet = it->second.fields, lastTime = it->second.time;
  managers[key] = Entry{manager, "Apply", scope.subresource, scope.apiVersion, resetFilter(*configSet, scope), lastTime};
  auto pruned = prune(*merged, managers, lastSet ? &*lastSet : nullptr, type);
  if (!pruned.ok()) return internal("failed to prune fields: " + pruned.error().message);
  auto u = updateManagers(live, *pruned, std::move(managers), key, force, scope);
  if (!u.ok()) return internal(u.error().message);
  ApplyOutcome out;
  if (!u->conflicts.empty()) {
    out.conflicts = std::move(u->conflicts);
    out.managers = std::move(u->managers);
    return out;
  }
  out.managers = std::move(u->managers);
  const bool changed = *pruned != live;
  out.object = changed ? std::move(*pruned) : live;
  stripManager(out.managers, key);
  if (changed && out.managers.count(key)) out.managers[key].time = scope.now;
  return out;
}

// The fields of client-side apply's last-applied configuration that still hold their applied
// values: kubectl's server-side apply may take them over without a conflict.
std::optional<FieldSet> allowedFromLastApplied(const Json& live, const FieldManagerScope& scope) {
  const Json* ann = jsonAt(live, {"metadata", "annotations"});
  if (!ann || !ann->contains(kLastApplied) || !(*ann)[kLastApplied].is_string()) return std::nullopt;
  auto last = parseJson((*ann)[kLastApplied].get<std::string>());
  if (!last.ok() || !last->is_object() || last->value("apiVersion", "") != scope.apiVersion) return std::nullopt;
  auto set = toFieldSet(*last, *scope.type, false);
  auto cmp = compareObjects(*last, live, *scope.type);
  if (!set.ok() || !cmp.ok()) return std::nullopt;
  return set->difference(cmp->modified).difference(cmp->added).difference(cmp->removed);
}

}  // namespace

Json trackUpdate(const Json& live, const Json& next, const std::string& manager, const FieldManagerScope& scope, bool creating) {
  const Json* liveFields = jsonAt(live, {"metadata", "managedFields"});
  Managers managed;
  bool fromLive = true;
  if (scope.subresource.empty()) {
    const Json* sent = jsonAt(next, {"metadata", "managedFields"});
    if (sent && sent->is_array() && (sent->empty() || (sent->size() == 1 && (*sent)[0] == Json::object()))) {
      fromLive = false;  // an explicit reset
    } else if (auto d = decodeManagers(sent); d.ok() && !d->empty()) {
      managed = std::move(*d);
      fromLive = false;
    }
  }
  if (fromLive) managed = decodeManagers(liveFields).valueOr({});
  if (managed.empty() && !creating) return nullptr;  // objects without managedFields stay without
  auto r = recordUpdate(withoutManagedFields(live), withoutManagedFields(next), std::move(managed), manager, scope);
  if (!r.ok()) return liveFields ? *liveFields : Json(nullptr);
  return encodeManagers(*r);
}

kube::KResult<Json> applyConfiguration(const Json& live, const Json& config, const std::string& manager, bool force,
                                       const FieldManagerScope& scope) {
  if (!config.is_object()) return kube::badRequestError("the applied configuration must be an object");
  const std::string apiVersion = config.value("apiVersion", ""), kind = config.value("kind", "");
  if (apiVersion != scope.apiVersion || kind != scope.kind) {
    return kube::badRequestError("invalid object type: " + gvkString(apiVersion, kind));
  }
  if (const Json* mf = jsonAt(config, {"metadata", "managedFields"}); mf && !mf->is_null()) {
    return kube::badRequestError("metadata.managedFields must be nil");
  }
  auto managers = decodeManagers(jsonAt(live, {"metadata", "managedFields"}));
  if (!managers.ok()) return internal("failed to decode managed fields: " + managers.error().message);
  const Json liveObj = withoutManagedFields(live);

  auto r = applyOnce(liveObj, config, *managers, manager, force, scope);
  if (!r.ok()) return r.error();
  if (!r->conflicts.empty() && manager == "kubectl") {
    // Conflicts with fields client-side apply set to the values of the last-applied configuration
    // are upgrades from client-side to server-side apply, not conflicts.
    if (auto allowed = allowedFromLastApplied(liveObj, scope)) {
      Conflicts remaining;
      for (const auto& c : r->conflicts) {
        if (!allowed->has(c.path)) remaining.push_back(c);
      }
      if (remaining.empty()) {
        r = applyOnce(liveObj, config, *managers, manager, true, scope);
        if (!r.ok()) return r.error();
      } else {
        r->conflicts = std::move(remaining);
      }
    }
  }
  if (!r->conflicts.empty()) return conflictError(r->conflicts, r->managers);

  Json out = std::move(r->object);
  if (manager == "kubectl") {
    Json* ann = out.contains("metadata") ? &out["metadata"] : nullptr;
    if (ann && ann->contains("annotations") && (*ann)["annotations"].is_object() && (*ann)["annotations"].contains(kLastApplied)) {
      Json applied = config;
      if (applied.contains("metadata") && applied["metadata"].contains("annotations") && applied["metadata"]["annotations"].is_object()) {
        applied["metadata"]["annotations"].erase(kLastApplied);
      }
      Json& annotations = (*ann)["annotations"];
      annotations[kLastApplied] = dumpJson(applied) + "\n";
      size_t total = 0;
      for (const auto& [k, v] : annotations.items()) total += k.size() + (v.is_string() ? v.get<std::string>().size() : 0);
      if (total > kMaxAnnotationsBytes) annotations.erase(kLastApplied);
    }
  }
  if (!out.contains("metadata") || !out["metadata"].is_object()) out["metadata"] = Json::object();
  Json encoded = encodeManagers(r->managers);
  if (encoded.is_null()) out["metadata"].erase("managedFields");
  else out["metadata"]["managedFields"] = std::move(encoded);
  return out;
}

std::vector<kube::StatusCause> validateFieldManager(const std::string& fieldManager, bool apply) {
  std::vector<kube::StatusCause> out;
  if (apply && fieldManager.empty()) out.push_back({"FieldValueRequired", "Required value: is required for apply patch", "fieldManager"});
  if (fieldManager.size() > 128) {
    out.push_back({"FieldValueTooLong", "Too long: may not be more than 128 bytes", "fieldManager"});
  }
  for (size_t i = 0; i < fieldManager.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(fieldManager[i]);
    if (c < 0x20 || c == 0x7f) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "invalid character U+%04X (at position %zu)", c, i);
      out.push_back({"FieldValueInvalid", "Invalid value: " + dumpJson(Json(fieldManager)) + ": " + buf, "fieldManager"});
      break;
    }
  }
  return out;
}

std::string managerFromUserAgent(const std::string& userAgent) { return userAgent.substr(0, userAgent.find('/')); }

bool sameOwnership(const Json& a, const Json& b) {
  auto strip = [](Json x) {
    if (x.is_array()) {
      for (auto& e : x) {
        if (e.is_object()) e.erase("time");
      }
    }
    return x;
  };
  return strip(a) == strip(b);
}

}  // namespace sdb::apimachinery
