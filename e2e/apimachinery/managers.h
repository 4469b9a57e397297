// Internal to the store library: managedFields entries as structured-merge-diff's ManagedFields
// (one field set per manager identity), their wire form, and the bookkeeping kube-apiserver does on
// them (fields it never tracks, at most 10 Update entries).
//
// Contract: plain values and pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "e2e/apimachinery/field_set.h"

namespace sdb::apimachinery {

struct Entry {
  std::string manager, operation, subresource;
  std::string apiVersion;  // the version the fields are expressed in
  FieldSet fields;
  std::optional<std::string> time;
  bool applied() const { return operation == "Apply"; }
};
// Keyed by kube-apiserver's manager identifier (see identifier()).
using Managers = std::map<std::string, Entry>;

// The JSON kube-apiserver identifies a manager by: the entry without its fields and time, and
// without its apiVersion for appliers (so an applier keeps one entry across versions).
std::string identifier(const std::string& manager, const std::string& operation, const std::string& apiVersion,
                       const std::string& subresource);
// How conflicts name a manager: "kubectl-client-side-apply" using apps/v1, "m" with subresource "status".
std::string printManager(const Entry& e);
// metadata.managedFields (null or absent: none) to entries; an error for an ill-formed list.
Result<Managers> decodeManagers(const Json* managedFields);
// Entries to metadata.managedFields, ordered as kube-apiserver orders them; null when none.
Json encodeManagers(const Managers& managers);
// Fields kube-apiserver never records as owned (apiVersion, kind, metadata's identity and versions).
const FieldSet& strippedFields();
// Drops those from one manager's set (and the manager when nothing is left).
void stripManager(Managers& managers, const std::string& key);
// At most 10 Update entries: the oldest merge into "ancient-changes" per version.
void capUpdateManagers(Managers& managers);

}  // namespace sdb::apimachinery
