// Label selectors (metav1.LabelSelector) as symbolic sets of label maps, so that questions about
// *every* pod a selector could ever match can be answered exactly, not by sampling pods:
// - matches(labels): does this pod's label map satisfy it;
// - implies(wider): is every label map this selector matches also matched by `wider`;
// - intersect / satisfiable: could one label map satisfy both.
//
// Model: a selector is a conjunction of per-key requirements, and a label map is a choice, for each
// key, of "absent" or one string. Every requirement constrains a single key, so a selector is the
// product over keys of the allowed choices: whether "absent" is allowed, and the allowed strings as
// either a finite set (In, matchLabels) or everything but a finite set (NotIn, Exists). Both
// questions above then reduce to per-key set operations and are decided exactly. Valid label
// values are treated as an infinite set, which errs only toward "does not imply".
//
// Parsing validates as kube-apiserver does (operators In/NotIn with values, Exists/DoesNotExist
// without; qualified-name keys; label values) and names the offending field in the error:
// "<field>.matchExpressions[0].values: must be non-empty for In".
//
// Contract: immutable values, pure functions, thread-safe.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "operator/core/json.h"
#include "operator/core/result.h"

namespace sdb::specs {

class LabelSelector {
 public:
  // The allowed choices for one key.
  struct KeyConstraint {
    bool absentAllowed = true;
    bool finite = false;           // true: the allowed strings are `values`; false: all strings but `values`
    std::set<std::string> values;
    bool operator==(const KeyConstraint&) const = default;
  };

  // Matches every label map (the selector {}).
  LabelSelector() = default;
  // `field` is the selector's path in its object, for error messages ("spec.access.podSelector").
  static Result<LabelSelector> fromJson(const Json& selector, const std::string& field);
  static LabelSelector fromLabels(const std::map<std::string, std::string>& matchLabels);

  bool matches(const std::map<std::string, std::string>& labels) const;
  // Some label map satisfies every requirement.
  bool satisfiable() const;
  // Every label map this selector matches is matched by `wider` (vacuously true when unsatisfiable).
  bool implies(const LabelSelector& wider) const;
  // Matches exactly the label maps both match.
  LabelSelector intersect(const LabelSelector& other) const;
  // The finite set of strings `key` must take when present (nullopt when it may take infinitely
  // many, or is unconstrained). For keys every object carries, this is the set of possible values.
  std::optional<std::set<std::string>> finiteValues(const std::string& key) const;

 private:
  void constrain(const std::string& key, const KeyConstraint& c);
  const KeyConstraint* constraintOf(const std::string& key) const;
  std::map<std::string, KeyConstraint> keys_;  // keys without an entry are unconstrained
};

// Kubernetes' syntax rules; "" when fine, else the reason.
std::string labelKeyProblem(const std::string& key);
std::string labelValueProblem(const std::string& value);
// An RFC 1123 label (namespace names): "" when fine, else the reason.
std::string dnsLabelProblem(const std::string& name);

}  // namespace sdb::specs
