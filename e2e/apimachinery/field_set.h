// Sets of field paths, as server-side apply tracks ownership in metadata.managedFields
// (structured-merge-diff's fieldpath.Set), with their wire form "fieldsV1":
//
//   {"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{}}}}}}}
//
// A path element is kept in its fieldsV1 spelling: "f:<field>", "k:<JSON object of key fields>" (an
// item of an associative list), "v:<JSON value>" (an item of a set) or "i:<index>". A path is a
// member of the set or only a prefix of members; "." marks a prefix that is a member itself.
//
// Contract: plain values; pure functions; not thread-safe to mutate concurrently.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "operator/core/json.h"
#include "operator/core/result.h"

namespace sdb::apimachinery {

using PathElement = std::string;
using FieldPath = std::vector<PathElement>;

PathElement fieldElement(const std::string& name);
PathElement keyElement(const Json& keyFields);  // an object of the item's key fields
PathElement valueElement(const Json& value);
PathElement indexElement(size_t index);

// A path as kube-apiserver prints it in conflicts and errors: .spec.containers[name="app"].image,
// .metadata.finalizers[="x"], .spec.ports[port=80,protocol="TCP"], .args[0].
std::string pathString(const FieldPath& path);

class FieldSet {
 public:
  void insert(const FieldPath& path);
  bool has(const FieldPath& path) const;
  bool empty() const;
  size_t size() const;  // number of member paths

  FieldSet unionWith(const FieldSet& other) const;
  FieldSet intersection(const FieldSet& other) const;
  // Members of this set that are not members of `other` (prefixes are not involved).
  FieldSet difference(const FieldSet& other) const;
  // Drops every member at or below a member of `prefixes`.
  FieldSet recursiveDifference(const FieldSet& prefixes) const;
  // The members below `element`, relative to it (fieldpath's WithPrefix); empty when none.
  FieldSet withPrefix(const PathElement& element) const;
  // Every member path, in the order structured-merge-diff iterates them (a node's own members,
  // then its children's, each sorted).
  std::vector<FieldPath> paths() const;

  Json toFieldsV1() const;
  static Result<FieldSet> fromFieldsV1(const Json& fields);

  bool operator==(const FieldSet& o) const { return member_ == o.member_ && children_ == o.children_; }

  // Tree access for schema-aware walks (ensureNamedFieldsAreMembers).
  bool isMember() const { return member_; }
  void setMember(bool m) { member_ = m; }
  const std::map<PathElement, FieldSet>& children() const { return children_; }
  std::map<PathElement, FieldSet>& mutableChildren() { return children_; }

 private:
  void prune();
  void collect(FieldPath& prefix, std::vector<FieldPath>& out) const;
  bool member_ = false;
  std::map<PathElement, FieldSet> children_;
};

}  // namespace sdb::apimachinery
