// The pure planner of the PostgreSQL engine.
//
// Contract: no I/O, deterministic, table-tested. `plan` returns the ordered actions that bring
// `observed` to `desired`; when already there, an empty plan (zero writes). An object named in
// `desired` that exists without our marker makes the plan return only a "ForeignObject" blocker
// naming it: nothing is adopted, altered or dropped. `planDeletion` does the same for the
// finalizer: Delete drops what is ours (database first, then roles), Retain plans nothing; an
// object with our name but without our marker is skipped and reported as a blocker (it is not
// ours to drop), while our own objects are still dropped.
#pragma once

#include "operator/engines/postgres/model.h"

namespace sdb::engines::postgres {

Plan plan(const Desired& desired, const Observed& observed);
Plan planDeletion(const Desired& desired, const Observed& observed, DeletionPolicy policy);

}  // namespace sdb::engines::postgres
