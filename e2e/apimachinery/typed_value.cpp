#include "e2e/apimachinery/typed_value.h"

#include <algorithm>
#include <set>

namespace sdb::apimachinery {

namespace {

// Collected errors, printed as structured-merge-diff prints ValidationErrors.
struct Errors {
  std::vector<std::string> list;
  void add(const FieldPath& path, const std::string& message) {
    list.push_back((path.empty() ? "" : pathString(path) + ": ") + message);
  }
  bool any() const { return !list.empty(); }
  Error error() const {
    if (list.size() == 1) return invalidArgument(list[0]);
    std::string out = "errors:";
    for (const auto& e : list) out += "\n  " + e;
    return invalidArgument(out);
  }
};

enum class Shape { kObject, kList, kScalar, kNull };

Shape shapeOf(const Json* v) {
  if (!v || v->is_null()) return Shape::kNull;
  if (v->is_object()) return Shape::kObject;
  if (v->is_array()) return Shape::kList;
  return Shape::kScalar;
}

bool emptyOrNull(const Json* v) { return !v || v->is_null() || ((v->is_object() || v->is_array()) && v->empty()); }

std::string goQuotedList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + dumpJson(Json(v[i]));
  return out + "]";
}

// A list's items with their path elements, in order.
struct Indexed {
  std::vector<PathElement> order;                     // first appearance of each element
  std::map<PathElement, std::vector<const Json*>> items;
};

bool indexList(const Json* list, const TypeNode& t, FieldPath& path, Errors& errs, Indexed& out) {
  if (!list || !list->is_array()) return true;
  bool ok = true;
  for (size_t i = 0; i < list->size(); ++i) {
    auto pe = listItemElement((*list)[i], t);
    if (!pe.ok()) {
      errs.add(path, "element " + std::to_string(i) + ": " + pe.error().message);
      ok = false;
      continue;
    }
    auto& v = out.items[*pe];
    if (v.empty()) out.order.push_back(*pe);
    v.push_back(&(*list)[i]);
  }
  return ok;
}

// ------------------------------------------------------------------ toFieldSet

void fieldsOf(const Json& v, const TypeNode& t, FieldPath& path, bool allowDuplicates, FieldSet& out, Errors& errs) {
  if (v.is_object()) {
    if (t.atomic) {
      out.insert(path);
      return;
    }
    for (const auto& [k, child] : v.items()) {
      bool named = false;
      const TypeNode& ct = fieldType(t, k, &named);
      path.push_back(fieldElement(k));
      fieldsOf(child, ct, path, allowDuplicates, out, errs);
      if (child.is_null() || (child.is_object() && child.empty()) || !named) out.insert(path);
      path.pop_back();
    }
    return;
  }
  if (v.is_array()) {
    if (t.listType == ListType::kAtomic) {
      out.insert(path);
      return;
    }
    Indexed idx;
    indexList(&v, t, path, errs, idx);
    for (const auto& pe : idx.order) {
      const auto& items = idx.items[pe];
      path.push_back(pe);
      if (items.size() > 1) {
        if (!allowDuplicates) {
          path.pop_back();
          errs.add(path, "duplicate entries for key " + pathString({pe}));
          continue;
        }
        out.insert(path);  // duplicates are owned as a whole
      } else {
        fieldsOf(*items[0], itemType(t), path, allowDuplicates, out, errs);
        out.insert(path);
      }
      path.pop_back();
    }
    return;
  }
  out.insert(path);
}

// ------------------------------------------------------------------ compare

struct Comparer {
  Comparison c;
  Errors errs;

  void leaf(const Json* l, const Json* r, const FieldPath& path) {
    if (!l) c.added.insert(path);
    else if (!r) c.removed.insert(path);
    else if (*l != *r) c.modified.insert(path);
  }

