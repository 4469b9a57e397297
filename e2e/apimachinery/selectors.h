// Label selectors (equality- and set-based) and field selectors, parsed and matched as
// kube-apiserver does. Parse errors are worded like apimachinery's, for 400 BadRequest answers.
//
// Contract: parsed selectors are immutable values, safe to share across threads.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "operator/core/json.h"
#include "operator/core/result.h"

namespace sdb::apimachinery {

class LabelSelector {
 public:
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };
  // "a=b,c!=d,e in (x,y),f notin (z),g,!h". Empty matches everything.
  static Result<LabelSelector> parse(const std::string& text);
  // metav1.LabelSelector JSON ({matchLabels, matchExpressions}).
  static Result<LabelSelector> fromJson(const Json& selector);
  bool matches(const std::map<std::string, std::string>& labels) const;
  bool matches(const Json& object) const;  // metadata.labels
  bool empty() const { return reqs_.empty(); }

 private:
  std::vector<Requirement> reqs_;
};

class FieldSelector {
 public:
  // "metadata.name=x,metadata.namespace!=y". Supported fields depend on the kind (see supported()).
  static Result<FieldSelector> parse(const std::string& text, const std::string& kind);
  bool matches(const Json& object) const;
  bool empty() const { return terms_.empty(); }
  // The value the selector pins metadata.name to, if any (lets lists skip a scan).
  std::string exactName() const;

 private:
  struct Term {
    std::string field;
    bool equals;
    std::string value;
  };
  std::vector<Term> terms_;
};

// The value of a selectable field of an object ("metadata.name", "involvedObject.uid", ...).
std::string fieldValue(const Json& object, const std::string& field);

}  // namespace sdb::apimachinery
