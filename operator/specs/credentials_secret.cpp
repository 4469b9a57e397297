#include "operator/specs/credentials_secret.h"

#include "operator/core/base64.h"
#include "operator/core/hash.h"

namespace sdb::specs {

namespace {
constexpr size_t kMaxObjectName = 253;

std::string withSuffix(const std::string& base, const std::string& suffix) {
  if (base.size() + suffix.size() <= kMaxObjectName) return base + suffix;
  // Deterministic and still unique per base: cut, then add 10 hex characters of SHA-256 of the base.
  std::string hash = sha256Hex(base, 10);
  std::string cut = base.substr(0, kMaxObjectName - suffix.size() - hash.size() - 1);
  while (!cut.empty() && (cut.back() == '-' || cut.back() == '.')) cut.pop_back();
  return cut + "-" + hash + suffix;
}
}  // namespace

std::string credentialsSecretName(const ServiceDatabase& sdb, const std::string& slot) {
  if (slot == kSlotApp) return sdb.credentials.secretName;
  return withSuffix(sdb.name, "-" + slot + "-credentials");
}

Json buildCredentialsSecret(const ServiceDatabase& sdb, const CredentialsSecretInput& in) {
  Labels labels = standardLabels(sdb, in.slot == kSlotApp ? Component::kInstance : Component::kMigrate);
  labels[kLabelCredentials] = in.slot;
  bool binding = in.slot == kSlotApp;
  if (binding) {
    labels[kLabelBindingType] = in.bindingType;
    labels[kLabelBindingProvider] = kBindingProvider;
  }
  Json meta = {{"name", credentialsSecretName(sdb, in.slot)}, {"namespace", sdb.ns}, {"labels", labels}};
  if (!in.annotations.empty()) meta["annotations"] = in.annotations;
  if (in.owner) {
    meta["ownerReferences"] = Json::array({{{"apiVersion", in.owner->value("apiVersion", "servicedb.io/v1alpha1")},
                                            {"kind", in.owner->value("kind", "ServiceDatabase")},
                                            {"name", jsonString(*in.owner, {"metadata", "name"})},
                                            {"uid", jsonString(*in.owner, {"metadata", "uid"})},
                                            {"controller", true},
                                            {"blockOwnerDeletion", true}}});
  }
  Json data = Json::object();
  for (const auto& [k, v] : in.data) data[k] = base64Encode(v);
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", meta},
          {"type", binding ? "servicebinding.io/" + in.bindingType : std::string("Opaque")},
          {"data", data}};
}

bool isOurCredentialsSecret(const ServiceDatabase& sdb, const std::string& slot, const Json& secret,
                            std::string* why) {
  auto label = [&](const char* key) { return jsonString(secret, {"metadata", "labels", key}); };
  const std::string name = jsonString(secret, {"metadata", "name"});
  auto refuse = [&](const std::string& reason) {
    if (why) *why = "Secret \"" + name + "\" " + reason;
    return false;
  };
  if (label(kLabelManagedBy) != kManagedByOperator) return refuse("exists and is not managed by servicedb-operator");
  if (label(kLabelDatabase) != sdb.name) {
    return refuse("belongs to ServiceDatabase \"" + label(kLabelDatabase) + "\", not \"" + sdb.name + "\"");
  }
  if (label(kLabelCredentials) != slot) {
    return refuse("holds the \"" + label(kLabelCredentials) + "\" credentials, not the \"" + slot + "\" ones");
  }
  if (const Json* refs = jsonAt(secret, {"metadata", "ownerReferences"}); refs && refs->is_array()) {
    for (const auto& r : *refs) {
      if (!r.is_object() || !r.value("controller", false)) continue;
      // A ServiceDatabase of the same name is an earlier incarnation of this one (retained, or its
      // owner reference not yet removed): ours. Anything else controls the Secret: not ours.
      if (r.value("kind", "") != "ServiceDatabase" || r.value("name", "") != sdb.name) {
        return refuse("is controlled by " + r.value("kind", "") + " \"" + r.value("name", "") + "\"");
      }
    }
  }
  return true;
}

std::map<std::string, std::string> secretData(const Json& secret) {
  std::map<std::string, std::string> out;
  const Json* data = jsonAt(secret, {"data"});
  if (!data || !data->is_object()) return out;
  for (auto it = data->begin(); it != data->end(); ++it) {
    if (!it.value().is_string()) continue;
    auto decoded = base64Decode(it.value().get<std::string>());
    if (decoded.ok()) out[it.key()] = std::move(*decoded);
  }
  return out;
}

std::string annotation(const Json& object, const std::string& key) {
  const Json* a = jsonAt(object, {"metadata", "annotations"});
  if (!a || !a->is_object()) return "";
  auto it = a->find(key);
  return it != a->end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace sdb::specs
