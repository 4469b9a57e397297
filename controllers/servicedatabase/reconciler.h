// The ServiceDatabase reconciler (ARCHITECTURE.md §3), engine-neutral: the only engine-specific
// step is choosing a Backend from the registry by (spec.engine, spec.mode).
//
//   1. read the object from the cache; gone: nothing to do (children go with owner references);
//   2. parse the spec (errors name the field: Stalled/InvalidSpec); no backend for the engine and
//      mode: Stalled/NotImplemented, and nothing is created (no finalizer either);
//   3. being deleted: the finalizer's work (deletion.cpp) per spec.deletionPolicy;
//   4. ensure the finalizer (it guards external state) before anything external exists;
//   5. open the backend (shared: admin Secret, uncached), ensure the credentials Secrets (passwords
//      stored before use), finish an interrupted rotation, run engine.reconcile
//      (observe → plan → execute), then rotate when due (credentials.h);
//   6. spec.migrations (migrations.h): Ready only once status.schemaVersion is the spec's version;
//      the migration Jobs start here, and their results are recorded here;
//   7. spec.restore (restore.h): while pending, the engine makes the roles but not the database, and
//      the restore Job makes it; the ServiceDatabase is Ready only after the Job completed;
//   8. spec.deletionPolicy Snapshot: condition FinalBackupReady (final_backup.h) says whether a
//      deletion would find a backup CronJob (removed for the other policies);
//   9. write status once (skipped when unchanged) and emit Events for what changed.
// A steady state makes no API write and plans nothing on the server. Unless
// `engineRecheckInterval` is zero, a reconcile whose inputs (generation, stored passwords, admin
// connection) equal those of a success less than that interval ago skips the server round trip; the
// informer's resync still re-observes the server periodically, so drift there is repaired.
//
// Results: ok; requeueAfter (next scheduled rotation); retry with exponential backoff for
// transient problems (server unreachable, API errors) and for problems outside the spec that a
// human fixes elsewhere (foreign objects, admin Secret); no requeue for a bad spec (its change
// triggers a reconcile).
//
// Contract: thread-safe; the workqueue never reconciles one key on two workers at once.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "controllers/servicedatabase/backend.h"
#include "controllers/servicedatabase/credentials.h"
#include "controllers/servicedatabase/final_backup.h"
#include "controllers/servicedatabase/migrations.h"
#include "controllers/servicedatabase/object_reader.h"
#include "controllers/servicedatabase/status.h"
#include "operator/core/clock.h"
#include "operator/core/random.h"
#include "operator/runtime/controller.h"
#include "operator/runtime/event_recorder.h"
#include "operator/specs/backup_job.h"

namespace sdb::controllers::servicedatabase {

inline constexpr const char* kFinalizer = "servicedb.io/finalizer";
inline constexpr const char* kFieldManager = "servicedb-operator";

struct ReconcilerOptions {
  std::string fieldManager = kFieldManager;
  int connectionLimit = 20;  // per login role
  std::chrono::seconds engineRecheckInterval{300};
  Clock* clock = nullptr;                   // default SystemClock
  Random* random = nullptr;                 // default CryptoRandom (OpenSSL's CSPRNG)
  runtime::EventRecorder* events = nullptr;  // optional
  MigrationOptions migrations;               // the Jobs' options and the operator's own image
  specs::BackupJobOptions restoreJob;         // the image of restore Jobs (run --operator-image)
  FinalBackupOptions finalBackup;             // deletionPolicy Snapshot (final_backup.h)
};

class ServiceDatabaseReconciler final : public runtime::Reconciler {
 public:
  ServiceDatabaseReconciler(kube::KubeClient& client, const ObjectReader& serviceDatabases, const ObjectReader& secrets,
                            const BackendRegistry& backends, ReconcilerOptions options = {});

  runtime::ReconcileResult reconcile(const runtime::Request& request, const runtime::ReconcileContext& context) override;

  // Counters for tests and metrics.
  uint64_t statusWrites() const { return statusWrites_.load(); }
  uint64_t engineRuns() const { return engineRuns_.load(); }

 private:
  struct Run;  // one reconcile's state (reconciler.cpp)
  runtime::ReconcileResult reconcileLive(Run& run);
  runtime::ReconcileResult finalize(Run& run);  // deletion.cpp
  runtime::ReconcileResult finish(Run& run, const Outcome& outcome, runtime::ReconcileResult result);
  // Step 6: merges the migration step into the Ready outcome and the result.
  void migrate(Run& run, const Backend& backend, const std::vector<SlotState>& slots, Outcome& ready,
               std::optional<std::chrono::seconds>& again, std::optional<std::string>& retry);
  void emitEvents(Run& run, const Json& object, const Outcome& outcome);
  PResult<void> ensureFinalizer(Run& run);

  // Skips the server round trip when nothing changed since a recent success (see above).
  bool recentlyConverged(const std::string& uid, const std::string& fingerprint);
  void rememberConverged(const std::string& uid, const std::string& fingerprint);
  void forgetConverged(const std::string& uid);

  kube::KubeClient& client_;
  const ObjectReader& serviceDatabases_;
  const BackendRegistry& backends_;
  ReconcilerOptions options_;
  Clock& clock_;
  Random& random_;
  SecretAccess secrets_;
  std::mutex memoMu_;
  std::map<std::string, std::pair<std::string, std::chrono::steady_clock::time_point>> converged_;
  std::atomic<uint64_t> statusWrites_{0}, engineRuns_{0};
};

}  // namespace sdb::controllers::servicedatabase
