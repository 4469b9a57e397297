#include "e2e/apimachinery/selectors.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

namespace sdb::apimachinery {
namespace {

bool validLabelKey(const std::string& k) {
  static const std::regex re(R"(^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$)");
  return !k.empty() && k.size() <= 317 && std::regex_match(k, re);
}

bool validLabelValue(const std::string& v) {
  static const std::regex re(R"(^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$)");
  return v.size() <= 63 && std::regex_match(v, re);
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> splitTop(const std::string& s) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : s) {
    if (c == '(') depth++;
    if (c == ')') depth--;
    if (c == ',' && depth == 0) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

Error parseError(const std::string& text, const std::string& why) {
  return invalidArgument("unable to parse requirement: " + why + " (in \"" + text + "\")");
}

std::map<std::string, std::string> labelsOf(const Json& object) {
  std::map<std::string, std::string> out;
  if (const Json* l = jsonAt(object, {"metadata", "labels"}); l && l->is_object()) {
    for (const auto& [k, v] : l->items()) {
      if (v.is_string()) out[k] = v.get<std::string>();
    }
  }
  return out;
}

}  // namespace

Result<LabelSelector> LabelSelector::parse(const std::string& text) {
  LabelSelector sel;
  if (trim(text).empty()) return sel;
  static const std::regex setRe(R"(^\s*(\S+)\s+(in|notin)\s*\(([^)]*)\)\s*$)");
  for (const std::string& rawPart : splitTop(text)) {
    const std::string part = trim(rawPart);
    if (part.empty()) return parseError(text, "empty requirement");
    Requirement r;
    std::smatch m;
    if (std::regex_match(part, m, setRe)) {
      r.key = m[1];
      r.op = m[2] == "in" ? Op::kIn : Op::kNotIn;
      for (const std::string& v : splitTop(m[3])) {
        std::string value = trim(v);
        if (!validLabelValue(value)) return parseError(text, "invalid label value: \"" + value + "\"");
        r.values.push_back(value);
      }
    } else if (part.find("!=") != std::string::npos) {
      size_t p = part.find("!=");
      r.key = trim(part.substr(0, p));
      r.op = Op::kNotEquals;
      r.values = {trim(part.substr(p + 2))};
    } else if (part.find("==") != std::string::npos) {
      size_t p = part.find("==");
      r.key = trim(part.substr(0, p));
      r.op = Op::kEquals;
      r.values = {trim(part.substr(p + 2))};
    } else if (part.find('=') != std::string::npos) {
      size_t p = part.find('=');
      r.key = trim(part.substr(0, p));
      r.op = Op::kEquals;
      r.values = {trim(part.substr(p + 1))};
    } else if (part[0] == '!') {
      r.key = trim(part.substr(1));
      r.op = Op::kDoesNotExist;
    } else {
      if (part.find_first_of(" ()") != std::string::npos) return parseError(text, "found '" + part + "', expected: in, notin, =, ==, !=");
      r.key = part;
      r.op = Op::kExists;
    }
    if (!validLabelKey(r.key)) return parseError(text, "invalid label key \"" + r.key + "\"");
    for (const auto& v : r.values) {
      if (!validLabelValue(v)) return parseError(text, "invalid label value: \"" + v + "\"");
    }
    sel.reqs_.push_back(std::move(r));
  }
  return sel;
}

Result<LabelSelector> LabelSelector::fromJson(const Json& s) {
  LabelSelector sel;
  if (!s.is_object()) return sel;
  if (const Json* ml = jsonAt(s, {"matchLabels"}); ml && ml->is_object()) {
    for (const auto& [k, v] : ml->items()) sel.reqs_.push_back({k, Op::kEquals, {v.is_string() ? v.get<std::string>() : ""}});
  }
  if (const Json* me = jsonAt(s, {"matchExpressions"}); me && me->is_array()) {
    for (const auto& e : *me) {
      Requirement r;
      r.key = e.value("key", "");
      const std::string op = e.value("operator", "");
      if (op == "In") r.op = Op::kIn;
      else if (op == "NotIn") r.op = Op::kNotIn;
      else if (op == "Exists") r.op = Op::kExists;
      else if (op == "DoesNotExist") r.op = Op::kDoesNotExist;
      else return invalidArgument("\"" + op + "\" is not a valid label selector operator");
      if (e.contains("values") && e["values"].is_array()) {
        for (const auto& v : e["values"]) r.values.push_back(v.get<std::string>());
      }
      sel.reqs_.push_back(std::move(r));
    }
  }
  return sel;
}

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& r : reqs_) {
    auto it = labels.find(r.key);
    const bool has = it != labels.end();
    const bool inValues = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case Op::kEquals:
      case Op::kIn:
        if (!inValues) return false;
        break;
      case Op::kNotEquals:
      case Op::kNotIn:
        if (inValues) return false;
        break;
      case Op::kExists:
        if (!has) return false;
        break;
      case Op::kDoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

bool LabelSelector::matches(const Json& object) const { return reqs_.empty() || matches(labelsOf(object)); }

std::string fieldValue(const Json& object, const std::string& field) {
  std::vector<std::string> path;
  size_t start = 0;
  while (true) {
    size_t dot = field.find('.', start);
    path.push_back(field.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  const Json* v = jsonAt(object, path);
  if (!v || v->is_null()) return "";
  if (v->is_string()) return v->get<std::string>();
  return v->dump();
}

Result<FieldSelector> FieldSelector::parse(const std::string& text, const std::string& kind) {
  static const std::set<std::string> common = {"metadata.name", "metadata.namespace"};
  static const std::map<std::string, std::set<std::string>> perKind = {
      {"Event",
       {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
        "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
        "reportingComponent", "source", "type"}},
      {"Pod", {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.phase",
               "status.podIP", "status.nominatedNodeName"}},
      {"Secret", {"type"}},
      {"Namespace", {"status.phase"}},
      {"Job", {"status.successful"}},
  };
  FieldSelector sel;
  if (trim(text).empty()) return sel;
  for (const std::string& rawPart : splitTop(text)) {
    const std::string part = trim(rawPart);
    Term t;
    size_t p;
    if ((p = part.find("!=")) != std::string::npos) {
      t = {trim(part.substr(0, p)), false, trim(part.substr(p + 2))};
    } else if ((p = part.find("==")) != std::string::npos) {
      t = {trim(part.substr(0, p)), true, trim(part.substr(p + 2))};
    } else if ((p = part.find('=')) != std::string::npos) {
      t = {trim(part.substr(0, p)), true, trim(part.substr(p + 1))};
    } else {
      return invalidArgument("invalid selector: '" + text + "'; can't understand '" + part + "'");
    }
    auto k = perKind.find(kind);
    if (!common.count(t.field) && (k == perKind.end() || !k->second.count(t.field))) {
      return invalidArgument("field label not supported: " + t.field);
    }
    sel.terms_.push_back(std::move(t));
  }
  return sel;
}

bool FieldSelector::matches(const Json& object) const {
  for (const auto& t : terms_) {
    std::string v = t.field == "source" ? fieldValue(object, "source.component") : fieldValue(object, t.field);
    if ((v == t.value) != t.equals) return false;
  }
  return true;
}

std::string FieldSelector::exactName() const {
  for (const auto& t : terms_) {
    if (t.field == "metadata.name" && t.equals) return t.value;
  }
  return "";
}

}  // namespace sdb::apimachinery
