#include "e2e/apimachinery/strategic_merge.h"

#include <algorithm>

namespace sdb::apimachinery {

namespace {

const std::string kDirective = "$patch";
const std::string kRetainKeys = "$retainKeys";
const std::string kDeletePrefix = "$deleteFromPrimitiveList/";
const std::string kOrderPrefix = "$setElementOrder/";

kube::ApiError badRequest(const std::string& m) { return kube::badRequestError(m); }
kube::ApiError unprocessable(const std::string& m) {
  kube::ApiError e = kube::fromHttpResponse(422, "");
  e.message = m;
  return e;
}
kube::ApiError internal(const std::string& m) {
  kube::ApiError e = kube::fromHttpResponse(500, "");
  e.message = m;
  return e;
}

// Go's %v of a decoded JSON value (map[k:v], [a b], plain scalars), for messages worded as
// apimachinery words them.
std::string goValue(const Json& v) {
  if (v.is_object()) {
    std::string out = "map[";
    bool first = true;
    for (const auto& [k, x] : v.items()) {
      out += (first ? "" : " ") + k + ":" + goValue(x);
      first = false;
    }
    return out + "]";
  }
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + goValue(v[i]);
    return out + "]";
  }
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "<nil>";
  return dumpJson(v);
}

std::string goType(const Json& v) {
  if (v.is_object()) return "map[string]interface {}";
  if (v.is_array()) return "[]interface {}";
  if (v.is_string()) return "string";
  if (v.is_number()) return "float64";
  if (v.is_boolean()) return "bool";
  return "<nil>";
}

kube::ApiError noMergeKey(const Json& m, const std::string& key) {
  return internal("map: " + goValue(m) + " does not contain declared merge key: " + key);
}

// JSON numbers are one Go type (float64) whatever their spelling.
bool sameType(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) return true;
  return a.type() == b.type();
}

// The strategy besides retainKeys ("merge", "replace" or "").
std::string listOrMapStrategy(const TypeNode& t) {
  std::string s = t.patchStrategy;
  for (const std::string drop : {"retainKeys,", ",retainKeys", "retainKeys"}) {
    if (auto p = s.find(drop); p != std::string::npos) s.erase(p, drop.size());
  }
  return s;
}

bool isDirectiveMap(const Json& v) { return v.is_object() && v.contains(kDirective); }

// Drops directive maps and directive keys from a value taken from the patch as it is.
// Returns false when the value itself is a directive.
bool removeDirectives(Json& v) {
  if (v.is_object()) {
    if (v.contains(kDirective)) return false;
    for (auto it = v.begin(); it != v.end();) {
      if (it.key().rfind('$', 0) == 0 || !removeDirectives(it.value())) it = v.erase(it);
      else ++it;
    }
  } else if (v.is_array()) {
    Json out = Json::array();
    for (auto& x : v) {
      if (removeDirectives(x)) out.push_back(std::move(x));
    }
    v = std::move(out);
  }
  return true;
}

void discardNulls(Json& v) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end();) {
      if (it.value().is_null()) it = v.erase(it);
      else discardNulls(*it++);
    }
  } else if (v.is_array()) {
    for (auto& x : v) discardNulls(x);
  }
}

// The kind of a list's elements: object, scalar, or an error (mixed types, lists of lists, empty).
kube::KResult<bool> elementsAreMaps(const Json& a, const Json& b) {
  const Json* prev = nullptr;
  for (const Json* list : {&a, &b}) {
    for (const auto& v : *list) {
      if (!prev) {
        if (v.is_array()) return unprocessable("lists of lists are not supported");
        prev = &v;
      } else if (!sameType(*prev, v)) {
        return internal("list element types are not identical: [" + goValue(a) + " " + goValue(b) + "]");
      }
    }
  }
  if (!prev) return internal("no elements in any of the given slices");
  return prev->is_object();
}

// The position of `item` in `list`, comparing merge key values for maps, values otherwise.
int indexIn(const Json& list, const Json& item, const std::string& mergeKey, bool maps) {
  auto key = [&](const Json& x) -> Json {
    if (!maps) return x;
    return x.is_object() && x.contains(mergeKey) ? x[mergeKey] : Json();
  };
  const Json want = key(item);
  for (size_t i = 0; i < list.size(); ++i) {
    if (key(list[i]) == want) return static_cast<int>(i);
  }
  return -1;
}

