// The pure planner of the MongoDB engine.
//
// Contract: no I/O, deterministic, table-tested (tests/unit/engines/mongo/plan_test.cpp).
// `plan` returns the ordered actions that bring `observed` to `desired`, or an empty plan when it is
// already there (zero writes). It marks the database before any user is created in it, so "a
// database holding our users" implies "a database we marked". Anything with our names that is not
// ours makes `plan` return only "ForeignObject" blockers:
//  - a user without our marker (or with another ServiceDatabase's);
//  - a database with another owner's marker, or with data but neither our marker nor our users;
//  - a database whose name equals ours ignoring case (MongoDB refuses to hold both).
// `planDeletion`: Retain plans nothing; Delete drops the database (only when it is ours) and then
// our users; what is not ours is skipped and reported as a blocker, while ours is still dropped.
#pragma once

#include "operator/engines/mongo/model.h"

namespace sdb::engines::mongo {

Plan plan(const Desired& desired, const Observed& observed);
Plan planDeletion(const Desired& desired, const Observed& observed, DeletionPolicy policy);

// True when the observed database is ours: our marker, or no marker at all while a user of ours
// lives in it (a tenant with readWrite can delete the marker document; our users it cannot touch).
bool databaseIsOurs(const Desired& desired, const Observed& observed);

}  // namespace sdb::engines::mongo
