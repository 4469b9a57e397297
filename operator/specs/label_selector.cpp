#include "operator/specs/label_selector.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace sdb::specs {

namespace {

using KeyConstraint = LabelSelector::KeyConstraint;

Error fieldError(const std::string& field, const std::string& message) { return invalidArgument(field + ": " + message); }

bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63 characters: a label name or value.
std::string nameProblem(const std::string& s) {
  if (s.empty()) return "must not be empty";
  if (s.size() > 63) return "must be at most 63 characters";
  if (!alnum(s.front()) || !alnum(s.back())) return "must start and end with a letter or digit";
  for (char c : s) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return "may contain only letters, digits, '-', '_' and '.'";
  }
  return "";
}

std::string dnsSubdomainProblem(const std::string& s) {
  if (s.empty() || s.size() > 253) return "must be 1 to 253 characters";
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    if (dot == std::string::npos) dot = s.size();
    if (!dnsLabelProblem(s.substr(start, dot - start)).empty()) {
      return "must be lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit";
    }
    start = dot + 1;
  }
  return "";
}

KeyConstraint meet(const KeyConstraint& a, const KeyConstraint& b) {
  KeyConstraint r;
  r.absentAllowed = a.absentAllowed && b.absentAllowed;
  if (a.finite || b.finite) {
    r.finite = true;
    const KeyConstraint& fin = a.finite ? a : b;
    const KeyConstraint& other = a.finite ? b : a;
    for (const auto& v : fin.values) {
      if (other.values.count(v) == (other.finite ? 1u : 0u)) r.values.insert(v);
    }
  } else {
    r.values = a.values;
    r.values.insert(b.values.begin(), b.values.end());
  }
  return r;
}

bool isEmpty(const KeyConstraint& c) { return !c.absentAllowed && c.finite && c.values.empty(); }

bool subsetOf(const KeyConstraint& a, const KeyConstraint& b) {
  if (a.absentAllowed && !b.absentAllowed) return false;
  if (a.finite && b.finite) return std::includes(b.values.begin(), b.values.end(), a.values.begin(), a.values.end());
  if (a.finite) {  // a's strings must avoid everything b excludes
    return std::none_of(a.values.begin(), a.values.end(), [&](const std::string& v) { return b.values.count(v) > 0; });
  }
  if (b.finite) return false;  // infinitely many strings cannot fit a finite set
  return std::includes(a.values.begin(), a.values.end(), b.values.begin(), b.values.end());
}

Result<KeyConstraint> expression(const Json& e, const std::string& field) {
  if (!e.is_object()) return fieldError(field, "must be an object with key, operator and values");
  const Json* key = jsonAt(e, {"key"});
  if (!key || !key->is_string()) return fieldError(field + ".key", "must be a label key");
  if (auto p = labelKeyProblem(key->get<std::string>()); !p.empty()) return fieldError(field + ".key", p);
  const Json* op = jsonAt(e, {"operator"});
  if (!op || !op->is_string()) return fieldError(field + ".operator", "must be In, NotIn, Exists or DoesNotExist");
  const std::string name = op->get<std::string>();
  std::vector<std::string> values;
  if (const Json* vs = jsonAt(e, {"values"}); vs && !vs->is_null()) {
    if (!vs->is_array()) return fieldError(field + ".values", "must be a list of strings");
    for (size_t i = 0; i < vs->size(); ++i) {
      const std::string at = field + ".values[" + std::to_string(i) + "]";
      if (!(*vs)[i].is_string()) return fieldError(at, "must be a string");
      if (auto p = labelValueProblem((*vs)[i].get<std::string>()); !p.empty()) return fieldError(at, p);
      values.push_back((*vs)[i].get<std::string>());
    }
  }
  KeyConstraint c;
  if (name == "In" || name == "NotIn") {
    if (values.empty()) return fieldError(field + ".values", "must be non-empty for " + name);
    c.absentAllowed = name == "NotIn";
    c.finite = name == "In";
    c.values.insert(values.begin(), values.end());
  } else if (name == "Exists" || name == "DoesNotExist") {
    if (!values.empty()) return fieldError(field + ".values", "must be empty for " + name);
    c.absentAllowed = name == "DoesNotExist";
    c.finite = name == "DoesNotExist";
  } else {
    return fieldError(field + ".operator", "unknown operator \"" + name + "\" (In, NotIn, Exists or DoesNotExist)");
  }
  return c;
}

}  // namespace

