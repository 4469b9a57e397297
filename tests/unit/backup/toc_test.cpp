// tocEntries/tocDifferences on listings in the shape `pg_restore --list` prints (taken from a real
// PostgreSQL 15 archive and its restored copy: ids, oids and owners differ, entries do not).
#include "operator/backup/toc.h"

#include <gtest/gtest.h>

namespace sdb::backup {
namespace {

const char* kBackup = R"(;
; Archive created at 2026-12-06 06:10:11 UTC
;     dbname: src
;
6; 2615 16385 SCHEMA - app shop_orders_owner
216; 1259 16387 TABLE app t shop_orders_owner
3364; 0 0 COMMENT app TABLE t shop_orders_owner
3208; 2606 16394 CONSTRAINT app t t_pkey shop_orders_owner
3355; 0 16387 TABLE DATA app t shop_orders_owner
3356; 0 16400 MATERIALIZED VIEW DATA public mv shop_orders_owner
)";

const char* kRestored = R"(;
; Archive created at 2026-12-06 06:11:00 UTC
6; 2615 16405 SCHEMA - app postgres
215; 1259 16406 TABLE app t postgres
3363; 0 0 COMMENT app TABLE t postgres
3208; 2606 16422 CONSTRAINT app t t_pkey postgres
3354; 0 16406 TABLE DATA app t postgres
3356; 0 16412 MATERIALIZED VIEW DATA public mv postgres
)";

TEST(Toc, EntriesDropIdsOidsAndOwnerAndKeepMultiWordTypesAndNames) {
  auto e = tocEntries(kBackup);
  ASSERT_EQ(e.size(), 6u);
  EXPECT_EQ(e, (std::vector<std::string>{"COMMENT app TABLE t", "CONSTRAINT app t t_pkey", "MATERIALIZED VIEW DATA public mv",
                                         "SCHEMA - app", "TABLE DATA app t", "TABLE app t"}));
}

TEST(Toc, AnArchiveAndItsRestoredCopyMatch) {
  EXPECT_TRUE(tocDifferences(tocEntries(kBackup), tocEntries(kRestored)).empty());
}

TEST(Toc, NamesWhatIsMissingAndWhatIsExtra) {
  std::string restored = kRestored;
  restored.replace(restored.find("3354; 0 16406 TABLE DATA app t postgres\n"),
                   std::string("3354; 0 16406 TABLE DATA app t postgres\n").size(),
                   "400; 1259 16500 TABLE public stray postgres\n");
  auto d = tocDifferences(tocEntries(kBackup), tocEntries(restored));
  EXPECT_EQ(d, (std::vector<std::string>{"missing after the restore: TABLE DATA app t",
                                         "not in the backup: TABLE public stray"}));
}

TEST(Toc, DuplicatesCountAndTheListIsCut) {
  std::string many;
  for (int i = 0; i < 25; ++i) many += std::to_string(i) + "; 1259 1 TABLE public t" + std::to_string(i) + " o\n";
  auto d = tocDifferences(tocEntries(many), {}, 10);
  ASSERT_EQ(d.size(), 11u);
  EXPECT_EQ(d.back(), "... and 15 more");
  // The same entry twice in the backup, once after the restore: one is missing.
  auto twice = tocDifferences(tocEntries("1; 0 0 COMMENT - x o\n2; 0 0 COMMENT - x o\n"), tocEntries("9; 0 0 COMMENT - x p\n"));
  EXPECT_EQ(twice, (std::vector<std::string>{"missing after the restore: COMMENT - x"}));
}

TEST(Toc, SchemaPublicIsNotCompared) {
  // The live database's public schema belongs to the owner role, so its dump lists it; a fresh
  // database's (the restored copy's) does not.
  auto backup = tocEntries("7; 2615 2200 SCHEMA - public shop_orders_owner\n216; 1259 16387 TABLE public t o\n");
  EXPECT_EQ(backup, (std::vector<std::string>{"TABLE public t"}));
  EXPECT_TRUE(tocDifferences(backup, tocEntries("215; 1259 16406 TABLE public t postgres\n")).empty());
}

TEST(Toc, SkipsMalformedLines) {
  EXPECT_TRUE(tocEntries("garbage\n\n; comment\n12 1259 1 TABLE public t o\n").empty());
}

}  // namespace
}  // namespace sdb::backup
