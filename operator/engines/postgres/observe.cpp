// observe(): catalog reads only. Every value reaches SQL as a $n parameter.
#include "operator/engines/postgres/execute.h"

#include <sstream>

namespace sdb::engines::postgres {
namespace {

constexpr char kSep = '\x01';

std::vector<std::string> split(const std::optional<std::string>& s) {
  std::vector<std::string> out;
  if (!s || s->empty()) return out;
  std::string item;
  std::istringstream in(*s);
  while (std::getline(in, item, kSep)) out.push_back(item);
  return out;
}

bool truthy(const std::optional<std::string>& v) { return v && *v == "t"; }

constexpr const char* kRoleSql =
    "SELECT r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolreplication, r.rolbypassrls, r.rolinherit, "
    "r.rolcanlogin, r.rolconnlimit, shobj_description(r.oid, 'pg_authid'), "
    "array_to_string(r.rolconfig, chr(1)), "
    "(SELECT string_agg(g.rolname, chr(1)) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
    "  WHERE m.member = r.oid) "
    "FROM pg_roles r WHERE r.rolname = $1";

constexpr const char* kDatabaseSql =
    "SELECT pg_get_userbyid(d.datdba), shobj_description(d.oid, 'pg_database'), "
    "d.datacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(d.datacl) a WHERE a.grantee = 0), "
    "(SELECT string_agg(DISTINCT pg_get_userbyid(a.grantee), chr(1)) FROM aclexplode(d.datacl) a "
    "  WHERE a.privilege_type = 'CONNECT' AND a.grantee <> 0) "
    "FROM pg_database d WHERE d.datname = $1";

// $1 owner, $2 migration, $3 app. Only tables of our roles count: others are not ours to grant.
// Default privileges count only in their database-wide form (defaclnamespace = 0), the one that
// covers schemas created after provisioning; a database provisioned with the older
// `IN SCHEMA public` form gets them added by the next reconcile.
constexpr const char* kSchemaSql =
    "WITH r AS (SELECT (SELECT oid FROM pg_roles WHERE rolname = $1) AS owner, "
    "                  (SELECT oid FROM pg_roles WHERE rolname = $2) AS migration, "
    "                  (SELECT oid FROM pg_roles WHERE rolname = $3) AS app) "
    "SELECT pg_get_userbyid(n.nspowner), "
    "EXISTS (SELECT 1 FROM aclexplode(n.nspacl) a WHERE a.grantee = 0 AND a.privilege_type = 'CREATE'), "
    "has_schema_privilege(r.app, n.oid, 'USAGE'), "
    "EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p') "
    "  AND c.relowner IN (r.owner, r.migration) AND NOT (has_table_privilege(r.app, c.oid, 'SELECT') "
    "  AND has_table_privilege(r.app, c.oid, 'INSERT') AND has_table_privilege(r.app, c.oid, 'UPDATE') "
    "  AND has_table_privilege(r.app, c.oid, 'DELETE'))), "
    "EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind = 'S' "
    "  AND c.relowner IN (r.owner, r.migration) AND NOT (has_sequence_privilege(r.app, c.oid, 'USAGE') "
    "  AND has_sequence_privilege(r.app, c.oid, 'SELECT'))), "
    "(SELECT count(DISTINCT a.privilege_type) FROM pg_default_acl d, aclexplode(d.defaclacl) a "
    "  WHERE d.defaclrole = r.owner AND d.defaclnamespace = 0 AND d.defaclobjtype = 'r' "
    "  AND a.grantee = r.app AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE')) = 4, "
    "(SELECT count(DISTINCT a.privilege_type) FROM pg_default_acl d, aclexplode(d.defaclacl) a "
    "  WHERE d.defaclrole = r.owner AND d.defaclnamespace = 0 AND d.defaclobjtype = 'S' "
    "  AND a.grantee = r.app AND a.privilege_type IN ('USAGE', 'SELECT')) = 2, "
    "EXISTS (SELECT 1 FROM pg_default_acl d, aclexplode(d.defaclacl) a "
    "  WHERE d.defaclrole = r.owner AND d.defaclnamespace = 0 AND d.defaclobjtype = 'n' "
    "  AND a.grantee = r.app AND a.privilege_type = 'USAGE') "
    "FROM pg_namespace n, r WHERE n.nspname = 'public' AND r.app IS NOT NULL";

Result<std::optional<ObservedRole>> readRole(PgConnection& c, const std::string& name) {
  auto rows = c.query(kRoleSql, {name}, "reading role \"" + name + "\"");
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return std::optional<ObservedRole>();
  const Row& r = rows->front();
  ObservedRole o;
  o.name = name;
  o.superuser = truthy(r[0]);
  o.createdb = truthy(r[1]);
  o.createrole = truthy(r[2]);
  o.replication = truthy(r[3]);
  o.bypassrls = truthy(r[4]);
  o.inherit = truthy(r[5]);
  o.login = truthy(r[6]);
  o.connectionLimit = r[7] ? std::stoi(*r[7]) : -1;
  o.comment = r[8];
  o.config = split(r[9]);
  for (auto& m : split(r[10])) o.memberOf.insert(m);
  return std::optional<ObservedRole>(std::move(o));
}

}  // namespace

Result<Observed> observe(const ConnectionOptions& admin, const Desired& d, PgConnection* adminConnection) {
  std::optional<PgConnection> own;
  if (adminConnection == nullptr) {
    auto opened = PgConnection::open(admin);
    if (!opened.ok()) return opened.error();
    own.emplace(std::move(opened).value());
    adminConnection = &*own;
  }
  PgConnection* conn = adminConnection;
  Observed o;
  for (const std::string& name : {d.adminRole, d.owner.name, d.migration.name, d.app.name}) {
    auto role = readRole(*conn, name);
    if (!role.ok()) return role.error();
    if (*role) o.roles[name] = std::move(**role);
  }
  for (const DesiredRole* r : {&d.migration, &d.app}) {
    auto it = o.roles.find(r->name);
    if (it == o.roles.end() || !r->password || !it->second.login) continue;
    auto works = whichPasswordWorks(admin, r->name, {*r->password});
    if (works.ok()) it->second.passwordWorks = true;
    else if (works.error().code == ErrorCode::kNotFound) it->second.passwordWorks = false;
    else return works.error();
  }
  auto dbRows = conn->query(kDatabaseSql, {d.database}, "reading database \"" + d.database + "\"");
  if (!dbRows.ok()) return dbRows.error();
  if (dbRows->empty()) return o;
  const Row& r = dbRows->front();
  ObservedDatabase db;
  db.owner = r[0].value_or("");
  db.comment = r[1];
  db.publicHasAny = truthy(r[2]);
  for (auto& g : split(r[3])) db.connectGrantees.insert(g);
  if (db.owner == d.owner.name && markedFor(db.comment, d.ownerKey)) {
    ConnectionOptions in = admin;
    in.dbname = d.database;
    auto dc = PgConnection::open(in);
    if (dc.ok()) {
      auto rows = dc->query(kSchemaSql, {d.owner.name, d.migration.name, d.app.name},
                            "reading schema public of \"" + d.database + "\"");
      if (!rows.ok()) return rows.error();
      if (!rows->empty()) {
        const Row& s = rows->front();
        db.schema = ObservedSchema{s[0].value_or(""), truthy(s[1]), truthy(s[2]), truthy(s[3]),
                                   truthy(s[4]), truthy(s[5]), truthy(s[6]), truthy(s[7])};
      }
    }
  }
  o.database = std::move(db);
  return o;
}

}  // namespace sdb::engines::postgres
