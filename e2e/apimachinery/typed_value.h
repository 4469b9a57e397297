// Schema-aware operations on objects for server-side apply, with structured-merge-diff's semantics
// (its typed package): the set of fields an object sets, the comparison of two objects, the merge
// of an applied configuration into a live object, and the removal of fields.
//
// Lists merge by their type (type_schema.h): atomic lists are leaves; sets by value; maps by key.
// Objects are walked field by field unless atomic. Values are JSON; "absent" is a null pointer,
// distinct from a present JSON null.
//
// Errors are worded as structured-merge-diff words them, e.g.
//   .spec.ports: element 0: associative list with keys has an element that omits all key fields ["port" "protocol"] ...
//   .spec.containers: duplicate entries for key [name="app"]
//
// Contract: pure functions, thread-safe.
#pragma once

#include <optional>

#include "e2e/apimachinery/field_set.h"
#include "e2e/apimachinery/type_schema.h"

namespace sdb::apimachinery {

struct Comparison {
  FieldSet added, modified, removed;
  bool same() const { return added.empty() && modified.empty() && removed.empty(); }
};

// Every field the object sets (leaves, list items, empty and null objects, map entries).
// `allowDuplicates`: live objects may hold duplicate list keys (owned as whole items); applied
// configurations may not.
Result<FieldSet> toFieldSet(const Json& object, const TypeNode& type, bool allowDuplicates);

// What changed from `lhs` to `rhs`.
Result<Comparison> compareObjects(const Json& lhs, const Json& rhs, const TypeNode& type);

// `config` merged into `live`: config's values win, list items merge by key or value, and live's
// items that config does not name keep their places.
Result<Json> mergeObjects(const Json& live, const Json& config, const TypeNode& type);

// `object` without the member paths of `set` (a removed object or list that ends up empty goes too).
Json removeItems(const Json& object, const FieldSet& set, const TypeNode& type);

// `set` plus every named struct field on the way to its members (not map keys or list items).
FieldSet ensureNamedFieldsAreMembers(const FieldSet& set, const TypeNode& type);

// The path element of one item of a list of type `list`, or the error saying why there is none.
Result<PathElement> listItemElement(const Json& item, const TypeNode& list);

}  // namespace sdb::apimachinery
