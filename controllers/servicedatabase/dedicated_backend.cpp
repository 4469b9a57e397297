#include "controllers/servicedatabase/dedicated_backend.h"

#include "operator/core/hash.h"
#include "operator/core/log.h"
#include "operator/specs/credentials_secret.h"
#include "operator/specs/network_isolation.h"

namespace sdb::controllers::servicedatabase {

namespace res = kube::resources;

inline constexpr const char* kMajorAnnotation = "servicedb.io/major-version";

namespace {

// True when every field `desired` sets has that value in `live` (server defaults may add more).
bool covers(const Json& live, const Json& desired) {
  if (desired.is_object()) {
    if (!live.is_object()) return false;
    for (auto it = desired.begin(); it != desired.end(); ++it) {
      auto l = live.find(it.key());
      if (l == live.end() || !covers(*l, it.value())) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size()) return false;
    for (size_t i = 0; i < desired.size(); ++i) {
      if (!covers(live[i], desired[i])) return false;
    }
    return true;
  }
  return live == desired;
}

runtime::ObjectPtr cached(const ObjectReader* reader, const std::string& ns, const std::string& name) {
  return reader ? reader->get(ns, name) : nullptr;
}

std::string kindName(const Json& obj) { return jsonString(obj, {"kind"}) + " \"" + jsonString(obj, {"metadata", "name"}) + "\""; }

Problem apiProblem(const std::string& doing, const kube::ApiError& e) {
  return Problem{"ApiError", doing + ": " + e.toString(), false, true};
}

// A pod's state in a sentence, and whether its image cannot run here.
std::pair<std::string, bool> podState(const Json& pod) {
  const Json* statuses = jsonAt(pod, {"status", "containerStatuses"});
  if (statuses && statuses->is_array()) {
    for (const auto& cs : *statuses) {
      const Json* waiting = jsonAt(cs, {"state", "waiting"});
      if (!waiting) continue;
      const std::string reason = jsonString(*waiting, {"reason"});
      const std::string message = jsonString(*waiting, {"message"});
      const bool image = reason == "ErrImagePull" || reason == "ImagePullBackOff" || reason == "InvalidImageName" ||
                         reason == "ErrImageNeverPull";
      return {"container \"" + jsonString(cs, {"name"}) + "\" is waiting: " + reason +
                  (message.empty() ? "" : " (" + message + ")"),
              image};
    }
  }
  const std::string phase = jsonString(pod, {"status", "phase"});
  return {"phase " + (phase.empty() ? std::string("Pending") : phase), false};
}

}  // namespace

struct DedicatedBackend::Step {
  const specs::ServiceDatabase& sdb;
  specs::InstanceNames names;
  std::vector<std::string> changes;
  Problem fail(Problem p) {
    p.changes = changes;
    return p;
  }
};

DedicatedBackend::DedicatedBackend(kube::KubeClient& client, InstanceReaders readers, CaStore& ca, InstanceEngine engine,
                                   DedicatedOptions options)
    : client_(client),
      readers_(std::move(readers)),
      ca_(ca),
      engine_(std::move(engine)),
      options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : SystemClock::instance()),
      random_(options_.random ? *options_.random : CryptoRandom::instance()),
      caFiles_(options_.caDir) {}

std::optional<Problem> DedicatedBackend::check(const specs::ServiceDatabase& sdb) const {
  if (auto major = engine_.major(sdb.version); !major.ok()) return Problem{"InvalidSpec", major.error().message, true, false};
  if (!sdb.tlsEnabled) {
    return Problem{"InvalidSpec", "spec.tls.enabled: TLS cannot be disabled for a dedicated instance (docs/api.md, TLS)",
                   true, false};
  }
  if (auto r = specs::containerResources(sdb); !r.ok()) return Problem{"InvalidSpec", r.error().message, true, false};
  auto size = specs::quantityBytes(sdb.storageSize, "spec.storage.size");
  if (!size.ok()) return Problem{"InvalidSpec", size.error().message, true, false};
  if (*size <= 0) return Problem{"InvalidSpec", "spec.storage.size: must be more than 0, got " + sdb.storageSize, true, false};
  if (engine_.check) {
    if (auto p = engine_.check(sdb)) return p;
  }
  if (auto bad = specs::validateAccess(sdb)) return Problem{"InvalidSpec", *bad, true, false};
  if (readers_.serviceDatabases) {
    std::vector<specs::ServiceDatabase> others;
    for (const auto& ns : specs::effectiveAccessNamespaces(sdb)) {
      for (auto& o : readers_.serviceDatabases(ns)) others.push_back(std::move(o));
    }
    if (auto conflict = specs::accessConflict(sdb, others)) return Problem{"AccessConflict", *conflict, true, false};
  }
  return std::nullopt;
}

