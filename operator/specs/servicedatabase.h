// A typed, validated view of a ServiceDatabase object (crds/servicedb.io_servicedatabases.yaml).
//
// Contract: pure. `parseServiceDatabase` reads the unstructured object, applies the CRD's defaults
// where a field is absent (objects written before a default existed, or by a server that does not
// default), and refuses what the operator cannot act on with an InvalidArgument error whose message
// starts with the field path ("spec.credentials.rotationPeriod: ..."). It never throws.
// Thread-safe (no state).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "operator/core/json.h"
#include "operator/core/result.h"

namespace sdb::specs {

inline constexpr const char* kRotateCredentialsAnnotation = "servicedb.io/rotate-credentials";
// A new value runs a failed migration version again (docs/api.md, "Migrations").
inline constexpr const char* kRetryMigrationsAnnotation = "servicedb.io/retry-migrations";

struct CredentialsSpec {
  std::string secretName;             // default "<metadata.name>-credentials"
  int passwordLength = 32;            // 16..128
  std::string passwordCharset = "alphanumeric";  // or "ascii-printable"
  std::optional<std::chrono::seconds> rotationPeriod;
};

struct ServiceDatabase {
  // metadata
  std::string ns, name, uid;
  int64_t generation = 0;
  bool deleting = false;              // metadata.deletionTimestamp is set
  std::string rotateRequest;          // annotation servicedb.io/rotate-credentials ("" = none)
  std::string retryMigrationsRequest; // annotation servicedb.io/retry-migrations ("" = none)
  // spec
  std::string service;
  std::string engine;                 // postgres | mongodb | redis
  std::string mode = "dedicated";     // dedicated | shared
  std::string version;
  std::string databaseName;           // "" = derived by the engine
  std::string adminSecretName;        // spec.sharedServer.adminSecretRef.name
  bool tlsEnabled = true;
  CredentialsSpec credentials;
  std::string deletionPolicy = "Retain";  // Retain | Delete | Snapshot
  bool hasMigrations = false, hasRestore = false, hasBackupPolicyRef = false;
  // dedicated instances (spec.storage, spec.resources); defaults as the CRD's
  std::string storageSize = "1Gi";    // a Kubernetes quantity, as written
  std::string storageClassName;       // "" = the cluster's default class
  Json resources = Json::object();    // spec.resources as written: {requests: {...}, limits: {...}}
  // spec.access: which pods may connect. An absent podSelector = the default
  // {matchLabels: {app.kubernetes.io/name: <service>}}; empty namespaces = the object's own.
  Json accessPodSelector = Json::object();
  bool accessPodSelectorSet = false;  // present, even as {} (which selects every pod)
  std::vector<std::string> accessNamespaces;
  Json migrations;                    // spec.migrations as written (null when absent)
  std::string backupPolicyName;       // spec.backupPolicyRef.name
  Json restore;                       // spec.restore as written (null when absent)
  // status, as last written (for checks that compare with what was provisioned)
  std::string statusDatabase;         // status.endpoint.database
};

Result<ServiceDatabase> parseServiceDatabase(const Json& object);

// spec.access.podSelector with the default applied: {matchLabels: {app.kubernetes.io/name: <service>}}.
Json effectiveAccessPodSelector(const ServiceDatabase& sdb);
// spec.access.namespaces with the default applied: the ServiceDatabase's own namespace.
std::vector<std::string> effectiveAccessNamespaces(const ServiceDatabase& sdb);

// Go's time.ParseDuration for the forms the CRD admits ("720h", "1h30m", "90s", "1.5h"): a
// sequence of <number><unit> with units h, m, s. Refuses empty, negative and overflowing values.
Result<std::chrono::seconds> parseGoDuration(const std::string& text);

// The characters a generated password is drawn from, for spec.credentials.passwordCharset.
// ascii-printable excludes space, and the quote and backslash characters that many client
// configuration formats (libpq keyword strings, .pgpass, shell) treat specially.
Result<std::string> passwordAlphabet(const std::string& charset);

}  // namespace sdb::specs
