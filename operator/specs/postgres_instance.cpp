#include "operator/specs/postgres_instance.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace sdb::specs {

namespace {

constexpr const char* kConfigDir = "/etc/postgresql";
constexpr const char* kTlsDir = "/tls";
constexpr const char* kDataMount = "/var/lib/postgresql/data";
constexpr const char* kSocketDir = "/var/run/postgresql";
constexpr int64_t kMi = 1024 * 1024;

// Settings the operator owns: an extra setting may not override them (postgresql.conf takes the
// last value, so an override would, for example, turn TLS off), and include directives could
// pull in any file.
const std::set<std::string>& reservedSettings() {
  static const std::set<std::string> names = {
      "listen_addresses", "port", "unix_socket_directories", "hba_file", "ident_file", "config_file",
      "data_directory", "external_pid_file", "ssl", "ssl_cert_file", "ssl_key_file", "ssl_ca_file",
      "ssl_crl_file", "ssl_crl_dir", "ssl_min_protocol_version", "ssl_max_protocol_version",
      "ssl_passphrase_command", "password_encryption", "shared_buffers", "max_connections",
      "include", "include_if_exists", "include_dir"};
  return names;
}

bool validSettingName(const std::string& name) {
  if (name.empty() || !(std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  });
}

// A postgresql.conf string literal: single quotes doubled, backslashes doubled (the file's lexer
// reads C-style escapes inside quotes).
std::string confQuote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += "''";
    else if (c == '\\') out += "\\\\";
    else out.push_back(c);
  }
  return out + "'";
}

Result<std::string> postgresqlConf(int64_t sharedBuffersMb, const PostgresInstanceOptions& o) {
  const std::string tls = kTlsDir;
  std::string conf =
      "# Written by servicedb-operator from the ServiceDatabase; edits here are overwritten.\n"
      "# Read through `postgres -c config_file=...`: nothing in $PGDATA configures this server.\n"
      "\n"
      "# Listen on every address of the pod; the NetworkPolicy and pg_hba.conf decide who gets in.\n"
      "listen_addresses = '*'\n"
      "port = " + std::to_string(kPostgresPort) + "\n"
      "unix_socket_directories = '" + std::string(kSocketDir) + "'\n"
      "hba_file = '" + std::string(kConfigDir) + "/pg_hba.conf'\n"
      "\n"
      "# TLS with the operator-issued server certificate; pg_hba.conf refuses plain-text TCP.\n"
      "ssl = on\n"
      "ssl_cert_file = '" + tls + "/tls.crt'\n"
      "ssl_key_file = '" + tls + "/tls.key'\n"
      "ssl_min_protocol_version = 'TLSv1.2'\n"
      "# New and changed passwords are stored as SCRAM verifiers, never md5.\n"
      "password_encryption = 'scram-sha-256'\n"
      "\n"
      "# A quarter of the container's memory limit (at least 32MB); the rest is for sessions and the\n"
      "# page cache.\n"
      "shared_buffers = '" + std::to_string(sharedBuffersMb) + "MB'\n"
      "max_connections = 100\n";
  if (o.extraSettings.empty()) return conf;
  conf += "\n# Operator-wide settings (servicedb-operator options).\n";
  for (const auto& [name, value] : o.extraSettings) {
    if (!validSettingName(name)) {
      return invalidArgument("postgres extra setting \"" + name + "\": a name must match [a-z_][a-z0-9_.]*");
    }
    if (reservedSettings().count(name)) {
      return invalidArgument("postgres extra setting \"" + name + "\": set by the operator itself and cannot be overridden");
    }
    if (std::any_of(value.begin(), value.end(), [](char c) { return std::iscntrl(static_cast<unsigned char>(c)); })) {
      return invalidArgument("postgres extra setting \"" + name + "\": the value must not contain control characters");
    }
    conf += name + " = " + confQuote(value) + "\n";
  }
  return conf;
}

std::string pgHbaConf() {
  return "# Written by servicedb-operator; edits here are overwritten. The first matching line decides.\n"
         "# TYPE     DATABASE  USER  ADDRESS    METHOD\n"
         "\n"
         "# The socket inside the pod: a role only as the OS user of its own name, so only the container's\n"
         "# postgres user (uid 999: the image's initialisation, `kubectl exec`) logs in as postgres,\n"
         "# without a password. No other pod can reach the socket.\n"
         "local      all       all                    peer\n"
         "\n"
         "# TCP only over TLS, with SCRAM-SHA-256 passwords (no md5, no trust), from any address the\n"
         "# NetworkPolicy admits.\n"
         "hostssl    all       all   0.0.0.0/0        scram-sha-256\n"
         "hostssl    all       all   ::/0             scram-sha-256\n"
         "\n"
         "# Plain-text TCP is refused before any password is asked for. (Replication connections match\n"
         "# no line and are refused as well.)\n"
         "hostnossl  all       all   0.0.0.0/0        reject\n"
         "hostnossl  all       all   ::/0             reject\n";
}

Json isReadyProbe() {
  // Over TCP on 127.0.0.1, not the socket: during initialisation the entrypoint's temporary server
  // listens on the socket only, and must not count as ready. pg_isready needs no password.
  return {{"exec", {{"command", Json::array({"pg_isready", "-q", "-h", "127.0.0.1", "-p", std::to_string(kPostgresPort)})}}}};
}

}  // namespace