  void node(const Json* l, const Json* r, const TypeNode& t, FieldPath& path) {
    const Shape ls = shapeOf(l), rs = shapeOf(r);
    const Shape s = rs != Shape::kNull ? rs : ls;
    if ((ls != Shape::kNull && rs != Shape::kNull && ls != rs) || s == Shape::kScalar || s == Shape::kNull) {
      leaf(l, r, path);
      return;
    }
    const bool bothEmpty = emptyOrNull(l) && emptyOrNull(r);
    if (s == Shape::kObject) {
      if (t.atomic || bothEmpty) {
        leaf(l, r, path);
        return;
      }
      std::set<std::string> keys;
      if (ls == Shape::kObject) for (const auto& [k, x] : l->items()) keys.insert(k);
      if (rs == Shape::kObject) for (const auto& [k, x] : r->items()) keys.insert(k);
      for (const auto& k : keys) {
        const Json* lc = ls == Shape::kObject && l->contains(k) ? &(*l)[k] : nullptr;
        const Json* rc = rs == Shape::kObject && r->contains(k) ? &(*r)[k] : nullptr;
        path.push_back(fieldElement(k));
        node(lc, rc, fieldType(t, k), path);
        path.pop_back();
      }
    } else {
      if (t.listType == ListType::kAtomic || bothEmpty) {
        leaf(l, r, path);
        return;
      }
      Indexed li, ri;
      indexList(ls == Shape::kList ? l : nullptr, t, path, errs, li);
      indexList(rs == Shape::kList ? r : nullptr, t, path, errs, ri);
      std::vector<PathElement> all = li.order;
      for (const auto& pe : ri.order) {
        if (!li.items.count(pe)) all.push_back(pe);
      }
      for (const auto& pe : all) {
        const auto& ll = li.items[pe];
        const auto& rl = ri.items[pe];
        path.push_back(pe);
        if (ll.size() <= 1 && rl.size() <= 1) {
          node(ll.empty() ? nullptr : ll[0], rl.empty() ? nullptr : rl[0], itemType(t), path);
        } else if (ll.size() >= 2 && rl.size() >= 2) {
          bool equal = ll.size() == rl.size();
          for (size_t i = 0; equal && i < ll.size(); ++i) equal = *ll[i] == *rl[i];
          if (!equal) c.modified.insert(path);
        } else if (ll.size() >= 2) {
          if (!rl.empty()) node(nullptr, rl[0], itemType(t), path);
          c.removed.insert(path);
        } else {
          if (!ll.empty()) node(ll[0], nullptr, itemType(t), path);
          c.added.insert(path);
        }
        path.pop_back();
      }
    }
    // A non-leaf node that appeared or disappeared is itself added or removed.
    if (!l) c.added.insert(path);
    else if (!r) c.removed.insert(path);
  }
};

// ------------------------------------------------------------------ merge

struct Merger {
  Errors errs;

  std::optional<Json> leaf(const Json* l, const Json* r) {
    if (r) return *r;
    if (l) return *l;
    return std::nullopt;
  }

  std::optional<Json> node(const Json* l, const Json* r, const TypeNode& t, FieldPath& path) {
    const Shape ls = shapeOf(l), rs = shapeOf(r);
    const Shape s = rs != Shape::kNull ? rs : ls;
    if ((ls != Shape::kNull && rs != Shape::kNull && ls != rs) || s == Shape::kScalar || s == Shape::kNull) return leaf(l, r);
    const bool bothEmpty = emptyOrNull(l) && emptyOrNull(r);
    if (s == Shape::kObject) {
      if (t.atomic || bothEmpty) return leaf(l, r);
      Json out = Json::object();
      std::set<std::string> keys;
      if (ls == Shape::kObject) for (const auto& [k, x] : l->items()) keys.insert(k);
      if (rs == Shape::kObject) for (const auto& [k, x] : r->items()) keys.insert(k);
      for (const auto& k : keys) {
        const Json* lc = ls == Shape::kObject && l->contains(k) ? &(*l)[k] : nullptr;
        const Json* rc = rs == Shape::kObject && r->contains(k) ? &(*r)[k] : nullptr;
        path.push_back(fieldElement(k));
        if (auto v = node(lc, rc, fieldType(t, k), path)) out[k] = std::move(*v);
        path.pop_back();
      }
      if (out.empty()) return std::nullopt;
      return out;
    }
    if (t.listType == ListType::kAtomic || bothEmpty) return leaf(l, r);
    return list(ls == Shape::kList ? l : nullptr, rs == Shape::kList ? r : nullptr, t, path);
  }

