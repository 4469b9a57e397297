// The shape of objects that field ownership (server-side apply) and strategic merge patch need:
// which objects are structs (named fields) or maps, which are atomic, and how each list merges
// (atomic, a set of scalars, or a map keyed by some of its items' fields), plus the strategic
// merge patch strategies and merge keys of built-in kinds.
//
// Built-in kinds: a table written after Kubernetes' API types (the listType/listMapKey,
// structType=atomic, mapType=atomic, patchStrategy and patchMergeKey markers of k8s.io/api).
// Anything the table does not name is a struct whose lists are atomic, as kube-apiserver treats
// fields without markers. Custom resources: derived from the CRD version's structural schema
// (x-kubernetes-list-type, x-kubernetes-list-map-keys, x-kubernetes-map-type,
// x-kubernetes-preserve-unknown-fields, additionalProperties).
//
// Contract: TypeNodes are immutable once built and shared; every function is thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "e2e/apimachinery/registry.h"
#include "operator/core/json.h"

namespace sdb::apimachinery {

struct TypeNode;
using TypeRef = std::shared_ptr<const TypeNode>;

enum class ListType { kAtomic, kSet, kMap };

struct TypeNode {
  // As an object.
  std::map<std::string, TypeRef> fields;  // named (declared) fields
  TypeRef elements;                       // type of other keys; null: a struct-like node of the same kind
  bool undeclaredAreMembers = false;      // map entries (and deduced keys) are owned as fields themselves
  bool atomic = false;                    // an atomic object or map: owned and replaced as a whole
  // As a list.
  ListType listType = ListType::kAtomic;
  std::vector<std::string> keys;           // ListType::kMap
  std::map<std::string, Json> keyDefaults;  // e.g. protocol: "TCP" for ports
  TypeRef items;
  // Strategic merge patch (built-in kinds): "", "merge", "replace", "retainKeys" or "merge,retainKeys".
  std::string patchStrategy;
  std::string patchMergeKey;
};

// The type of `key` below an object of type `t`. `named` says whether the key is a struct field
// (declared, or any key of a built-in struct) rather than a map entry, which is owned on its own.
const TypeNode& fieldType(const TypeNode& t, const std::string& key, bool* named = nullptr);
// The type of an item of a list of type `t`.
const TypeNode& itemType(const TypeNode& t);

// The schema of a resource's objects (the built-in table, or the CRD version's schema).
TypeRef schemaFor(const ResourceInfo& info);

// What kube-apiserver compares a new object against on create: the kind's zero value, with the
// struct fields Go always serialises (metadata, spec, status, pod templates, ...).
Json emptyObjectFor(const ResourceInfo& info);

}  // namespace sdb::apimachinery