kube::KResult<Json> sortByOrder(Json items, const Json& order, const std::string& mergeKey, bool maps) {
  Json deletes = Json::array();
  if (maps) {
    for (const Json* l : {static_cast<const Json*>(&items), &order}) {
      for (const auto& x : *l) {
        if (!x.is_object()) return internal("expected a map[string]interface {}, but received a " + goType(x));
        if (!x.contains(mergeKey)) return noMergeKey(x, mergeKey);
      }
    }
    Json kept = Json::array();
    for (auto& x : items) {
      if (x.contains(kDirective) && x[kDirective] == "delete") deletes.push_back(std::move(x));
      else kept.push_back(std::move(x));
    }
    items = std::move(kept);
  }
  std::vector<Json> v(items.begin(), items.end());
  std::stable_sort(v.begin(), v.end(), [&](const Json& a, const Json& b) {
    int ia = indexIn(order, a, mergeKey, maps), ib = indexIn(order, b, mergeKey, maps);
    return ia >= 0 && ib >= 0 && ia < ib;
  });
  Json out = Json::array();
  for (auto& x : v) out.push_back(std::move(x));
  for (auto& x : deletes) out.push_back(std::move(x));
  return out;
}

// Patch items in the patch's (or $setElementOrder's) order, interleaved with the server-only items
// in their live order.
kube::KResult<Json> normalizeOrder(Json patchItems, Json serverOnly, const Json& patchOrder, const Json& serverOrder,
                                   const std::string& mergeKey, bool maps) {
  auto p = sortByOrder(std::move(patchItems), patchOrder, mergeKey, maps);
  if (!p.ok()) return p.error();
  auto s = sortByOrder(std::move(serverOnly), serverOrder, mergeKey, maps);
  if (!s.ok()) return s.error();
  const Json& left = *s;
  const Json& right = *p;
  Json out = Json::array();
  size_t i = 0, j = 0;
  while (i < left.size() || j < right.size()) {
    if (i >= left.size()) {
      out.push_back(right[j++]);
    } else if (j >= right.size()) {
      out.push_back(left[i++]);
    } else {
      int li = indexIn(serverOrder, left[i], mergeKey, maps), ri = indexIn(serverOrder, right[j], mergeKey, maps);
      if (li >= 0 && ri >= 0 && li < ri) out.push_back(left[i++]);
      else out.push_back(right[j++]);
    }
  }
  return out;
}

// Splits `merged` into the items `by` names and the others.
kube::KResult<std::pair<Json, Json>> partition(const Json& merged, const Json& by, const std::string& mergeKey, bool maps) {
  Json in = Json::array(), out = Json::array();
  for (const auto& v : merged) {
    if (maps) {
      if (!v.is_object()) return internal("expected a map[string]interface {}, but received a " + goType(v));
      if (!v.contains(mergeKey)) return noMergeKey(v, mergeKey);
    }
    bool found = false;
    for (const auto& b : by) {
      if (maps ? (b.is_object() && b.contains(mergeKey) && b[mergeKey] == v[mergeKey]) : b == v) {
        found = true;
        break;
      }
    }
    (found ? in : out).push_back(v);
  }
  return std::make_pair(std::move(in), std::move(out));
}

kube::KResult<Json> mergeMap(Json original, Json patch, const TypeNode& t);

