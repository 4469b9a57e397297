#include "operator/migrate/history.h"

#include <gtest/gtest.h>

namespace sdb::migrate {
namespace {

// docs/migrations.md names this key, so a DBA can find the lock's holder in pg_locks; changing it
// would let an old and a new runner apply the same files at once.
TEST(MigrationLock, KeyIsTheDocumentedConstant) {
  EXPECT_EQ(migrationLockKey(), 874803985826402223);
  EXPECT_EQ(migrationLockKey() >> 32, 203681175);          // pg_locks.classid
  EXPECT_EQ(migrationLockKey() & 0xffffffff, 390549423);   // pg_locks.objid
}

}  // namespace
}  // namespace sdb::migrate
