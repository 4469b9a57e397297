#include "operator/migrate/migration_file.h"

#include <gtest/gtest.h>

#include "operator/core/hash.h"

namespace sdb::migrate {
namespace {

TEST(MigrationFileName, ParsesVersionsAndDescriptions) {
  struct Case {
    std::string name, version, description;
  };
  for (const auto& c : std::vector<Case>{{"V1__init.sql", "1", "init"},
                                         {"V1_1__add_index.sql", "1.1", "add_index"},
                                         {"V2.10__x.sql", "2.10", "x"},
                                         {"V007__leading_zeros.sql", "7", "leading_zeros"},
                                         {"V3_0__trailing_zero.sql", "3", "trailing_zero"},
                                         {"V1_0_2__inner_zero.sql", "1.0.2", "inner_zero"},
                                         {"V1___underscore_first.sql", "1", "_underscore_first"},
                                         {"V20240101120000__timestamp.sql", "20240101120000", "timestamp"},
                                         {"V1__a-b.c.sql", "1", "a-b.c"}}) {
    auto n = parseFileName(c.name);
    ASSERT_TRUE(n.ok()) << c.name << ": " << n.error().message;
    EXPECT_EQ(n->version.text(), c.version) << c.name;
    EXPECT_EQ(n->description, c.description) << c.name;
  }
}

TEST(MigrationFileName, BadNamesAreErrorsNamingTheFileAndTheRule) {
  struct Case {
    std::string name, why;
  };
  for (const auto& c : std::vector<Case>{{"v1__init.sql", "uppercase V"},
                                         {"V1__init.SQL", "lowercase"},
                                         {"V1_init.sql", "no \"__\""},
                                         {"V__init.sql", "want digits"},
                                         {"Vx__init.sql", "want digits"},
                                         {"V1..2__init.sql", "want digits"},
                                         {"V1-2__init.sql", "want digits"},
                                         {"V1__.sql", "description is empty"},
                                         {"V1__two words.sql", "only letters"},
                                         {"V1234567890123456789__big.sql", "18 digits"},
                                         {"R__repeatable.sql", "uppercase V"},
                                         {"init.sql", "uppercase V"}}) {
    auto n = parseFileName(c.name);
    ASSERT_FALSE(n.ok()) << c.name;
    EXPECT_EQ(n.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(n.error().message.find("\"" + c.name + "\""), std::string::npos) << n.error().message;
    EXPECT_NE(n.error().message.find(c.why), std::string::npos) << n.error().message;
    EXPECT_NE(n.error().message.find("V<version>__<description>.sql"), std::string::npos) << n.error().message;
  }
}

TEST(MigrationFileName, VersionsCompareNumericallyPartByPart) {
  auto v = [](const std::string& t) { return parseVersion(t).value(); };
  EXPECT_LT(v("2"), v("10"));
  EXPECT_LT(v("1.9"), v("1.10"));
  EXPECT_LT(v("1"), v("1.1"));
  EXPECT_LT(v("1.1"), v("2"));
  EXPECT_EQ(v("1.0"), v("1"));
  EXPECT_EQ(v("01"), v("1"));
  EXPECT_EQ(v("1_1"), v("1.1"));
  EXPECT_EQ(v("0").text(), "0");
  EXPECT_FALSE(parseVersion("").ok());
  EXPECT_FALSE(parseVersion("1.").ok());
  EXPECT_FALSE(parseVersion("1.a").ok());
}

TEST(MigrationFileName, OnlySqlExtensionsLookLikeMigrations) {
  EXPECT_TRUE(looksLikeSqlFile("V1__x.sql"));
  EXPECT_TRUE(looksLikeSqlFile("seed.SQL"));
  EXPECT_FALSE(looksLikeSqlFile("README.md"));
  EXPECT_FALSE(looksLikeSqlFile("sql"));
  EXPECT_FALSE(looksLikeSqlFile("V1__x.sql.bak"));
}

TEST(TransactionDirective, FirstLineMarksTheFileNonTransactional) {
  EXPECT_TRUE(*parseTransactionDirective("CREATE TABLE t (id int);"));
  EXPECT_TRUE(*parseTransactionDirective(""));
  EXPECT_FALSE(*parseTransactionDirective("-- servicedb:transaction=false\nCREATE INDEX CONCURRENTLY i ON t (id);"));
  EXPECT_FALSE(*parseTransactionDirective("--servicedb:transaction=false\r\nSELECT 1;"));
  EXPECT_FALSE(*parseTransactionDirective("\xEF\xBB\xBF-- servicedb:transaction=false  \nSELECT 1;"));
  EXPECT_TRUE(*parseTransactionDirective("-- servicedb:transaction=true\nSELECT 1;"));
  EXPECT_TRUE(*parseTransactionDirective("-- just a comment about servicedb\nSELECT 1;"));
}

TEST(TransactionDirective, TyposAndMisplacedDirectivesAreErrors) {
  auto typo = parseTransactionDirective("-- servicedb:transactional=false\nSELECT 1;");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("unknown directive"), std::string::npos) << typo.error().message;
  auto late = parseTransactionDirective("-- header\n-- servicedb:transaction=false\nSELECT 1;");
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.error().message.find("line 2"), std::string::npos) << late.error().message;
  EXPECT_NE(late.error().message.find("must be the first line"), std::string::npos) << late.error().message;
}

TEST(MigrationFile, ChecksumIsSha256OfTheExactBytes) {
  auto a = makeMigrationFile("V1__create_orders.sql", "CREATE TABLE orders (id int);\n");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->checksum, sha256Hex("CREATE TABLE orders (id int);\n"));
  EXPECT_EQ(a->checksum.size(), 64u);
  EXPECT_EQ(a->description, "create orders");
  EXPECT_TRUE(a->transactional);
  auto crlf = makeMigrationFile("V1__create_orders.sql", "CREATE TABLE orders (id int);\r\n");
  EXPECT_NE(crlf->checksum, a->checksum) << "line endings are part of the bytes";
}

TEST(MigrationFile, ErrorsNameTheFile) {
  auto bad = makeMigrationFile("V2__idx.sql", "-- servicedb:transaction=nope\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind("V2__idx.sql: ", 0), 0u) << bad.error().message;
  auto unsplittable = makeMigrationFile("V3__idx.sql", "-- servicedb:transaction=false\nSELECT 'open;\n");
  ASSERT_FALSE(unsplittable.ok());
  EXPECT_NE(unsplittable.error().message.find("V3__idx.sql: line 2: unterminated quoted string"), std::string::npos)
      << unsplittable.error().message;
}

TEST(MigrationFile, OrderingIsNumericAndDuplicatesNameBothFiles) {
  std::vector<MigrationFile> files;
  for (const char* n : {"V10__ten.sql", "V2__two.sql", "V1_1__one_one.sql", "V1__one.sql"})
    files.push_back(makeMigrationFile(n, "SELECT 1;").value());
  auto ordered = orderMigrations(files);
  ASSERT_TRUE(ordered.ok());
  std::vector<std::string> names;
  for (const auto& f : *ordered) names.push_back(f.fileName);
  EXPECT_EQ(names, (std::vector<std::string>{"V1__one.sql", "V1_1__one_one.sql", "V2__two.sql", "V10__ten.sql"}));

  files.push_back(makeMigrationFile("V01__again.sql", "SELECT 1;").value());
  auto dup = orderMigrations(files);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("V01__again.sql and V1__one.sql have the same version 1"), std::string::npos)
      << dup.error().message;
}

}  // namespace
}  // namespace sdb::migrate