std::string dnsLabelProblem(const std::string& name) {
  if (name.empty() || name.size() > 63) return "must be 1 to 63 characters";
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return "may contain only lowercase letters, digits and '-'";
    }
  }
  if (name.front() == '-' || name.back() == '-') return "must start and end with a letter or digit";
  return "";
}

std::string labelKeyProblem(const std::string& key) {
  const size_t slash = key.find('/');
  if (slash != std::string::npos) {
    if (auto p = dnsSubdomainProblem(key.substr(0, slash)); !p.empty()) return "prefix of \"" + key + "\" " + p;
  }
  const std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
  if (auto p = nameProblem(name); !p.empty()) return "name of key \"" + key + "\" " + p;
  return "";
}

std::string labelValueProblem(const std::string& value) {
  if (value.empty()) return "";
  if (auto p = nameProblem(value); !p.empty()) return "value \"" + value + "\" " + p;
  return "";
}

Result<LabelSelector> LabelSelector::fromJson(const Json& selector, const std::string& field) {
  if (!selector.is_object()) return fieldError(field, "must be a label selector (matchLabels, matchExpressions)");
  LabelSelector out;
  if (const Json* ml = jsonAt(selector, {"matchLabels"}); ml && !ml->is_null()) {
    if (!ml->is_object()) return fieldError(field + ".matchLabels", "must be a map of label keys to values");
    for (const auto& [key, value] : ml->items()) {
      const std::string at = field + ".matchLabels[\"" + key + "\"]";
      if (auto p = labelKeyProblem(key); !p.empty()) return fieldError(at, p);
      if (!value.is_string()) return fieldError(at, "must be a string");
      if (auto p = labelValueProblem(value.get<std::string>()); !p.empty()) return fieldError(at, p);
      out.constrain(key, KeyConstraint{false, true, {value.get<std::string>()}});
    }
  }
  if (const Json* me = jsonAt(selector, {"matchExpressions"}); me && !me->is_null()) {
    if (!me->is_array()) return fieldError(field + ".matchExpressions", "must be a list of requirements");
    for (size_t i = 0; i < me->size(); ++i) {
      auto c = expression((*me)[i], field + ".matchExpressions[" + std::to_string(i) + "]");
      if (!c.ok()) return c.error();
      out.constrain((*me)[i]["key"].get<std::string>(), *c);
    }
  }
  return out;
}

LabelSelector LabelSelector::fromLabels(const std::map<std::string, std::string>& matchLabels) {
  LabelSelector out;
  for (const auto& [key, value] : matchLabels) out.constrain(key, KeyConstraint{false, true, {value}});
  return out;
}

void LabelSelector::constrain(const std::string& key, const KeyConstraint& c) {
  auto [it, inserted] = keys_.emplace(key, c);
  if (!inserted) it->second = meet(it->second, c);
}

const LabelSelector::KeyConstraint* LabelSelector::constraintOf(const std::string& key) const {
  auto it = keys_.find(key);
  return it == keys_.end() ? nullptr : &it->second;
}

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& [key, c] : keys_) {
    auto it = labels.find(key);
    if (it == labels.end()) {
      if (!c.absentAllowed) return false;
    } else if ((c.values.count(it->second) > 0) != c.finite) {
      return false;
    }
  }
  return true;
}

bool LabelSelector::satisfiable() const {
  return std::none_of(keys_.begin(), keys_.end(), [](const auto& kv) { return isEmpty(kv.second); });
}

bool LabelSelector::implies(const LabelSelector& wider) const {
  if (!satisfiable()) return true;
  static const KeyConstraint kUnconstrained;
  for (const auto& [key, theirs] : wider.keys_) {
    const KeyConstraint* mine = constraintOf(key);
    if (!subsetOf(mine ? *mine : kUnconstrained, theirs)) return false;
  }
  return true;
}

LabelSelector LabelSelector::intersect(const LabelSelector& other) const {
  LabelSelector out = *this;
  for (const auto& [key, c] : other.keys_) out.constrain(key, c);
  return out;
}

std::optional<std::set<std::string>> LabelSelector::finiteValues(const std::string& key) const {
  const KeyConstraint* c = constraintOf(key);
  if (!c || !c->finite) return std::nullopt;
  return c->values;
}

}  // namespace sdb::specs
