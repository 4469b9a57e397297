#include "operator/migrate/sql_text.h"

#include <gtest/gtest.h>

namespace sdb::migrate {
namespace {

std::vector<std::string> texts(std::string_view sql) {
  auto s = splitStatements(sql);
  EXPECT_TRUE(s.ok()) << s.error().message;
  std::vector<std::string> out;
  if (s.ok())
    for (const auto& st : *s) out.push_back(st.sql);
  return out;
}

using V = std::vector<std::string>;

TEST(SplitStatements, SplitsOnSemicolonsOutsideQuotesAndComments) {
  EXPECT_EQ(texts("SELECT 1; SELECT 2;"), (V{"SELECT 1", "SELECT 2"}));
  EXPECT_EQ(texts("SELECT 1;\nSELECT 2"), (V{"SELECT 1", "SELECT 2"})) << "the last ';' is optional";
  EXPECT_EQ(texts("SELECT ';';"), (V{"SELECT ';'"}));
  EXPECT_EQ(texts("SELECT 'it''s; fine';"), (V{"SELECT 'it''s; fine'"}));
  EXPECT_EQ(texts("SELECT E'a\\'; b';"), (V{"SELECT E'a\\'; b'"}));
  EXPECT_EQ(texts("SELECT e'\\\\'; SELECT 2"), (V{"SELECT e'\\\\'", "SELECT 2"}));
  EXPECT_EQ(texts("SELECT 'a\\'; SELECT 2"), (V{"SELECT 'a\\'", "SELECT 2"})) << "no backslash escapes in '...'";
  EXPECT_EQ(texts("SELECT name'x;y' FROM t;"), (V{"SELECT name'x;y' FROM t"})) << "E only as a token of its own";
  EXPECT_EQ(texts("CREATE TABLE \"a;b\"\"c\" (id int);"), (V{"CREATE TABLE \"a;b\"\"c\" (id int)"}));
  EXPECT_EQ(texts("SELECT 1 -- a; comment\n;"), (V{"SELECT 1"}));
  EXPECT_EQ(texts("SELECT /* a; /* nested; */ still; */ 1;"), (V{"SELECT /* a; /* nested; */ still; */ 1"}));
  EXPECT_EQ(texts("SELECT 1 - -1; SELECT 4/2;"), (V{"SELECT 1 - -1", "SELECT 4/2"}));
}

TEST(SplitStatements, DollarQuotesHideSemicolons) {
  const std::string fn =
      "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$";
  EXPECT_EQ(texts(fn + "; SELECT f();"), (V{fn, "SELECT f()"}));
  const std::string tagged = "DO $body$ BEGIN PERFORM '$$;'; END $body$";
  EXPECT_EQ(texts(tagged + ";SELECT 1"), (V{tagged, "SELECT 1"}));
  EXPECT_EQ(texts("PREPARE p AS SELECT $1; EXECUTE p(1);"), (V{"PREPARE p AS SELECT $1", "EXECUTE p(1)"}));
  EXPECT_EQ(texts("SELECT 1 AS a$b; SELECT 2"), (V{"SELECT 1 AS a$b", "SELECT 2"})) << "$ inside an identifier";
}

TEST(SplitStatements, CommentsAndBlanksAloneAreNoStatements) {
  EXPECT_EQ(texts(""), V{});
  EXPECT_EQ(texts("-- servicedb:transaction=false\n-- nothing here\n;;\n/* x */"), V{});
  EXPECT_EQ(texts("-- servicedb:transaction=false\nCREATE INDEX CONCURRENTLY i ON t (id);\n-- trailing"),
            (V{"CREATE INDEX CONCURRENTLY i ON t (id)"}));
}

TEST(SplitStatements, KeepsOffsetsAndLines) {
  const std::string sql = "-- header\nSELECT 1;\n\n  SELECT\n 2;";
  auto s = splitStatements(sql);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[0].line, 2);
  EXPECT_EQ(sql.substr((*s)[0].offset, 8), "SELECT 1");
  EXPECT_EQ((*s)[1].line, 4);
  EXPECT_EQ((*s)[1].sql, "SELECT\n 2");
  EXPECT_EQ(sql.substr((*s)[1].offset, 6), "SELECT");
}

TEST(SplitStatements, UnterminatedTokensAreErrorsNamingTheLine) {
  struct Case {
    std::string sql, what;
  };
  for (const auto& c : std::vector<Case>{{"SELECT 1;\nSELECT 'x;", "line 2: unterminated quoted string"},
                                         {"SELECT \"x;", "line 1: unterminated quoted identifier"},
                                         {"\n\nDO $f$ BEGIN END $g$;", "line 3: unterminated dollar-quoted string $f$"},
                                         {"SELECT 1; /* /* */", "line 1: unterminated /* comment"},
                                         {"SELECT E'\\';", "line 1: unterminated quoted string"}}) {
    auto s = splitStatements(c.sql);
    ASSERT_FALSE(s.ok()) << c.sql;
    EXPECT_NE(s.error().message.find(c.what), std::string::npos) << s.error().message;
  }
}

TEST(SplitStatements, RefusesBeginAtomicBodies) {
  auto s = splitStatements("SELECT 1;\nCREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("line 2: BEGIN ATOMIC"), std::string::npos) << s.error().message;
  EXPECT_TRUE(splitStatements("BEGIN; SELECT 'atomic'; COMMIT;").ok());
}

TEST(Locate, MapsACharacterPositionToLineAndColumn) {
  const std::string file = "-- é header\nCREATE TABLE é (\n  x nope\n);";
  // Position of "nope", counted in characters from the start of the file.
  const size_t byte = file.find("nope");
  int chars = 0;
  for (size_t k = 0; k < byte; ++k)
    if ((static_cast<unsigned char>(file[k]) & 0xC0) != 0x80) ++chars;
  TextPosition p = locate(file, 0, file, chars + 1);
  EXPECT_EQ(p.line, 3);
  EXPECT_EQ(p.column, 5);
  // Within a statement that starts later in the file.
  const size_t stmt = file.find("CREATE");
  TextPosition q = locate(file, stmt, std::string_view(file).substr(stmt), 1);
  EXPECT_EQ(q.line, 2);
  EXPECT_EQ(q.column, 1);
  TextPosition end = locate(file, 0, file, 100000);
  EXPECT_EQ(end.line, 4);
}

}  // namespace
}  // namespace sdb::migrate