Result<int> postgresMajor(const std::string& version) {
  const std::string field = "spec.version";
  if (version.empty()) return invalidArgument(field + ": is required for a dedicated instance (such as \"16\" or \"16.4\")");
  size_t dot = version.find('.');
  std::string major = version.substr(0, dot);
  std::string minor = dot == std::string::npos ? "" : version.substr(dot + 1);
  auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 4 && (s.size() == 1 || s[0] != '0') &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  };
  if (!digits(major) || (dot != std::string::npos && !digits(minor))) {
    return invalidArgument(field + ": \"" + version + "\" is not MAJOR or MAJOR.MINOR (such as \"16\" or \"16.4\")");
  }
  int m = std::stoi(major);
  if (m < kPostgresMinMajor || m > kPostgresMaxMajor) {
    return invalidArgument(field + ": PostgreSQL " + major + " is not supported (supported: " +
                           std::to_string(kPostgresMinMajor) + " to " + std::to_string(kPostgresMaxMajor) + ")");
  }
  return m;
}

int64_t postgresSharedBuffersMb(int64_t memoryLimitBytes) { return std::max<int64_t>(32, memoryLimitBytes / 4 / kMi); }

Result<Json> postgresConfigMap(const ServiceDatabase& sdb, const PostgresInstanceOptions& o) {
  auto resources = containerResources(sdb);
  if (!resources.ok()) return resources.error();
  auto conf = postgresqlConf(postgresSharedBuffersMb(resources->memoryLimitBytes), o);
  if (!conf.ok()) return conf.error();
  return Json{{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata", instanceMetadata(sdb, instanceNames(sdb).configMap)},
              {"data", {{"postgresql.conf", *conf}, {"pg_hba.conf", pgHbaConf()}}}};
}

Result<Json> postgresStatefulSet(const ServiceDatabase& sdb, const PostgresInstanceOptions& o, const std::string& configHash) {
  if (auto major = postgresMajor(sdb.version); !major.ok()) return major.error();
  auto resources = containerResources(sdb);
  if (!resources.ok()) return resources.error();
  const InstanceNames n = instanceNames(sdb);
  const std::string data = kDataMount;

  Json readiness = isReadyProbe();
  readiness.update({{"periodSeconds", 10}, {"timeoutSeconds", 5}, {"failureThreshold", 3}});
  // initdb on first start, or crash recovery after an unclean stop, may take minutes: up to 10.
  Json startup = isReadyProbe();
  startup.update({{"periodSeconds", 10}, {"timeoutSeconds", 5}, {"failureThreshold", 60}});
  // Only a server that stops accepting TCP connections for a minute is restarted; a busy one that
  // answers slowly is not.
  Json liveness = {{"tcpSocket", {{"port", kPostgresPortName}}},
                   {"initialDelaySeconds", 30},
                   {"periodSeconds", 10},
                   {"timeoutSeconds", 5},
                   {"failureThreshold", 6}};
  Json container = {
      {"name", "postgres"},
      {"image", o.imageRepository + ":" + sdb.version},
      {"imagePullPolicy", "IfNotPresent"},
      // The image's docker-entrypoint puts `postgres` in front of arguments that start with '-'.
      {"args", Json::array({"-c", std::string("config_file=") + kConfigDir + "/postgresql.conf"})},
      {"env", Json::array({secretKeyEnv("POSTGRES_USER", n.superuserSecret, "username"),
                           secretKeyEnv("POSTGRES_PASSWORD", n.superuserSecret, "password"),
                           {{"name", "PGDATA"}, {"value", data + "/pgdata"}},
                           {{"name", "POSTGRES_INITDB_ARGS"}, {"value", "--auth-local=peer --auth-host=scram-sha-256"}}})},
      {"ports", Json::array({{{"name", kPostgresPortName}, {"containerPort", kPostgresPort}, {"protocol", "TCP"}}})},
      {"resources", resources->json},
      {"securityContext", restrictedContainerSecurityContext()},
      {"startupProbe", startup},
      {"readinessProbe", readiness},
      {"livenessProbe", liveness},
      {"volumeMounts", Json::array({{{"name", "data"}, {"mountPath", data}},
                                    {{"name", "config"}, {"mountPath", kConfigDir}, {"readOnly", true}},
                                    {{"name", "tls"}, {"mountPath", kTlsDir}, {"readOnly", true}},
                                    {{"name", "run"}, {"mountPath", kSocketDir}},
                                    {{"name", "tmp"}, {"mountPath", "/tmp"}},
                                    {{"name", "shm"}, {"mountPath", "/dev/shm"}}})}};
  // /dev/shm holds parallel queries' dynamic shared memory. Memory-backed, it counts against the
  // memory limit, so it is capped at a quarter of it (as Docker's default, at least 64Mi).
  const int64_t shmMi = std::max<int64_t>(64, resources->memoryLimitBytes / 4 / kMi);
  Json volumes = Json::array(
      {{{"name", "config"}, {"configMap", {{"name", n.configMap}}}},
       {{"name", "tls"}, {"secret", {{"secretName", n.tlsSecret}, {"defaultMode", 0640}}}},
       {{"name", "run"}, {"emptyDir", {{"sizeLimit", "16Mi"}}}},
       {{"name", "tmp"}, {"emptyDir", {{"sizeLimit", "64Mi"}}}},
       {{"name", "shm"}, {"emptyDir", {{"medium", "Memory"}, {"sizeLimit", std::to_string(shmMi) + "Mi"}}}}});
  Json podSpec = {{"automountServiceAccountToken", false},
                  {"enableServiceLinks", false},
                  {"terminationGracePeriodSeconds", 60},
                  {"securityContext", restrictedPodSecurityContext(kPostgresUid)},
                  {"containers", Json::array({container})},
                  {"volumes", volumes}};
  return instanceStatefulSet(sdb, std::move(podSpec), {{kAnnotationConfigHash, configHash}});
}

std::optional<Json> postgresPodDisruptionBudget(const ServiceDatabase&) { return std::nullopt; }

}  // namespace sdb::specs
