#include "controllers/servicedatabase/credentials.h"

#include "operator/runtime/object_helpers.h"
#include "operator/runtime/status_writer.h"
#include "operator/specs/credentials_secret.h"

namespace sdb::controllers::servicedatabase {

namespace res = kube::resources;
using specs::kAnnotationPasswordSetAt;
using specs::kAnnotationRotatedAt;
using specs::kAnnotationRotationRequest;

kube::KResult<std::optional<Json>> SecretAccess::read(const std::string& ns, const std::string& name) {
  const std::string key = ns + "/" + name;
  std::string rememberedRv;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = written_.find(key);
    if (it != written_.end()) rememberedRv = it->second;
  }
  auto cached = cache_.get(ns, name);
  if (cached && (rememberedRv.empty() || jsonString(*cached, {"metadata", "resourceVersion"}) == rememberedRv)) {
    return std::optional<Json>(*cached);
  }
  // Absent from the cache, or the cache has not caught up with our own last write: ask the API.
  auto fresh = client_.get(res::kSecrets, ns, name);
  if (!fresh.ok()) {
    if (fresh.error().is(kube::ApiErrorReason::kNotFound)) {
      forget(ns, name);
      return std::optional<Json>();
    }
    return fresh.error();
  }
  Json obj = std::move(*fresh);
  if (obj.contains("metadata")) obj["metadata"].erase("managedFields");
  return std::optional<Json>(std::move(obj));
}

void SecretAccess::remember(const Json& written) {
  std::lock_guard<std::mutex> lock(mu_);
  written_[jsonString(written, {"metadata", "namespace"}) + "/" + jsonString(written, {"metadata", "name"})] =
      jsonString(written, {"metadata", "resourceVersion"});
}

void SecretAccess::forget(const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  written_.erase(ns + "/" + name);
}

std::map<std::string, std::string> stateAnnotations(const Json& secret) {
  std::map<std::string, std::string> out;
  for (const char* key : {kAnnotationPasswordSetAt, kAnnotationRotatedAt, kAnnotationRotationRequest}) {
    std::string v = specs::annotation(secret, key);
    if (!v.empty()) out[key] = v;
  }
  return out;
}

namespace {

std::chrono::system_clock::time_point passwordSetAt(const Json& secret, std::chrono::system_clock::time_point now) {
  std::chrono::system_clock::time_point t;
  if (parseRfc3339(specs::annotation(secret, kAnnotationPasswordSetAt), &t)) return t;
  if (parseRfc3339(jsonString(secret, {"metadata", "creationTimestamp"}), &t)) return t;
  return now;
}

std::string joinSlots(const std::vector<std::string>& slots) {
  std::string out;
  for (size_t i = 0; i < slots.size(); ++i) out += (i ? (i + 1 == slots.size() ? " and " : ", ") : "") + slots[i];
  return out;
}

}  // namespace

RotationDecision decideRotation(const specs::ServiceDatabase& sdb, const std::vector<SlotState>& slots,
                                std::chrono::system_clock::time_point now) {
  RotationDecision d;
  if (!sdb.rotateRequest.empty()) {
    for (const auto& s : slots) {
      if (specs::annotation(s.live, kAnnotationRotationRequest) != sdb.rotateRequest) d.slots.push_back(s.slot);
    }
    if (!d.slots.empty()) {
      d.why = std::string("annotation ") + specs::kRotateCredentialsAnnotation + "=" + sdb.rotateRequest;
      d.request = sdb.rotateRequest;
    }
  }
  if (sdb.credentials.rotationPeriod) {
    const auto period = *sdb.credentials.rotationPeriod;
    std::vector<std::string> due;
    std::optional<std::chrono::nanoseconds> next;
    for (const auto& s : slots) {
      auto dueAt = passwordSetAt(s.live, now) + period;
      if (dueAt <= now) {
        due.push_back(s.slot);
        dueAt = now + period;  // after this rotation
      }
      auto in = std::chrono::duration_cast<std::chrono::nanoseconds>(dueAt - now);
      if (!next || in < *next) next = in;
    }
    d.nextDueIn = next;
    if (d.slots.empty() && !due.empty()) {
      d.slots = due;
      d.why = "spec.credentials.rotationPeriod";
    }
  }
  return d;
}

Result<std::string> Credentials::generatePassword() {
  auto alphabet = specs::passwordAlphabet(sdb_.credentials.passwordCharset);
  if (!alphabet.ok()) return alphabet.error();
  return d_.random.string(static_cast<size_t>(sdb_.credentials.passwordLength), *alphabet);
}

