// The credentials Secrets of a ServiceDatabase: one per credential slot ("app" for the service,
// "migration" for migration Jobs only), built here with no I/O and applied by the controller.
//
// Layout of a credentials Secret:
//   data:        the engine's binding entries (host, port, database, username, password, uri, ...,
//                type, provider; see postgres_binding.h), plus `pending-password` only while a
//                rotation is in flight (the rotation protocol of operator/engines/engine.h);
//   labels:      the label contract, `servicedb.io/credentials: <slot>`, and for the app Secret
//                servicebinding.io/type and servicebinding.io/provider;
//   annotations: `servicedb.io/password-set-at` (RFC 3339; creation or last rotation),
//                `servicedb.io/rotated-at` (last completed rotation), `servicedb.io/rotation-request`
//                (the value of the rotate-credentials annotation a rotation was started for);
//   type:        servicebinding.io/<type> for the app Secret, Opaque for the migration Secret;
//   owner:       a controller reference to the ServiceDatabase, absent once retained (Retain).
// A Secret is ours (may be adopted and rewritten) only when it carries the managed-by label and
// `servicedb.io/database` and `servicedb.io/credentials` equal to this ServiceDatabase and slot, and
// no other object is its controller. Anything else is never touched.
//
// Contract: pure functions, thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "operator/core/json.h"
#include "operator/specs/labels.h"
#include "operator/specs/servicedatabase.h"

namespace sdb::specs {

inline constexpr const char* kSlotApp = "app";
inline constexpr const char* kSlotMigration = "migration";

inline constexpr const char* kLabelCredentials = "servicedb.io/credentials";
inline constexpr const char* kLabelBindingType = "servicebinding.io/type";
inline constexpr const char* kLabelBindingProvider = "servicebinding.io/provider";
inline constexpr const char* kBindingProvider = "servicedb";

inline constexpr const char* kKeyPassword = "password";
inline constexpr const char* kKeyPendingPassword = "pending-password";
inline constexpr const char* kAnnotationPasswordSetAt = "servicedb.io/password-set-at";
inline constexpr const char* kAnnotationRotatedAt = "servicedb.io/rotated-at";
inline constexpr const char* kAnnotationRotationRequest = "servicedb.io/rotation-request";

// The Secret name of a slot: spec.credentials.secretName for "app"; "<name>-migration-credentials"
// for "migration" (cut with a hash suffix to stay within 253 characters); "<name>-<slot>-credentials"
// for any other slot an engine defines.
std::string credentialsSecretName(const ServiceDatabase& sdb, const std::string& slot);

struct CredentialsSecretInput {
  std::string slot;                           // "app" or "migration"
  std::string bindingType;                    // "postgresql", "redis", "mongodb"
  std::map<std::string, std::string> data;    // decoded entries; encoded into `data` here
  std::map<std::string, std::string> annotations;
  std::optional<Json> owner;                  // the ServiceDatabase object; nullopt: no owner reference
};

// The whole desired Secret, for server-side apply (apiVersion, kind, metadata, type, data).
Json buildCredentialsSecret(const ServiceDatabase& sdb, const CredentialsSecretInput& input);

// True when `secret` carries our marker for this ServiceDatabase and slot (see above); when it
// does not, `why` (if given) receives a sentence for the ForeignObject condition.
bool isOurCredentialsSecret(const ServiceDatabase& sdb, const std::string& slot, const Json& secret,
                            std::string* why = nullptr);

// The decoded `data` of a Secret. Values that are not valid base64 are skipped.
std::map<std::string, std::string> secretData(const Json& secret);
// metadata.annotations[key] or "".
std::string annotation(const Json& object, const std::string& key);

}  // namespace sdb::specs
