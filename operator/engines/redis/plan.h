// The pure planner of the Redis engine.
//
// Contract: no I/O, deterministic, table-tested (tests/unit/engines/redis/plan_test.cpp).
//  - plan: a missing user is created with every rule in one ACL SETUSER (atomic in Redis 7, so a
//    crash never leaves a half-made or unmarked user). A user of ours whose flags, keys, channels,
//    commands or marker drifted gets all its rules rewritten (one ACL SETUSER starting with
//    "reset"); one whose only difference is the password gets "resetpass #<hash>". Steady state
//    plans nothing. A user with our name but without our marker yields only a "ForeignObject"
//    blocker: it is never adopted, altered or deleted.
//  - planDeletion: Retain plans nothing. Delete disables the user and closes its connections
//    (so no new keys appear while we delete), deletes the keys under the prefix in shared mode,
//    then deletes the user. A foreign user is reported as a blocker and left alone.
#pragma once

#include "operator/engines/redis/model.h"

namespace sdb::engines::redis {

Plan plan(const Desired& desired, const Observed& observed);
Plan planDeletion(const Desired& desired, const Observed& observed, DeletionPolicy policy);

// Rotation step 2 (engine.h): the pending password replaces every other, in one command.
Plan planRotation(const Desired& desired, const Observed& observed, const std::string& pendingHash);

}  // namespace sdb::engines::redis
