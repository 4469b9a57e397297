#include "e2e/localcluster/protobuf_json.h"

#include <map>
#include <mutex>
#include <sstream>

#include "operator/backup/crypto_util.h"
#include "operator/core/clock.h"

namespace sdb::localcluster {

namespace {

struct Field {
  std::string name;
  std::string type;  // scalar, message or "map:V"
  bool repeated = false, inlined = false, unsupported = false, pointer = false;
};
using Schema = std::map<std::string, std::map<uint64_t, Field>>;

const Schema& schema() {
  static const Schema parsed = [] {
    Schema s;
    std::istringstream in(protobufSchemaText());
    std::string line;
    while (std::getline(in, line)) {
      const auto colon = line.find(": ");
      if (colon == std::string::npos) continue;
      auto& fields = s[line.substr(0, colon)];
      std::istringstream parts(line.substr(colon + 2));
      std::string part;
      while (std::getline(parts, part, ';')) {
        std::istringstream p(part);
        uint64_t number = 0;
        Field f;
        p >> number >> f.name >> f.type;
        if (f.name[0] == '^') f.inlined = true, f.name = f.name.substr(1);
        if (f.type.rfind("[]", 0) == 0) f.repeated = true, f.type = f.type.substr(2);
        if (f.type[0] == '!') f.unsupported = true, f.type = f.type.substr(1);
        if (f.type[0] == '?') f.pointer = true, f.type = f.type.substr(1);
        fields[number] = f;
      }
    }
    return s;
  }();
  return parsed;
}

struct Reader {
  const uint8_t* p;
  const uint8_t* end;
  bool done() const { return p >= end; }
  Result<uint64_t> varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) return invalidArgument("truncated varint");
      const uint8_t b = *p++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return invalidArgument("varint too long");
  }
  Result<std::string> bytes() {
    auto n = varint();
    if (!n.ok()) return n.error();
    if (*n > static_cast<uint64_t>(end - p)) return invalidArgument("truncated length-delimited field");
    std::string s(reinterpret_cast<const char*>(p), *n);
    p += *n;
    return s;
  }
  Status skip(int wireType) {
    switch (wireType) {
      case 0: return varint().ok() ? okStatus() : Status(invalidArgument("bad varint"));
      case 1: if (end - p < 8) return invalidArgument("truncated"); p += 8; return okStatus();
      case 2: return bytes().ok() ? okStatus() : Status(invalidArgument("bad bytes"));
      case 5: if (end - p < 4) return invalidArgument("truncated"); p += 4; return okStatus();
      default: return invalidArgument("unsupported wire type " + std::to_string(wireType));
    }
  }
};

Result<Json> decodeMessage(const std::string& type, const std::string& data);

// Whether `data` parses as a message whose every field is zero (0, "" or a zero message), which is
// what Go writes for an unset value-type struct such as an empty status.
bool isZeroMessage(const std::string& data, int depth = 0) {
  if (depth > 8) return false;
  Reader r{reinterpret_cast<const uint8_t*>(data.data()), reinterpret_cast<const uint8_t*>(data.data()) + data.size()};
  while (!r.done()) {
    auto key = r.varint();
    if (!key.ok()) return false;
    const int wire = static_cast<int>(*key & 7);
    if (wire == 0) {
      auto v = r.varint();
      if (!v.ok() || *v != 0) return false;
    } else if (wire == 2) {
      auto b = r.bytes();
      if (!b.ok() || !isZeroMessage(*b, depth + 1)) return false;
    } else {
      return false;
    }
  }
  return true;
}

// One value of `f` (wire type already checked against the field's kind by the caller).
Result<Json> scalarFromVarint(const std::string& type, uint64_t v) {
  if (type == "bool") return Json(v != 0);
  if (type == "int32") return Json(static_cast<int32_t>(static_cast<uint32_t>(v)));
  if (type == "int64") return Json(static_cast<int64_t>(v));
  return invalidArgument("a varint for a " + type + " field");
}

