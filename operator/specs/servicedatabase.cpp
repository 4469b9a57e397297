#include "operator/specs/servicedatabase.h"

#include <cctype>
#include <cmath>
#include <string>
#include <vector>

namespace sdb::specs {

namespace {

Error fieldError(const std::string& field, const std::string& message) { return invalidArgument(field + ": " + message); }

// A string at path, or `fallback` when absent; an error naming the field when present but not a string.
Result<std::string> optString(const Json& root, const std::vector<std::string>& path, const std::string& fallback,
                              const std::string& field) {
  const Json* v = jsonAt(root, path);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_string()) return fieldError(field, "must be a string");
  return v->get<std::string>();
}

bool has(const Json& root, const std::vector<std::string>& path) {
  const Json* v = jsonAt(root, path);
  return v != nullptr && !v->is_null();
}

}  // namespace

Result<std::chrono::seconds> parseGoDuration(const std::string& text) {
  if (text.empty()) return invalidArgument("empty duration");
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == start) return invalidArgument("\"" + text + "\" is not a duration like 720h or 1h30m");
    std::string number = text.substr(start, i - start);
    if (number.find('.') != number.rfind('.') || number == ".") {
      return invalidArgument("\"" + text + "\" is not a duration like 720h or 1h30m");
    }
    if (i >= text.size()) return invalidArgument("\"" + text + "\": missing unit (h, m or s) after " + number);
    double unit = 0;
    switch (text[i]) {
      case 'h': unit = 3600; break;
      case 'm': unit = 60; break;
      case 's': unit = 1; break;
      default: return invalidArgument("\"" + text + "\": unknown unit '" + std::string(1, text[i]) + "' (use h, m or s)");
    }
    ++i;
    total += std::stod(number) * unit;
    if (total > 1e11) return invalidArgument("\"" + text + "\" is too long");
  }
  return std::chrono::seconds(static_cast<int64_t>(std::llround(total)));
}

Result<std::string> passwordAlphabet(const std::string& charset) {
  if (charset == "alphanumeric") return std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
  if (charset == "ascii-printable") {
    std::string out;
    for (char c = '!'; c <= '~'; ++c) {
      if (c == '"' || c == '\'' || c == '\\' || c == '`') continue;
      out.push_back(c);
    }
    return out;
  }
  return fieldError("spec.credentials.passwordCharset", "must be alphanumeric or ascii-printable, got \"" + charset + "\"");
}