kube::KResult<Json> mergeSlice(Json original, Json patch, const TypeNode& list, const std::string& mergeKey, bool deleteList) {
  if (original.empty() && patch.empty()) return original;
  auto maps = elementsAreMaps(original, patch);
  if (!maps.ok()) return maps.error();
  Json merged;
  if (!*maps) {
    if (deleteList) {
      Json out = Json::array();
      for (const auto& v : original) {
        if (std::find(patch.begin(), patch.end(), v) == patch.end()) out.push_back(v);
      }
      return out;
    }
    merged = Json::array();
    for (const Json* l : {&original, &patch}) {
      for (const auto& v : *l) {
        if (std::find(merged.begin(), merged.end(), v) == merged.end()) merged.push_back(v);
      }
    }
  } else {
    if (mergeKey.empty()) return internal("cannot merge lists without merge key");
    // Special items first: deletions by key, or a replacement of the whole list.
    Json plain = Json::array();
    bool replace = false;
    for (const auto& v : patch) {
      if (!v.contains(kDirective)) {
        plain.push_back(v);
        continue;
      }
      const Json& d = v[kDirective];
      if (d == "delete") {
        if (!v.contains(mergeKey)) return noMergeKey(v, mergeKey);
        Json kept = Json::array();
        for (auto& o : original) {
          if (!(o.is_object() && o.contains(mergeKey) && o[mergeKey] == v[mergeKey])) kept.push_back(std::move(o));
        }
        original = std::move(kept);
      } else if (d == "replace") {
        replace = true;
      } else if (d == "merge") {
        return internal("merging lists cannot yet be specified in the patch");
      } else {
        return internal("unknown patch type: " + goValue(d) + " in map: " + goValue(v));
      }
    }
    if (replace) {
      original = std::move(plain);
      patch = Json::array();
    } else {
      patch = std::move(plain);
    }
    merged = original;
    for (const auto& v : patch) {
      if (!v.contains(mergeKey)) return noMergeKey(v, mergeKey);
      bool found = false;
      for (size_t i = 0; i < merged.size(); ++i) {
        if (!merged[i].is_object()) return internal("value for key " + std::to_string(i) + " is not a map");
        if (merged[i].contains(mergeKey) && merged[i][mergeKey] == v[mergeKey]) {
          auto m = mergeMap(merged[i], v, itemType(list));
          if (!m.ok()) return m.error();
          merged[i] = std::move(*m);
          if (i < original.size()) original[i] = merged[i];
          found = true;
          break;
        }
      }
      if (!found) merged.push_back(v);
    }
  }
  auto parts = partition(merged, patch, mergeKey, *maps);
  if (!parts.ok()) return parts.error();
  return normalizeOrder(std::move(parts->first), std::move(parts->second), patch, original, mergeKey, *maps);
}

kube::KResult<Json> mergeSliceField(const Json& original, const Json& patch, const TypeNode& list, bool deleteList) {
  if (!original.is_array() || !patch.is_array()) {
    return internal("expected a []interface {}, but received a " + goType(original.is_array() ? patch : original));
  }
  if (listOrMapStrategy(list) == "merge" || deleteList) return mergeSlice(original, patch, list, list.patchMergeKey, deleteList);
  Json v = patch;
  removeDirectives(v);
  return v;
}

Status validateOrder(const Json& patchList, const Json& order, const std::string& mergeKey) {
  if (!order.is_array() || !patchList.is_array()) return invalidArgument("invalid patch format of setElementOrder list");
  if (order.empty() || patchList.empty()) return okStatus();
  std::vector<const Json*> items;
  for (const auto& v : patchList) {
    if (!mergeKey.empty() && isDirectiveMap(v) && v[kDirective] == "delete") continue;
    items.push_back(&v);
  }
  size_t p = 0, o = 0;
  while (p < items.size() && o < order.size()) {
    if (isDirectiveMap(*items[p])) {
      ++p;
      continue;
    }
    bool equal = mergeKey.empty() ? *items[p] == order[o]
                                  : (items[p]->is_object() && order[o].is_object() && items[p]->contains(mergeKey) &&
                                     order[o].contains(mergeKey) && (*items[p])[mergeKey] == order[o][mergeKey]);
    if (equal) ++p;
    ++o;
  }
  if (p < items.size() && o >= order.size()) {
    return invalidArgument("The order in patch list:\n" + goValue(patchList) + "\n doesn't match $setElementOrder list:\n" +
                           goValue(order) + "\n");
  }
  return okStatus();
}