Json Credentials::desired(const SlotState& slot, const std::string& password, const std::optional<std::string>& pending,
                          std::map<std::string, std::string> annotations) const {
  specs::CredentialsSecretInput in;
  in.slot = slot.slot;
  in.bindingType = session_.bindingType;
  in.data = session_.bindingData(slot.slot, password);
  if (pending) in.data[specs::kKeyPendingPassword] = *pending;
  in.annotations = std::move(annotations);
  in.owner = owner_;
  return specs::buildCredentialsSecret(sdb_, in);
}

Problem Credentials::apiProblem(const kube::ApiError& e, const std::string& doing) const {
  bool bad = e.is(kube::ApiErrorReason::kInvalid) || e.is(kube::ApiErrorReason::kBadRequest);
  return {bad ? "InvalidSecret" : "ApiError", doing + ": " + e.toString(), bad, true};
}

PResult<Json> Credentials::apply(const Json& want, const std::optional<Json>& live) {
  auto r = runtime::applyIfChanged(d_.client, res::kSecrets, want, live, d_.fieldManager);
  if (!r.ok()) return apiProblem(r.error(), "applying Secret \"" + jsonString(want, {"metadata", "name"}) + "\"");
  if (r->applied) d_.secrets.remember(r->object);
  return r->object;
}

PResult<std::vector<SlotState>> Credentials::ensure() {
  std::vector<SlotState> out;
  const std::string now = formatRfc3339(d_.clock.now());
  for (const auto& slot : backend_.slots()) {
    SlotState s;
    s.slot = slot;
    s.secretName = specs::credentialsSecretName(sdb_, slot);
    auto live = d_.secrets.read(sdb_.ns, s.secretName);
    if (!live.ok()) return apiProblem(live.error(), "reading Secret \"" + s.secretName + "\"");
    if (*live) {
      std::string why;
      if (!specs::isOurCredentialsSecret(sdb_, slot, **live, &why)) {
        return Problem{"ForeignObject", why + "; it is never adopted or changed. Delete it, or choose another name " +
                                            "with spec.credentials.secretName",
                       true, true};
      }
      auto data = specs::secretData(**live);
      s.password = data[specs::kKeyPassword];
      if (auto p = data.find(specs::kKeyPendingPassword); p != data.end() && !p->second.empty()) s.pending = p->second;
    }
    std::map<std::string, std::string> annotations = *live ? stateAnnotations(**live) : std::map<std::string, std::string>{};
    if (s.password.empty()) {
      // New (or emptied) credentials: generate, and store before anything uses the password.
      auto pw = generatePassword();
      if (!pw.ok()) return Problem{"OperatorError", "generating a password: " + pw.error().message, false, true};
      s.password = *pw;
      annotations[kAnnotationPasswordSetAt] = now;
      // A rotate-credentials annotation that predates these credentials asks for nothing: they are new.
      if (!sdb_.rotateRequest.empty()) annotations[kAnnotationRotationRequest] = sdb_.rotateRequest;
      auto written = apply(desired(s, s.password, s.pending, annotations), std::nullopt);
      if (!written.ok()) return written.error();
      s.live = std::move(*written);
      changes_.createdSecrets = true;
      changes_.provisioning.push_back(std::string(*live ? "generated a new password in" : "created") + " Secret \"" +
                                      s.secretName + "\"");
    } else {
      // Existing: keep the stored passwords; repair entries that drifted (host moved, edited, ...).
      auto written = apply(desired(s, s.password, s.pending, annotations), **live);
      if (!written.ok()) return written.error();
      if (jsonString(*written, {"metadata", "resourceVersion"}) != jsonString(**live, {"metadata", "resourceVersion"})) {
        auto ref = runtime::controllerOf(**live);
        bool adopted = !ref || ref->value("uid", "") != sdb_.uid;
        changes_.provisioning.push_back(std::string(adopted ? "adopted" : "updated") + " Secret \"" + s.secretName + "\"");
      }
      s.live = std::move(*written);
    }
    out.push_back(std::move(s));
  }
  return out;
}