Result<Json> special(const std::string& type, const std::string& data) {
  Reader r{reinterpret_cast<const uint8_t*>(data.data()), reinterpret_cast<const uint8_t*>(data.data()) + data.size()};
  int64_t seconds = 0, intVal = 0, kind = 0;
  std::string str;
  bool haveStr = false;
  while (!r.done()) {
    auto key = r.varint();
    if (!key.ok()) return key.error();
    const uint64_t number = *key >> 3;
    const int wire = static_cast<int>(*key & 7);
    if (wire == 0) {
      auto v = r.varint();
      if (!v.ok()) return v.error();
      if (type == "Time" || type == "MicroTime") {
        if (number == 1) seconds = static_cast<int64_t>(*v);
      } else if (type == "IntOrString") {
        if (number == 1) kind = static_cast<int64_t>(*v);
        if (number == 2) intVal = static_cast<int32_t>(static_cast<uint32_t>(*v));
      }
    } else if (wire == 2) {
      auto b = r.bytes();
      if (!b.ok()) return b.error();
      if (number == 1 && (type == "Quantity" || type == "RawExtension")) str = *b, haveStr = true;
      if (number == 3 && type == "IntOrString") str = *b, haveStr = true;
    } else {
      SDB_TRY(r.skip(wire));
    }
  }
  // A zero Time is Go's unset value, which JSON writes as null (dropped by the caller).
  if (type == "Time" || type == "MicroTime") {
    return seconds == 0 ? Json() : Json(formatRfc3339(std::chrono::system_clock::from_time_t(seconds)));
  }
  if (type == "Quantity") return Json(str);
  if (type == "IntOrString") return kind == 1 ? Json(str) : Json(intVal);
  if (type == "RawExtension") {
    if (!haveStr) return Json();
    auto j = parseJson(str, "RawExtension");
    if (!j.ok()) return j.error();
    return *j;
  }
  return invalidArgument("unknown special type " + type);
}

bool isSpecial(const std::string& t) {
  return t == "Time" || t == "MicroTime" || t == "Quantity" || t == "IntOrString" || t == "RawExtension";
}