// $setElementOrder/<field>: merge the field's list and order it by the directive.
kube::KResult<bool> applyElementOrders(Json& original, Json& patch, const TypeNode& t) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : patch.items()) {
    if (k.rfind(kOrderPrefix, 0) == 0) keys.push_back(k);
  }
  for (const auto& key : keys) {
    Json order = patch[key];
    patch.erase(key);
    if (!order.is_array()) return internal("expected a []interface {}, but received a " + goType(order));
    const std::string field = key.substr(kOrderPrefix.size());
    if (field.empty()) return badRequest("invalid patch format of setElementOrder list");
    const bool inOriginal = original.contains(field), inPatch = patch.contains(field);
    if (inOriginal && !original[field].is_array()) return internal("expected a []interface {}, but received a " + goType(original[field]));
    if (inPatch && !patch[field].is_array()) return internal("expected a []interface {}, but received a " + goType(patch[field]));
    const TypeNode& list = fieldType(t, field);
    const std::string mergeKey = list.patchMergeKey;
    if (inPatch) {
      if (auto s = validateOrder(patch[field], order, mergeKey); !s.ok()) return internal(s.error().message);
    }
    Json merged;
    if (inOriginal && !inPatch) {
      merged = original[field];
    } else if (!inOriginal && inPatch) {
      merged = patch[field];
      removeDirectives(merged);
    } else if (inOriginal && inPatch) {
      auto m = mergeSliceField(original[field], patch[field], list, false);
      if (!m.ok()) return m.error();
      merged = std::move(*m);
    } else {
      continue;
    }
    const Json empty = Json::array();
    auto maps = elementsAreMaps(inOriginal ? original[field] : empty, inPatch ? patch[field] : empty);
    if (maps.ok()) {
      auto parts = partition(merged, order, mergeKey, *maps);
      if (!parts.ok()) return parts.error();
      auto both = normalizeOrder(std::move(parts->first), std::move(parts->second), order,
                                 inOriginal ? original[field] : empty, mergeKey, *maps);
      if (!both.ok()) return both.error();
      merged = std::move(*both);
    }
    original[field] = std::move(merged);
    patch.erase(field);
  }
  return true;
}

kube::KResult<Json> mergeMap(Json original, Json patch, const TypeNode& t) {
  if (patch.contains(kDirective)) {
    const Json d = patch[kDirective];
    if (d == "replace") {
      patch.erase(kDirective);
      return patch;
    }
    if (d == "delete") return Json::object();
    return internal("unknown patch type: " + goValue(d) + " in map: " + goValue(patch));
  }
  if (!original.is_object()) original = Json::object();
  if (patch.contains(kRetainKeys)) {
    const Json retain = patch[kRetainKeys];
    patch.erase(kRetainKeys);
    if (!retain.is_array()) return badRequest("invalid patch format of retainKeys");
    auto retained = [&](const std::string& k) { return std::find(retain.begin(), retain.end(), Json(k)) != retain.end(); };
    for (const auto& [k, v] : patch.items()) {
      if (v.is_null() || k.rfind(kDeletePrefix, 0) == 0 || k.rfind(kOrderPrefix, 0) == 0) continue;
      if (!retained(k)) return badRequest("invalid patch format of retainKeys");
    }
    for (auto it = original.begin(); it != original.end();) {
      if (!retained(it.key())) it = original.erase(it);
      else ++it;
    }
  }
  auto ordered = applyElementOrders(original, patch, t);
  if (!ordered.ok()) return ordered.error();

  for (auto& [rawKey, patchValue] : patch.items()) {
    std::string k = rawKey;
    bool deleteList = false;
    if (k.rfind("$deleteFromPrimitiveList", 0) == 0) {
      if (k.rfind(kDeletePrefix, 0) != 0 || k.size() == kDeletePrefix.size()) return badRequest("invalid patch format of primitive list");
      k = k.substr(kDeletePrefix.size());
      deleteList = true;
    } else if (!k.empty() && k[0] == '$') {
      continue;  // an unknown directive: nothing the object keeps
    }
    Json v = patchValue;
    if (v.is_null()) {
      original.erase(k);
      continue;
    }
    if (!original.contains(k) || !sameType(original[k], v)) {
      if (!deleteList) {
        discardNulls(v);
        if (removeDirectives(v)) original[k] = std::move(v);
        else original.erase(k);
      }
      continue;
    }
    const TypeNode& child = fieldType(t, k);
    if (v.is_object()) {
      if (listOrMapStrategy(child) == "replace") {
        original[k] = std::move(v);
      } else {
        auto m = mergeMap(original[k], std::move(v), child);
        if (!m.ok()) return m.error();
        original[k] = std::move(*m);
      }
    } else if (v.is_array()) {
      auto m = mergeSliceField(original[k], v, child, deleteList);
      if (!m.ok()) return m.error();
      original[k] = std::move(*m);
    } else {
      original[k] = std::move(v);
    }
  }
  return original;
}

}  // namespace

kube::KResult<Json> applyStrategicMergePatch(const Json& original, const Json& patch, const TypeNode& type) {
  if (!patch.is_object()) return badRequest("invalid JSON document");
  return mergeMap(original, patch, type);
}

}  // namespace sdb::apimachinery