PResult<std::string> DedicatedBackend::superuserPassword(Step& step) {
  const std::string name = step.names.superuserSecret;
  runtime::ObjectPtr cached = readers_.secrets ? readers_.secrets->get(step.sdb.ns, name) : nullptr;
  Json live;
  if (cached) {
    live = *cached;
  } else {
    auto r = client_.get(res::kSecrets, step.sdb.ns, name);
    if (r.ok()) live = std::move(*r);
    else if (!r.error().is(kube::ApiErrorReason::kNotFound)) return apiProblem("reading Secret \"" + name + "\"", r.error());
  }
  if (!live.is_null()) {
    auto data = specs::secretData(live);
    if (data["password"].empty()) {
      return Problem{"InvalidSuperuserSecret", "Secret \"" + name + "\" has no password; delete it only if the instance has "
                     "no data yet (the password is the only way in)", true, true};
    }
    // A Secret retained from an earlier ServiceDatabase of this name is adopted: point its owner here.
    const Json* refs = jsonAt(live, {"metadata", "ownerReferences"});
    bool owned = false;
    if (refs && refs->is_array()) {
      for (const auto& r : *refs) owned = owned || r.value("uid", "") == step.sdb.uid;
    }
    if (!owned) {
      Json patch = {{"metadata", {{"ownerReferences", Json::array({specs::ownerReference(step.sdb)})}}}};
      kube::PatchOptions opts;
      opts.fieldManager = options_.fieldManager;
      auto r = client_.patch(res::kSecrets, step.sdb.ns, name, kube::PatchType::kMerge, dumpJson(patch), opts);
      if (!r.ok()) return apiProblem("adopting Secret \"" + name + "\"", r.error());
      step.changes.push_back("adopted the retained superuser Secret \"" + name + "\"");
    }
    return data["password"];
  }
  // Generated once and stored before the instance ever uses it.
  auto password = random_.string(32, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
  if (!password.ok()) return Problem{"OperatorError", "generating a password: " + password.error().message, false, true};
  Json secret = specs::superuserSecret(step.sdb, step.names, engine_.superuser, *password);
  kube::WriteOptions opts;
  opts.fieldManager = options_.fieldManager;
  auto created = client_.create(res::kSecrets, step.sdb.ns, secret, opts);
  if (!created.ok()) {
    // A concurrent reconcile (or a stale cache) created it first: use the stored one next time.
    return apiProblem("creating Secret \"" + name + "\"", created.error());
  }
  step.changes.push_back("created the superuser Secret \"" + name + "\"");
  return *password;
}

PResult<Json> DedicatedBackend::apply(Step& step, const kube::ResourceRef& kind, const Json* live, const Json& desired) {
  const std::string name = jsonString(desired, {"metadata", "name"});
  if (live && covers(*live, desired)) return *live;
  kube::PatchOptions opts;
  opts.fieldManager = options_.fieldManager;
  opts.force = true;
  auto r = client_.patch(kind, step.sdb.ns, name, kube::PatchType::kApply, dumpJson(desired), opts);
  if (!r.ok()) return apiProblem("applying " + kindName(desired), r.error());
  step.changes.push_back("applied " + kindName(desired));
  return std::move(*r);
}

PResult<bool> DedicatedBackend::expandStorage(Step& step, const Json& live, const Json& desired) {
  const Json* liveTemplates = jsonAt(live, {"spec", "volumeClaimTemplates"});
  if (!liveTemplates || !liveTemplates->is_array() || liveTemplates->empty()) return false;
  const std::string have = (*liveTemplates)[0].value("spec", Json::object()).value("resources", Json::object())
                               .value("requests", Json::object()).value("storage", "");
  const Json* desiredTemplates = jsonAt(desired, {"spec", "volumeClaimTemplates"});
  if (!desiredTemplates || !desiredTemplates->is_array() || desiredTemplates->empty()) return false;
  const std::string want = (*desiredTemplates)[0]["spec"]["resources"]["requests"].value("storage", "");
  auto haveBytes = specs::quantityBytes(have, "the StatefulSet's volumeClaimTemplates");
  auto wantBytes = specs::quantityBytes(want, "spec.storage.size");
  if (!haveBytes.ok() || !wantBytes.ok() || *haveBytes == *wantBytes) return false;
  if (*wantBytes < *haveBytes) {
    return Problem{"StorageShrinkNotSupported",
                   "spec.storage.size: " + want + " is smaller than the instance's " + have +
                       "; volumes cannot shrink. Set it back to " + have + " or more",
                   true, false};
  }
  // Grow the claim first (only when its StorageClass allows expansion), then recreate the
  // StatefulSet around the running pod (volumeClaimTemplates are immutable).
  const std::string pvc = step.names.pvc0;
  auto claim = client_.get(res::kPersistentVolumeClaims, step.sdb.ns, pvc);
  if (!claim.ok() && !claim.error().is(kube::ApiErrorReason::kNotFound)) {
    return apiProblem("reading PersistentVolumeClaim \"" + pvc + "\"", claim.error());
  }
  if (claim.ok()) {
    auto claimBytes = specs::quantityBytes(jsonString(*claim, {"spec", "resources", "requests", "storage"}), "claim");
    if (!claimBytes.ok() || *claimBytes < *wantBytes) {
      const std::string cls = jsonString(*claim, {"spec", "storageClassName"});
      bool expandable = false;
      if (!cls.empty()) {
        auto sc = client_.get(res::kStorageClasses, "", cls);
        if (!sc.ok() && !sc.error().is(kube::ApiErrorReason::kNotFound)) {
          return apiProblem("reading StorageClass \"" + cls + "\"", sc.error());
        }
        expandable = sc.ok() && jsonAt(*sc, {"allowVolumeExpansion"}) && (*sc)["allowVolumeExpansion"] == true;
      }
      if (!expandable) {
        return Problem{"StorageExpansionNotSupported",
                       "spec.storage.size: " + want + " needs PersistentVolumeClaim \"" + pvc + "\" to grow, and its StorageClass \"" +
                           cls + "\" does not allow volume expansion (allowVolumeExpansion); set spec.storage.size back to " +
                           have,
                       true, false};
      }
      Json patch = {{"spec", {{"resources", {{"requests", {{"storage", want}}}}}}}};
      kube::PatchOptions opts;
      opts.fieldManager = options_.fieldManager;
      auto r = client_.patch(res::kPersistentVolumeClaims, step.sdb.ns, pvc, kube::PatchType::kMerge, dumpJson(patch), opts);
      if (!r.ok()) return apiProblem("expanding PersistentVolumeClaim \"" + pvc + "\"", r.error());
      step.changes.push_back("expanded PersistentVolumeClaim \"" + pvc + "\" from " + have + " to " + want);
    }
  }
  kube::DeleteOptions del;
  del.propagationPolicy = "Orphan";
  del.preconditionUid = jsonString(live, {"metadata", "uid"});
  auto r = client_.remove(res::kStatefulSets, step.sdb.ns, step.names.base, del);
  if (!r.ok() && !r.error().is(kube::ApiErrorReason::kNotFound)) {
    return apiProblem("deleting StatefulSet \"" + step.names.base + "\" (orphaning its pod)", r.error());
  }
  step.changes.push_back("deleted StatefulSet \"" + step.names.base + "\" keeping its pod, to recreate it with " + want +
                         " volumes");
  return true;
}

std::optional<Problem> DedicatedBackend::notReady(Step& step, const Json* sts) {
  auto wait = [&](const std::string& reason, const std::string& message) {
    Problem p{reason, message, false, true, options_.pollInterval};
    return step.fail(p);
  };
  if (!sts) return wait("InstanceStarting", "StatefulSet \"" + step.names.base + "\" is being created");
  auto num = [&](const std::vector<std::string>& path) {
    const Json* v = jsonAt(*sts, path);
    return v && v->is_number_integer() ? v->get<int64_t>() : 0;
  };
  const int64_t replicas = jsonAt(*sts, {"spec", "replicas"}) ? num({"spec", "replicas"}) : 1;
  const bool current = num({"status", "observedGeneration"}) >= num({"metadata", "generation"});
  const std::string currentRev = jsonString(*sts, {"status", "currentRevision"});
  const std::string updateRev = jsonString(*sts, {"status", "updateRevision"});
  const bool rolled = currentRev.empty() || updateRev.empty() || currentRev == updateRev;
  if (current && rolled && num({"status", "readyReplicas"}) >= replicas && num({"status", "updatedReplicas"}) >= replicas) {
    return std::nullopt;
  }
  // Not there yet: say why, from the pod (one uncached read, only while waiting).
  std::string detail = "no pod yet";
  bool image = false;
  auto pod = client_.get(res::kPods, step.sdb.ns, step.names.pod0);
  if (pod.ok()) std::tie(detail, image) = podState(*pod);
  const std::string what = "StatefulSet \"" + step.names.base + "\": " + std::to_string(num({"status", "readyReplicas"})) +
                           "/" + std::to_string(replicas) + " ready" + (rolled ? "" : ", rolling out a new revision") +
                           "; pod \"" + step.names.pod0 + "\": " + detail;
  if (image) {
    Problem p{"ImageNotRunnable", what + ". The image cannot be pulled or run on this cluster", false, true};
    p.requeueAfter = std::chrono::seconds(30);
    return step.fail(p);
  }
  return wait(rolled ? "InstanceStarting" : "InstanceRollingOut", what);
}

PResult<Session> DedicatedBackend::open(const specs::ServiceDatabase& sdb) {
  if (auto p = check(sdb)) return *p;
  Step step{sdb, specs::instanceNames(sdb), {}};
  const int major = *engine_.major(sdb.version);

  runtime::ObjectPtr liveSts = cached(readers_.statefulSets, sdb.ns, step.names.base);
  if (liveSts) {
    const std::string liveMajor = specs::annotation(*liveSts, kMajorAnnotation);
    if (!liveMajor.empty() && liveMajor != std::to_string(major)) {
      return Problem{"MajorVersionChange",
                     "spec.version: the instance runs major version " + liveMajor + " and cannot change to " +
                         std::to_string(major) + " in place; major upgrades are not supported yet. Set spec.version "
                         "back to a " + liveMajor + ".x version",
                     true, false};
    }
    if (jsonAt(*liveSts, {"metadata", "deletionTimestamp"})) {
      return step.fail({"InstanceRecreating", "StatefulSet \"" + step.names.base + "\" is being recreated", false, true,
                        options_.pollInterval});
    }
  }

  auto password = superuserPassword(step);
  if (!password.ok()) return step.fail(password.error());
  // check() has refused bad specs before anything was written; what fails here is the operator's
  // own configuration (e.g. its Redis options), which a spec change cannot fix.
  auto workload = engine_.workload(sdb, *password);
  if (!workload.ok()) return step.fail({"InvalidConfiguration", workload.error().message, true, false});

  auto headless = apply(step, res::kServices, cached(readers_.services, sdb.ns, step.names.headlessService).get(),
                        specs::headlessService(sdb, step.names, engine_.portName, engine_.port));
  if (!headless.ok()) return step.fail(headless.error());
  auto service = apply(step, res::kServices, cached(readers_.services, sdb.ns, step.names.service).get(),
                       specs::clusterIpService(sdb, step.names, engine_.portName, engine_.port));
  if (!service.ok()) return step.fail(service.error());
  const std::string clusterIp = jsonString(*service, {"spec", "clusterIP"});
  if (clusterIp.empty() || clusterIp == "None") {
    return step.fail({"InstanceStarting", "Service \"" + step.names.service + "\" has no clusterIP yet", false, true,
                      options_.pollInterval});
  }

  auto ca = ca_.get();
  if (!ca.ok()) return step.fail(ca.error());
  auto tls = ensureInstanceTls(client_, *readers_.secrets, sdb, step.names, *ca, specs::instanceDnsNames(sdb), {clusterIp},
                               options_.tls, options_.fieldManager, clock_.now());
  if (!tls.ok()) return step.fail(tls.error());
  if (tls->issued) step.changes.push_back("issued a server certificate (" + tls->why + "), serial " + tls->serial);
  if (tls->rewritten) step.changes.push_back("rewrote Secret \"" + step.names.tlsSecret + "\" with the same certificate (" + tls->why + ")");

  // The NetworkPolicy before the pods exist, so they are never reachable unprotected.
  specs::InstanceNetworkInput net;
  net.sdb = &sdb;
  net.policyName = step.names.networkPolicy;
  net.port = engine_.port;
  net.operatorNamespace = options_.operatorNamespace;
  net.operatorCidrs = options_.operatorCidrs;
  net.ownerReference = specs::ownerReference(sdb);
  std::vector<Json> policies = readers_.networkPolicies ? readers_.networkPolicies(sdb.ns) : std::vector<Json>{};
  const Json* livePolicy = nullptr;
  for (const auto& p : policies) {
    if (jsonString(p, {"metadata", "name"}) == step.names.networkPolicy) livePolicy = &p;
  }
  auto policy = apply(step, res::kNetworkPolicies, livePolicy, specs::instanceNetworkPolicy(net));
  if (!policy.ok()) return step.fail(policy.error());

  for (Json obj : *workload) {
    const std::string kind = jsonString(obj, {"kind"});
    if (kind == "StatefulSet") {
      obj["metadata"]["annotations"][kMajorAnnotation] = std::to_string(major);
      if (liveSts) {
        auto expanded = expandStorage(step, *liveSts, obj);
        if (!expanded.ok()) return step.fail(expanded.error());
        if (*expanded) {
          return step.fail({"InstanceRecreating", "StatefulSet \"" + step.names.base +
                            "\" is being recreated with bigger volumes; its pod keeps running",
                            false, true, options_.pollInterval});
        }
      }
      auto r = apply(step, res::kStatefulSets, liveSts.get(), obj);
      if (!r.ok()) return step.fail(r.error());
      liveSts = std::make_shared<const Json>(std::move(*r));
    } else if (kind == "ConfigMap") {
      auto r = apply(step, res::kConfigMaps, cached(readers_.configMaps, sdb.ns, jsonString(obj, {"metadata", "name"})).get(), obj);
      if (!r.ok()) return step.fail(r.error());
    } else if (kind == "Secret") {
      auto r = apply(step, res::kSecrets, cached(readers_.secrets, sdb.ns, jsonString(obj, {"metadata", "name"})).get(), obj);
      if (!r.ok()) return step.fail(r.error());
    } else {
      return Problem{"OperatorError", "the workload builder returned an unexpected " + kindName(obj), true, false};
    }
  }

  // NetworkIsolated over every policy of the namespace (ours as just applied).
  std::erase_if(policies, [&](const Json& p) { return jsonString(p, {"metadata", "name"}) == step.names.networkPolicy; });
  policies.push_back(*policy);
  auto verdict = specs::evaluateIsolation(net, specs::standardLabels(sdb, specs::Component::kInstance), policies);
  std::vector<ExtraCondition> conditions{{"NetworkIsolated", verdict.isolated ? "True" : "False",
                                          verdict.isolated ? "PolicyEnforced" : "PolicyAdmitsOthers",
                                          verdict.isolated ? "only the allowed peers can reach the instance's pods "
                                                             "(NetworkPolicy \"" + step.names.networkPolicy + "\")"
                                                           : verdict.message}};

  if (auto p = notReady(step, liveSts.get())) {
    p->conditions = conditions;
    return *p;
  }

  InstanceConnection conn;
  conn.host = clusterIp;
  conn.port = engine_.port;
  conn.username = engine_.superuser;
  conn.password = *password;
  conn.caPem = tls->caPem;
  conn.serverName = step.names.service + "." + sdb.ns + ".svc";
  auto caPath = caFiles_.pathFor(tls->caPem);
  if (!caPath.ok()) return step.fail({"OperatorError", caPath.error().message, false, true});
  conn.caFile = *caPath;

  Session s;
  std::optional<std::chrono::seconds> again = tls->renewIn;
  if (engine_.reloadTls) {
    std::string seen;
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen = servedSerial_[sdb.uid];
    }
    if (seen != tls->serial) {
      auto served = engine_.reloadTls(conn, tls->serial);
      if (served.ok() && *served == tls->serial) {
        std::lock_guard<std::mutex> lock(mu_);
        servedSerial_[sdb.uid] = *served;
        if (!seen.empty()) step.changes.push_back("the instance now presents certificate " + tls->serial + " (reloaded, not restarted)");
      } else {
        // The kubelet has not refreshed the mounted Secret yet: look again soon.
        again = std::min(again.value_or(std::chrono::seconds(10)), std::chrono::seconds(10));
      }
    }
  }

  s.engine = engine_.engine(conn);
  s.endpoint = {conn.serverName, engine_.port, engine_.database(sdb)};
  s.bindingType = engine_.bindingType;
  s.bindingData = [bind = engine_.bindingData, sdb, endpoint = s.endpoint, ca = tls->caPem](
                      const std::string& slot, const std::string& pw) { return bind(sdb, endpoint, ca, slot, pw); };
  s.fingerprint = sha256Hex(clusterIp + "\n" + std::to_string(engine_.port) + "\n" + *password + "\n" + tls->caPem);
  s.conditions = conditions;
  s.changes = step.changes;
  s.requeueAfter = again;
  return s;
}