Result<Json> valueFromBytes(const std::string& type, const std::string& data) {
  if (type == "string") return Json(data);
  if (type == "bytes") return Json(backup::crypto::toBase64(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  if (isSpecial(type)) return special(type, data);
  return decodeMessage(type, data);
}

Result<Json> decodeMessage(const std::string& type, const std::string& data) {
  const auto& s = schema();
  auto it = s.find(type);
  if (it == s.end()) return invalidArgument("message " + type + " is not decoded by the local cluster");
  const auto& fields = it->second;
  Json out = Json::object();
  Reader r{reinterpret_cast<const uint8_t*>(data.data()), reinterpret_cast<const uint8_t*>(data.data()) + data.size()};
  while (!r.done()) {
    auto key = r.varint();
    if (!key.ok()) return key.error().wrap(type);
    const uint64_t number = *key >> 3;
    const int wire = static_cast<int>(*key & 7);
    auto f = fields.find(number);
    if (f == fields.end()) return invalidArgument(type + " field " + std::to_string(number) + " is not decoded by the local cluster");
    const Field& field = f->second;
    if (field.unsupported) {
      // Go writes value-type structs even when zero (an empty status, say): empty is nothing to lose.
      Reader peek = r;
      auto b = wire == 2 ? peek.bytes() : Result<std::string>(invalidArgument(""));
      if (b.ok() && isZeroMessage(*b)) {
        r = peek;
        continue;
      }
      return invalidArgument(type + "." + field.name + " (" + field.type + ") is not supported by the local cluster");
    }
    auto add = [&](Json v) {
      if (v.is_null()) return;
      // A zero value-type scalar is what Go writes for "unset"; JSON (omitempty) leaves it out.
      const bool zero = (v.is_string() && v.get<std::string>().empty()) || (v.is_boolean() && !v.get<bool>()) ||
                        (v.is_number_integer() && v.get<int64_t>() == 0);
      if (zero && !field.pointer && !field.repeated && (field.type == "string" || field.type == "bool" ||
                                                        field.type == "int32" || field.type == "int64")) {
        return;
      }
      if (field.repeated) {
        if (!out.contains(field.name)) out[field.name] = Json::array();
        out[field.name].push_back(std::move(v));
      } else {
        out[field.name] = std::move(v);
      }
    };
    if (field.type.rfind("map:", 0) == 0) {
      const std::string valueType = field.type.substr(4);
      auto entry = r.bytes();
      if (!entry.ok()) return entry.error().wrap(type + "." + field.name);
      Reader e{reinterpret_cast<const uint8_t*>(entry->data()), reinterpret_cast<const uint8_t*>(entry->data()) + entry->size()};
      std::string k;
      Json v = valueType == "string" || valueType == "bytes" ? Json("") : Json();
      while (!e.done()) {
        auto ek = e.varint();
        if (!ek.ok()) return ek.error();
        if ((*ek & 7) != 2) {
          SDB_TRY(e.skip(static_cast<int>(*ek & 7)));
          continue;
        }
        auto b = e.bytes();
        if (!b.ok()) return b.error();
        if ((*ek >> 3) == 1) {
          k = *b;
        } else if ((*ek >> 3) == 2) {
          auto decoded = valueFromBytes(valueType, *b);
          if (!decoded.ok()) return decoded.error().wrap(type + "." + field.name + "[" + k + "]");
          v = *decoded;
        }
      }
      if (!out.contains(field.name)) out[field.name] = Json::object();
      out[field.name][k] = v;
      continue;
    }
    if (wire == 0) {
      auto v = r.varint();
      if (!v.ok()) return v.error();
      auto j = scalarFromVarint(field.type, *v);
      if (!j.ok()) return j.error().wrap(type + "." + field.name);
      add(*j);
    } else if (wire == 2) {
      auto b = r.bytes();
      if (!b.ok()) return b.error().wrap(type + "." + field.name);
      if (field.repeated && (field.type == "int32" || field.type == "int64" || field.type == "bool")) {
        Reader packed{reinterpret_cast<const uint8_t*>(b->data()), reinterpret_cast<const uint8_t*>(b->data()) + b->size()};
        while (!packed.done()) {
          auto v = packed.varint();
          if (!v.ok()) return v.error();
          add(*scalarFromVarint(field.type, *v));
        }
        continue;
      }
      auto j = valueFromBytes(field.type, *b);
      if (!j.ok()) return j.error();
      if (field.inlined) {
        for (auto& [k, v] : j->items()) out[k] = v;
      } else {
        add(*j);
      }
    } else {
      return invalidArgument(type + "." + field.name + ": unexpected wire type " + std::to_string(wire));
    }
  }
  return out;
}

}  // namespace

Result<Json> protobufToJson(const std::string& body) {
  if (body.size() < 4 || body.compare(0, 4, std::string("k8s\0", 4)) != 0) {
    return invalidArgument("not a Kubernetes protobuf body (no k8s\\0 prefix)");
  }
  Reader r{reinterpret_cast<const uint8_t*>(body.data()) + 4, reinterpret_cast<const uint8_t*>(body.data()) + body.size()};
  std::string apiVersion, kind, raw;
  while (!r.done()) {
    auto key = r.varint();
    if (!key.ok()) return key.error();
    if ((*key & 7) != 2) {
      SDB_TRY(r.skip(static_cast<int>(*key & 7)));
      continue;
    }
    auto b = r.bytes();
    if (!b.ok()) return b.error();
    if ((*key >> 3) == 1) {
      Reader t{reinterpret_cast<const uint8_t*>(b->data()), reinterpret_cast<const uint8_t*>(b->data()) + b->size()};
      while (!t.done()) {
        auto tk = t.varint();
        if (!tk.ok()) return tk.error();
        auto tb = t.bytes();
        if (!tb.ok()) return tb.error();
        if ((*tk >> 3) == 1) apiVersion = *tb;
        if ((*tk >> 3) == 2) kind = *tb;
      }
    } else if ((*key >> 3) == 2) {
      raw = *b;
    }
  }
  if (kind.empty()) return invalidArgument("protobuf body without a kind");
  auto object = decodeMessage(kind, raw);
  if (!object.ok()) return object.error();
  Json out = {{"apiVersion", apiVersion}, {"kind", kind}};
  for (auto& [k, v] : object->items()) out[k] = v;
  return out;
}

}  // namespace sdb::localcluster