  // Items of both sides: the applied side's order for the items it names, the live side's items it
  // does not name kept where they were.
  std::optional<Json> list(const Json* l, const Json* r, const TypeNode& t, FieldPath& path) {
    struct Item {
      PathElement pe;
      const Json* v;
    };
    auto index = [&](const Json* list, bool allowDuplicates, std::vector<Item>& order, std::map<PathElement, const Json*>& seen) {
      if (!list) return;
      for (size_t i = 0; i < list->size(); ++i) {
        auto pe = listItemElement((*list)[i], t);
        if (!pe.ok()) {
          errs.add(path, "element " + std::to_string(i) + ": " + pe.error().message);
          continue;
        }
        auto it = seen.find(*pe);
        if (it != seen.end()) {
          if (!allowDuplicates) {
            errs.add(path, "duplicate entries for key " + pathString({*pe}));
            continue;
          }
          it->second = nullptr;  // a duplicated live item merges as absent
        } else {
          seen[*pe] = &(*list)[i];
        }
        order.push_back({*pe, &(*list)[i]});
      }
    };
    std::vector<Item> lhs, rhs;
    std::map<PathElement, const Json*> seenL, seenR;
    index(r, false, rhs, seenR);
    index(l, true, lhs, seenL);
    if (errs.any()) return std::nullopt;

    std::vector<PathElement> shared;
    for (const auto& it : rhs) {
      if (seenL.count(it.pe)) shared.push_back(it.pe);
    }
    size_t nextShared = 0;
    std::set<PathElement> mergedR;
    Json out = Json::array();
    auto mergeItem = [&](const PathElement& pe, const Json* lc, const Json* rc) {
      path.push_back(pe);
      if (auto v = node(lc, rc, itemType(t), path)) out.push_back(std::move(*v));
      path.pop_back();
    };
    size_t li = 0, ri = 0;
    while (li < lhs.size() || ri < rhs.size()) {
      if (li < lhs.size() && ri < rhs.size()) {
        const PathElement& pe = lhs[li].pe;
        if (pe == rhs[ri].pe) {
          mergedR.insert(pe);
          mergeItem(pe, seenL[pe], seenR[pe]);
          ++li, ++ri;
          if (nextShared < shared.size()) ++nextShared;
          continue;
        }
        if (seenR.count(pe) && nextShared < shared.size() && shared[nextShared] != pe) {
          ++li;  // a shared item, but not the one wanted at this point
          continue;
        }
      }
      if (li < lhs.size()) {
        const PathElement& pe = lhs[li].pe;
        if (!seenR.count(pe)) {
          mergeItem(pe, lhs[li].v, nullptr);
          ++li;
          continue;
        }
        if (mergedR.count(pe)) {
          ++li;
        }
      }
      if (ri < rhs.size()) {
        const PathElement& pe = rhs[ri].pe;
        mergedR.insert(pe);
        mergeItem(pe, seenL.count(pe) ? seenL[pe] : nullptr, seenR[pe]);
        ++ri;
        if (nextShared < shared.size() && shared[nextShared] == pe) ++nextShared;
      }
    }
    if (out.empty()) return std::nullopt;
    return out;
  }
};

// ------------------------------------------------------------------ remove

std::optional<Json> removeFrom(const Json& v, const FieldSet& toRemove, const TypeNode& t) {
  if (v.is_object()) {
    if (v.empty() || t.atomic) return v;
    Json out = Json::object();
    for (const auto& [k, child] : v.items()) {
      const PathElement pe = fieldElement(k);
      if (toRemove.has({pe})) continue;
      FieldSet sub = toRemove.withPrefix(pe);
      if (sub.empty()) {
        out[k] = child;
      } else if (auto kept = removeFrom(child, sub, fieldType(t, k))) {
        out[k] = std::move(*kept);
      }
    }
    if (out.empty()) return std::nullopt;
    return out;
  }
  if (v.is_array()) {
    if (v.empty() || t.listType == ListType::kAtomic) return v;
    Json out = Json::array();
    for (const auto& item : v) {
      auto pe = listItemElement(item, t);
      if (!pe.ok()) {
        out.push_back(item);
        continue;
      }
      if (toRemove.has({*pe})) continue;
      FieldSet sub = toRemove.withPrefix(*pe);
      if (sub.empty()) {
        out.push_back(item);
      } else if (auto kept = removeFrom(item, sub, itemType(t))) {
        out.push_back(std::move(*kept));
      }
    }
    if (out.empty()) return std::nullopt;
    return out;
  }
  return v;
}

void ensureNamed(FieldSet& s, const TypeNode& t) {
  for (auto& [pe, child] : s.mutableChildren()) {
    if (pe.rfind("f:", 0) == 0) {
      bool named = false;
      const TypeNode& ct = fieldType(t, pe.substr(2), &named);
      if (named) child.setMember(true);
      ensureNamed(child, ct);
    } else if (pe.rfind("k:", 0) == 0) {
      ensureNamed(child, itemType(t));
    }
  }
}

}  // namespace