PResult<void> Credentials::promote(SlotState& s) {
  if (!s.pending) return {};
  auto annotations = stateAnnotations(s.live);
  const std::string now = formatRfc3339(d_.clock.now());
  annotations[kAnnotationPasswordSetAt] = now;
  annotations[kAnnotationRotatedAt] = now;
  // Forced apply (no live object): dropping `pending-password` must reach the server even though
  // the desired Secret is otherwise a subset of the live one.
  auto written = apply(desired(s, *s.pending, std::nullopt, annotations), std::nullopt);
  if (!written.ok()) return written.error();
  if (jsonAt(*written, {"data", specs::kKeyPendingPassword}) != nullptr) {
    // Server-side apply drops only fields our manager owns; someone else wrote `pending-password`
    // (an edit by hand, say). Remove it explicitly, guarded by the resourceVersion we just got.
    Json ops = Json::array({{{"op", "test"}, {"path", "/metadata/resourceVersion"},
                             {"value", jsonString(*written, {"metadata", "resourceVersion"})}},
                            {{"op", "remove"}, {"path", std::string("/data/") + specs::kKeyPendingPassword}}});
    kube::PatchOptions opts;
    opts.fieldManager = d_.fieldManager;
    auto r = d_.client.patch(res::kSecrets, sdb_.ns, s.secretName, kube::PatchType::kJson, dumpJson(ops), opts);
    if (!r.ok()) return apiProblem(r.error(), "removing pending-password from Secret \"" + s.secretName + "\"");
    d_.secrets.remember(*r);
    written = std::move(*r);
  }
  s.password = *s.pending;
  s.pending.reset();
  s.live = std::move(*written);
  return {};
}

PResult<Credentials::Resumed> Credentials::resumePending(std::vector<SlotState>& slots, engines::Engine& engine,
                                                         const engines::ServiceIdentity& id) {
  Resumed r;
  for (auto& s : slots) {
    if (!s.pending) {
      r.forEngine.push_back({s.slot, s.password});
      continue;
    }
    auto which = engine.whichPasswordWorks(id, s.slot, {s.password, *s.pending});
    if (!which.ok() && which.error().code != ErrorCode::kNotFound) {
      return problemFromEngineError(which.error(), "finishing the rotation of the " + s.slot + " password");
    }
    if (!which.ok()) {
      // Neither works: the role is gone or was changed outside the operator. The engine reconcile
      // sets the pending password (already stored), which is then promoted.
      r.forEngine.push_back({s.slot, *s.pending});
      r.promoteAfterReconcile.push_back(s.slot);
      continue;
    }
    if (*which == 0) {
      auto st = engine.rotate(id, {s.slot, *s.pending});
      if (!st.ok()) return problemFromEngineError(st.error(), "rotating the " + s.slot + " password");
    }
    if (auto p = promote(s); !p.ok()) return p.error();
    changes_.rotation.push_back("finished the interrupted rotation of the " + s.slot + " password (Secret \"" +
                                s.secretName + "\")");
    r.forEngine.push_back({s.slot, s.password});
  }
  return r;
}

PResult<void> Credentials::rotate(std::vector<SlotState>& slots, const RotationDecision& decision,
                                  engines::Engine& engine, const engines::ServiceIdentity& id) {
  std::vector<SlotState*> chosen;
  for (auto& s : slots) {
    for (const auto& name : decision.slots) {
      if (s.slot == name) chosen.push_back(&s);
    }
  }
  // Step 1 for every chosen slot: the new password is stored before the server learns it.
  for (SlotState* s : chosen) {
    auto pw = generatePassword();
    if (!pw.ok()) return Problem{"OperatorError", "generating a password: " + pw.error().message, false, true};
    auto annotations = stateAnnotations(s->live);
    if (!decision.request.empty()) annotations[kAnnotationRotationRequest] = decision.request;
    auto written = apply(desired(*s, s->password, *pw, annotations), s->live);
    if (!written.ok()) return written.error();
    s->pending = *pw;
    s->live = std::move(*written);
  }
  // Steps 2 and 3, slot by slot.
  std::vector<std::string> done;
  for (SlotState* s : chosen) {
    auto st = engine.rotate(id, {s->slot, *s->pending});
    if (!st.ok()) return problemFromEngineError(st.error(), "rotating the " + s->slot + " password");
    if (auto p = promote(*s); !p.ok()) return p.error();
    done.push_back(s->slot + " (Secret \"" + s->secretName + "\")");
  }
  if (!done.empty()) changes_.rotation.push_back("rotated the " + joinSlots(done) + " password, for " + decision.why);
  return {};
}

}  // namespace sdb::controllers::servicedatabase
