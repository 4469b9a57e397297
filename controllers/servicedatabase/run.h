// One reconcile's working state, shared by reconciler.cpp and deletion.cpp (private to the
// controller). Not thread-safe; lives on one worker's stack.
#pragma once

#include "controllers/servicedatabase/credentials.h"
#include "controllers/servicedatabase/reconciler.h"
#include "operator/specs/servicedatabase.h"

namespace sdb::controllers::servicedatabase {

struct ServiceDatabaseReconciler::Run {
  Run(const runtime::Request& r, const runtime::ReconcileContext& c, Json o)
      : request(r), context(c), object(std::move(o)) {}
  const runtime::Request& request;
  const runtime::ReconcileContext& context;
  Json object;  // the ServiceDatabase as last read or written
  specs::ServiceDatabase sdb;
  Changes changes;
};

inline runtime::ReconcileResult retryFor(const Problem& p) {
  if (p.requeueAfter) return runtime::ReconcileResult::requeueAfter(*p.requeueAfter);
  return p.retry ? runtime::ReconcileResult::retry(p.reason + ": " + p.message) : runtime::ReconcileResult::ok();
}

}  // namespace sdb::controllers::servicedatabase