Result<ServiceDatabase> parseServiceDatabase(const Json& obj) {
  if (!obj.is_object()) return invalidArgument("object: not a JSON object");
  ServiceDatabase s;
  s.ns = jsonString(obj, {"metadata", "namespace"});
  s.name = jsonString(obj, {"metadata", "name"});
  s.uid = jsonString(obj, {"metadata", "uid"});
  if (s.name.empty()) return fieldError("metadata.name", "is required");
  if (s.name.size() > 63) {
    return fieldError("metadata.name", "must be at most 63 characters: it is the value of the labels " +
                                           std::string("app.kubernetes.io/instance and servicedb.io/database"));
  }
  if (const Json* g = jsonAt(obj, {"metadata", "generation"}); g && g->is_number_integer()) s.generation = g->get<int64_t>();
  s.deleting = has(obj, {"metadata", "deletionTimestamp"});
  if (const Json* a = jsonAt(obj, {"metadata", "annotations"}); a && a->is_object()) {
    auto it = a->find(kRotateCredentialsAnnotation);
    if (it != a->end() && it->is_string()) s.rotateRequest = it->get<std::string>();
    auto retry = a->find(kRetryMigrationsAnnotation);
    if (retry != a->end() && retry->is_string()) s.retryMigrationsRequest = retry->get<std::string>();
  }
  s.statusDatabase = jsonString(obj, {"status", "endpoint", "database"});

  const Json* spec = jsonAt(obj, {"spec"});
  if (spec == nullptr || !spec->is_object()) return fieldError("spec", "is required");
  auto str = [&](const std::vector<std::string>& path, const std::string& fallback) {
    std::string field = "spec";
    for (const auto& p : path) field += "." + p;
    return optString(*spec, path, fallback, field);
  };
  auto service = str({"service"}, "");
  if (!service.ok()) return service.error();
  s.service = *service;
  if (s.service.empty()) return fieldError("spec.service", "is required");
  auto engine = str({"engine"}, "");
  if (!engine.ok()) return engine.error();
  s.engine = *engine;
  if (s.engine != "postgres" && s.engine != "mongodb" && s.engine != "redis") {
    return fieldError("spec.engine", "must be postgres, mongodb or redis, got \"" + s.engine + "\"");
  }
  auto mode = str({"mode"}, "dedicated");
  if (!mode.ok()) return mode.error();
  s.mode = *mode;
  if (s.mode != "dedicated" && s.mode != "shared") {
    return fieldError("spec.mode", "must be dedicated or shared, got \"" + s.mode + "\"");
  }
  auto version = str({"version"}, "");
  if (!version.ok()) return version.error();
  s.version = *version;
  auto dbName = str({"databaseName"}, "");
  if (!dbName.ok()) return dbName.error();
  s.databaseName = *dbName;
  auto admin = str({"sharedServer", "adminSecretRef", "name"}, "");
  if (!admin.ok()) return admin.error();
  s.adminSecretName = *admin;
  if (s.mode == "shared" && s.adminSecretName.empty()) {
    return fieldError("spec.sharedServer.adminSecretRef.name", "is required when spec.mode is shared");
  }
  if (const Json* tls = jsonAt(*spec, {"tls", "enabled"}); tls && !tls->is_null()) {
    if (!tls->is_boolean()) return fieldError("spec.tls.enabled", "must be a boolean");
    s.tlsEnabled = tls->get<bool>();
  }

  auto secretName = str({"credentials", "secretName"}, s.name + "-credentials");
  if (!secretName.ok()) return secretName.error();
  s.credentials.secretName = secretName->empty() ? s.name + "-credentials" : *secretName;
  if (const Json* len = jsonAt(*spec, {"credentials", "passwordLength"}); len && !len->is_null()) {
    if (!len->is_number_integer()) return fieldError("spec.credentials.passwordLength", "must be an integer");
    s.credentials.passwordLength = len->get<int>();
  }
  if (s.credentials.passwordLength < 16 || s.credentials.passwordLength > 128) {
    return fieldError("spec.credentials.passwordLength",
                      "must be between 16 and 128, got " + std::to_string(s.credentials.passwordLength));
  }
  auto charset = str({"credentials", "passwordCharset"}, "alphanumeric");
  if (!charset.ok()) return charset.error();
  s.credentials.passwordCharset = *charset;
  if (auto alphabet = passwordAlphabet(s.credentials.passwordCharset); !alphabet.ok()) return alphabet.error();
  auto period = str({"credentials", "rotationPeriod"}, "");
  if (!period.ok()) return period.error();
  if (!period->empty()) {
    auto d = parseGoDuration(*period);
    if (!d.ok()) return fieldError("spec.credentials.rotationPeriod", d.error().message);
    if (d->count() < 60) return fieldError("spec.credentials.rotationPeriod", "must be at least 1m, got " + *period);
    s.credentials.rotationPeriod = *d;
  }

  auto policy = str({"deletionPolicy"}, "Retain");
  if (!policy.ok()) return policy.error();
  s.deletionPolicy = *policy;
  if (s.deletionPolicy != "Retain" && s.deletionPolicy != "Delete" && s.deletionPolicy != "Snapshot") {
    return fieldError("spec.deletionPolicy", "must be Retain, Delete or Snapshot, got \"" + s.deletionPolicy + "\"");
  }
  s.hasMigrations = has(*spec, {"migrations"});
  s.hasRestore = has(*spec, {"restore"});
  s.hasBackupPolicyRef = has(*spec, {"backupPolicyRef"});
  if (s.hasMigrations) s.migrations = (*spec)["migrations"];
  if (s.hasRestore) s.restore = (*spec)["restore"];
  auto bp = str({"backupPolicyRef", "name"}, "");
  if (!bp.ok()) return bp.error();
  s.backupPolicyName = *bp;

  if (const Json* size = jsonAt(*spec, {"storage", "size"}); size && !size->is_null()) {
    if (size->is_string()) s.storageSize = size->get<std::string>();
    else if (size->is_number_integer()) s.storageSize = std::to_string(size->get<int64_t>());
    else return fieldError("spec.storage.size", "must be a quantity such as 10Gi");
  }
  auto storageClass = str({"storage", "storageClassName"}, "");
  if (!storageClass.ok()) return storageClass.error();
  s.storageClassName = *storageClass;
  if (const Json* r = jsonAt(*spec, {"resources"}); r && !r->is_null()) {
    if (!r->is_object()) return fieldError("spec.resources", "must be an object with requests and limits");
    s.resources = *r;
  }
  if (const Json* ps = jsonAt(*spec, {"access", "podSelector"}); ps && !ps->is_null()) {
    if (!ps->is_object()) return fieldError("spec.access.podSelector", "must be a label selector");
    s.accessPodSelector = *ps;
    s.accessPodSelectorSet = true;
  }
  if (const Json* nss = jsonAt(*spec, {"access", "namespaces"}); nss && !nss->is_null()) {
    if (!nss->is_array()) return fieldError("spec.access.namespaces", "must be a list of namespace names");
    for (size_t i = 0; i < nss->size(); ++i) {
      if (!(*nss)[i].is_string() || (*nss)[i].get<std::string>().empty()) {
        return fieldError("spec.access.namespaces[" + std::to_string(i) + "]", "must be a namespace name");
      }
      s.accessNamespaces.push_back((*nss)[i].get<std::string>());
    }
  }
  return s;
}

Json effectiveAccessPodSelector(const ServiceDatabase& sdb) {
  if (sdb.accessPodSelectorSet) return sdb.accessPodSelector;
  return Json{{"matchLabels", {{"app.kubernetes.io/name", sdb.service}}}};
}

std::vector<std::string> effectiveAccessNamespaces(const ServiceDatabase& sdb) {
  if (!sdb.accessNamespaces.empty()) return sdb.accessNamespaces;
  return {sdb.ns};
}

}  // namespace sdb::specs
