#include "e2e/apimachinery/field_set.h"

namespace sdb::apimachinery {

PathElement fieldElement(const std::string& name) { return "f:" + name; }
PathElement keyElement(const Json& keyFields) { return "k:" + dumpJson(keyFields); }
PathElement valueElement(const Json& value) { return "v:" + dumpJson(value); }
PathElement indexElement(size_t index) { return "i:" + std::to_string(index); }

namespace {

// structured-merge-diff's value.ToString: strings quoted, numbers and booleans bare.
std::string valueString(const Json& v) {
  if (v.is_string()) return dumpJson(v);
  if (v.is_object()) {
    std::string out;
    for (const auto& [k, x] : v.items()) out += k + "=" + valueString(x);
    return out;
  }
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + valueString(v[i]);
    return out + "]";
  }
  return dumpJson(v);
}

}  // namespace

std::string pathString(const FieldPath& path) {
  std::string out;
  for (const auto& pe : path) {
    const std::string body = pe.size() > 2 ? pe.substr(2) : "";
    switch (pe.empty() ? '?' : pe[0]) {
      case 'f':
        out += "." + body;
        break;
      case 'k': {
        auto keys = parseJson(body);
        out += "[";
        if (keys.ok() && keys->is_object()) {
          bool first = true;
          for (const auto& [k, v] : keys->items()) {
            out += (first ? "" : ",") + k + "=" + valueString(v);
            first = false;
          }
        }
        out += "]";
        break;
      }
      case 'v': {
        auto v = parseJson(body);
        out += "[=" + (v.ok() ? valueString(*v) : body) + "]";
        break;
      }
      case 'i':
        out += "[" + body + "]";
        break;
      default:
        out += "{{invalid path element}}";
    }
  }
  return out;
}

void FieldSet::insert(const FieldPath& path) {
  if (path.empty()) return;
  FieldSet* node = this;
  for (const auto& pe : path) node = &node->children_[pe];
  node->member_ = true;
}

bool FieldSet::has(const FieldPath& path) const {
  if (path.empty()) return false;
  const FieldSet* node = this;
  for (const auto& pe : path) {
    auto it = node->children_.find(pe);
    if (it == node->children_.end()) return false;
    node = &it->second;
  }
  return node->member_;
}

bool FieldSet::empty() const {
  for (const auto& [pe, c] : children_) {
    if (c.member_ || !c.empty()) return false;
  }
  return true;
}

size_t FieldSet::size() const {
  size_t n = 0;
  for (const auto& [pe, c] : children_) n += (c.member_ ? 1 : 0) + c.size();
  return n;
}

void FieldSet::prune() {
  for (auto it = children_.begin(); it != children_.end();) {
    it->second.prune();
    if (!it->second.member_ && it->second.children_.empty()) it = children_.erase(it);
    else ++it;
  }
}

FieldSet FieldSet::unionWith(const FieldSet& other) const {
  FieldSet out = *this;
  for (const auto& [pe, c] : other.children_) {
    auto it = out.children_.find(pe);
    if (it == out.children_.end()) {
      out.children_[pe] = c;
    } else {
      bool m = it->second.member_ || c.member_;
      it->second = it->second.unionWith(c);
      it->second.member_ = m;
    }
  }
  return out;
}

FieldSet FieldSet::intersection(const FieldSet& other) const {
  FieldSet out;
  for (const auto& [pe, c] : children_) {
    auto it = other.children_.find(pe);
    if (it == other.children_.end()) continue;
    FieldSet x = c.intersection(it->second);
    x.member_ = c.member_ && it->second.member_;
    out.children_[pe] = std::move(x);
  }
  out.prune();
  return out;
}

FieldSet FieldSet::difference(const FieldSet& other) const {
  FieldSet out;
  for (const auto& [pe, c] : children_) {
    auto it = other.children_.find(pe);
    if (it == other.children_.end()) {
      out.children_[pe] = c;
      continue;
    }
    FieldSet x = c.difference(it->second);
    x.member_ = c.member_ && !it->second.member_;
    out.children_[pe] = std::move(x);
  }
  out.prune();
  return out;
}

FieldSet FieldSet::recursiveDifference(const FieldSet& prefixes) const {
  FieldSet out;
  for (const auto& [pe, c] : children_) {
    auto it = prefixes.children_.find(pe);
    if (it == prefixes.children_.end()) {
      out.children_[pe] = c;
      continue;
    }
    if (it->second.member_) continue;  // everything at and below it goes
    FieldSet x = c.recursiveDifference(it->second);
    x.member_ = c.member_;
    out.children_[pe] = std::move(x);
  }
  out.prune();
  return out;
}

FieldSet FieldSet::withPrefix(const PathElement& element) const {
  auto it = children_.find(element);
  if (it == children_.end()) return {};
  FieldSet out;
  out.children_ = it->second.children_;
  return out;
}

void FieldSet::collect(FieldPath& prefix, std::vector<FieldPath>& out) const {
  for (const auto& [pe, c] : children_) {
    if (!c.member_) continue;
    prefix.push_back(pe);
    out.push_back(prefix);
    prefix.pop_back();
  }
  for (const auto& [pe, c] : children_) {
    prefix.push_back(pe);
    c.collect(prefix, out);
    prefix.pop_back();
  }
}

std::vector<FieldPath> FieldSet::paths() const {
  std::vector<FieldPath> out;
  FieldPath prefix;
  collect(prefix, out);
  return out;
}

Json FieldSet::toFieldsV1() const {
  Json out = Json::object();
  for (const auto& [pe, c] : children_) {
    if (!c.member_ && c.empty()) continue;
    Json node = c.toFieldsV1();
    if (c.member_ && !node.empty()) node["."] = Json::object();
    out[pe] = std::move(node);
  }
  return out;
}

Result<FieldSet> FieldSet::fromFieldsV1(const Json& fields) {
  if (!fields.is_object()) return invalidArgument("fieldsV1 must be an object");
  FieldSet out;
  for (const auto& [k, v] : fields.items()) {
    if (k == ".") continue;
    if (k.size() < 2 || k[1] != ':' || std::string("fkvi").find(k[0]) == std::string::npos) {
      return invalidArgument("fieldsV1: unknown path element \"" + k + "\"");
    }
    auto child = fromFieldsV1(v);
    if (!child.ok()) return child.error();
    // A leaf ({}) is a member; a node with children is a member only when it says so with ".".
    child->member_ = v.empty() || v.contains(".");
    out.children_[k] = std::move(*child);
  }
  return out;
}

}  // namespace sdb::apimachinery