PResult<std::vector<std::string>> DedicatedBackend::retain(const specs::ServiceDatabase& sdb) {
  const specs::InstanceNames names = specs::instanceNames(sdb);
  std::vector<std::string> kept;
  auto secret = client_.get(res::kSecrets, sdb.ns, names.superuserSecret);
  if (!secret.ok() && !secret.error().is(kube::ApiErrorReason::kNotFound)) {
    return apiProblem("reading Secret \"" + names.superuserSecret + "\"", secret.error());
  }
  if (secret.ok()) {
    if (auto o = orphanFrom(client_, res::kSecrets, *secret, sdb.name, options_.fieldManager); !o.ok()) {
      return apiProblem("removing the owner reference of Secret \"" + names.superuserSecret + "\"", o.error());
    }
    kept.push_back(names.superuserSecret);
  }
  kept.push_back("PersistentVolumeClaim " + names.pvc0);
  return kept;
}

PResult<std::vector<std::string>> DedicatedBackend::removeInstance(const specs::ServiceDatabase& sdb) {
  const specs::InstanceNames names = specs::instanceNames(sdb);
  auto r = client_.remove(res::kPersistentVolumeClaims, sdb.ns, names.pvc0, {});
  if (!r.ok() && !r.error().is(kube::ApiErrorReason::kNotFound)) {
    return apiProblem("deleting PersistentVolumeClaim \"" + names.pvc0 + "\"", r.error());
  }
  std::vector<std::string> done;
  if (r.ok()) done.push_back("deleted PersistentVolumeClaim \"" + names.pvc0 + "\" (the instance's data)");
  done.push_back("the instance's StatefulSet, Services, ConfigMap, NetworkPolicy and Secrets go with their owner");
  return done;
}

}  // namespace sdb::controllers::servicedatabase