Result<PathElement> listItemElement(const Json& item, const TypeNode& list) {
  if (list.listType == ListType::kMap && !list.keys.empty()) {
    if (item.is_null()) return invalidArgument("associative list with keys may not have a null element");
    if (!item.is_object()) return invalidArgument("associative list with keys may not have non-map elements");
    Json key = Json::object();
    for (const auto& k : list.keys) {
      if (item.contains(k)) {
        key[k] = item[k];
      } else if (auto d = list.keyDefaults.find(k); d != list.keyDefaults.end()) {
        key[k] = d->second;
      }
    }
    if (key.empty()) {
      return invalidArgument("associative list with keys has an element that omits all key fields " + goQuotedList(list.keys) +
                             " (and doesn't have default values for any key fields)");
    }
    return keyElement(key);
  }
  if (item.is_object()) return invalidArgument("associative list without keys has an element that's a map type");
  if (item.is_array()) return invalidArgument("not supported: associative list with lists as elements");
  if (item.is_null()) return invalidArgument("associative list without keys has an element that's an explicit null");
  return valueElement(item);
}

Result<FieldSet> toFieldSet(const Json& object, const TypeNode& type, bool allowDuplicates) {
  FieldSet out;
  Errors errs;
  FieldPath path;
  fieldsOf(object, type, path, allowDuplicates, out, errs);
  if (errs.any()) return errs.error();
  return out;
}

Result<Comparison> compareObjects(const Json& lhs, const Json& rhs, const TypeNode& type) {
  Comparer c;
  FieldPath path;
  c.node(&lhs, &rhs, type, path);
  if (c.errs.any()) return c.errs.error();
  return std::move(c.c);
}

Result<Json> mergeObjects(const Json& live, const Json& config, const TypeNode& type) {
  Merger m;
  FieldPath path;
  auto out = m.node(&live, &config, type, path);
  if (m.errs.any()) return m.errs.error();
  return out ? std::move(*out) : Json::object();
}

Json removeItems(const Json& object, const FieldSet& set, const TypeNode& type) {
  auto out = removeFrom(object, set, type);
  return out ? std::move(*out) : Json::object();
}

FieldSet ensureNamedFieldsAreMembers(const FieldSet& set, const TypeNode& type) {
  FieldSet out = set;
  ensureNamed(out, type);
  return out;
}

}  // namespace sdb::apimachinery
