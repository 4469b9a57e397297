// meta.k8s.io/v1 Table output, as `kubectl get` asks for it: Name, the CRD's printer columns
// (JSONPath subset: fields, [N], [*] and [?(@.k=="v")] filters), and Age for built-ins.
#include <regex>

#include "operator/core/clock.h"

#include "e2e/localcluster/api_server.h"
#include "e2e/localcluster/builtin_columns.h"

namespace sdb::localcluster {

namespace {

// Evaluates a printer-column JSONPath; returns null when nothing matches.
Json evalPath(const Json& root, const std::string& path) {
  static const std::regex step(R"re(^(\.([A-Za-z0-9_\-/]+)|\[(\d+)\]|\[\*\]|\[\?\(@\.([A-Za-z0-9_\-]+)\s*==\s*["']([^"']*)["']\)\]))re");
  std::vector<const Json*> cur = {&root};
  std::string rest = path;
  while (!rest.empty()) {
    std::smatch m;
    if (!std::regex_search(rest, m, step)) return nullptr;
    std::vector<const Json*> next;
    for (const Json* j : cur) {
      if (m[2].matched) {
        if (j->is_object() && j->contains(m[2].str())) next.push_back(&(*j)[m[2].str()]);
      } else if (m[3].matched) {
        size_t i = std::stoul(m[3]);
        if (j->is_array() && i < j->size()) next.push_back(&(*j)[i]);
      } else if (m[4].matched) {
        if (j->is_array()) {
          for (const auto& e : *j) {
            if (e.is_object() && e.contains(m[4].str()) && e[m[4].str()] == m[5].str()) next.push_back(&e);
          }
        }
      } else if (j->is_array()) {
        for (const auto& e : *j) next.push_back(&e);
      }
    }
    cur = std::move(next);
    rest = m.suffix();
  }
  if (cur.empty()) return nullptr;
  if (cur.size() == 1) return *cur[0];
  std::string joined;
  for (const Json* j : cur) joined += (joined.empty() ? "" : ",") + (j->is_string() ? j->get<std::string>() : j->dump());
  return joined;
}

// k8s.io/apimachinery/pkg/util/duration.HumanDuration, which kube-apiserver uses for date columns.
std::string humanDuration(std::chrono::seconds d) {
  const long long s = d.count();
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 60 * 2) return std::to_string(s) + "s";
  const long long m = s / 60;
  if (m < 10) return s % 60 == 0 ? std::to_string(m) + "m" : std::to_string(m) + "m" + std::to_string(s % 60) + "s";
  if (m < 60 * 3) return std::to_string(m) + "m";
  const long long h = m / 60;
  if (h < 8) return m % 60 == 0 ? std::to_string(h) + "h" : std::to_string(h) + "h" + std::to_string(m % 60) + "m";
  if (h < 48) return std::to_string(h) + "h";
  if (h < 24 * 8) return h % 24 == 0 ? std::to_string(h / 24) + "d" : std::to_string(h / 24) + "d" + std::to_string(h % 24) + "h";
  if (h < 24 * 365 * 2) return std::to_string(h / 24) + "d";
  const long long dd = h / 24;
  if (h < 24 * 365 * 8) return dd % 365 == 0 ? std::to_string(dd / 365) + "y" : std::to_string(dd / 365) + "y" + std::to_string(dd % 365) + "d";
  return std::to_string(dd / 365) + "y";
}

Json dateCell(const Json& v) {
  std::chrono::system_clock::time_point t;
  if (!v.is_string() || !parseRfc3339(v.get<std::string>(), &t)) return v;
  return humanDuration(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - t));
}

}  // namespace

Json toTable(const apimachinery::ResourceInfo& info, const Json& objectOrList, bool includeObject) {
  Json columns = Json::array();
  columns.push_back({{"name", "Name"}, {"type", "string"}, {"format", "name"}, {"description", "Name must be unique within a namespace."}, {"priority", 0}});
  const bool isList = objectOrList.contains("items");
  Json meta = Json::object();
  if (isList) meta = objectOrList["metadata"];
  else meta["resourceVersion"] = jsonString(objectOrList, {"metadata", "resourceVersion"});
  if (auto builtin = builtinColumns(info)) {
    for (const auto& c : builtin->columns) columns.push_back(c);
    Json rows = Json::array();
    auto addRow = [&](const Json& o) {
      Json cells = Json::array();
      cells.push_back(jsonString(o, {"metadata", "name"}));
      auto computed = builtin->cells(o);
      for (size_t c = 0; c < builtin->columns.size(); ++c) {
        const bool date = builtin->columns[c].value("type", "") == "date";
        cells.push_back(date ? dateCell(o["metadata"].value("creationTimestamp", Json())) : c < computed.size() ? computed[c] : Json(""));
      }
      Json row = {{"cells", cells}};
      if (includeObject) row["object"] = o;
      rows.push_back(row);
    };
    if (isList) {
      for (const auto& o : objectOrList["items"]) addRow(o);
    } else {
      addRow(objectOrList);
    }
    return {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", meta}, {"columnDefinitions", columns}, {"rows", rows}};
  }
  std::vector<std::string> paths;
  std::vector<bool> isDate;
  bool hasAge = false;
  if (info.crd) {
    const auto* v = info.crd->version(info.ref.version);
    for (const auto& c : v->printerColumns) {
      columns.push_back({{"name", c.value("name", "")}, {"type", c.value("type", "string")}, {"format", c.value("format", "")},
                         {"description", c.value("description", "")}, {"priority", c.value("priority", 0)}});
      paths.push_back(c.value("jsonPath", ""));
      isDate.push_back(c.value("type", "") == "date");
      if (c.value("jsonPath", "") == ".metadata.creationTimestamp") hasAge = true;
    }
  }
  if (!hasAge) {
    columns.push_back({{"name", "Age"}, {"type", "date"}, {"format", ""}, {"description", "CreationTimestamp is a timestamp representing the server time when this object was created."}, {"priority", 0}});
    paths.push_back(".metadata.creationTimestamp");
    isDate.push_back(true);
  }
  Json rows = Json::array();
  auto addRow = [&](const Json& o) {
    Json cells = Json::array();
    cells.push_back(jsonString(o, {"metadata", "name"}));
    for (size_t c = 0; c < paths.size(); ++c) {
      Json v = evalPath(o, paths[c]);
      cells.push_back(isDate[c] ? dateCell(v) : v);
    }
    Json row = {{"cells", cells}};
    if (includeObject) row["object"] = o;
    rows.push_back(row);
  };
  if (isList) {
    for (const auto& o : objectOrList["items"]) addRow(o);
  } else {
    addRow(objectOrList);
  }
  return {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", meta}, {"columnDefinitions", columns}, {"rows", rows}};
}

}  // namespace sdb::localcluster
