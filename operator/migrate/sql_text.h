// SQL text helpers for migration files: splitting a non-transactional file into statements, and
// turning a server error position into a line and column of the file.
//
// Contract: pure functions, thread-safe. The splitter follows PostgreSQL's lexical rules for what
// can hide a `;`: '...' strings ('' escapes), E'...' strings (backslash escapes), "..." identifiers,
// $tag$...$tag$ bodies, -- comments and nested /* */ comments. It does not handle SQL-standard
// function bodies (BEGIN ATOMIC ... END), whose inner `;` it cannot tell apart: it refuses them,
// naming the line (put such a function in a transactional file, which is sent whole). Text that
// holds only whitespace and comments is no statement.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "operator/core/result.h"

namespace sdb::migrate {

struct Statement {
  std::string sql;    // from the first token up to (without) the terminating ';'
  size_t offset = 0;  // byte offset of sql's first byte in the file
  int line = 1;       // 1-based line of that byte
};

// Splits `sql` into statements; an error names the line where an unterminated string, identifier,
// dollar quote or comment starts.
Result<std::vector<Statement>> splitStatements(std::string_view sql);

struct TextPosition {
  int line = 1;    // 1-based
  int column = 1;  // 1-based, in characters
};

// Where the server's error position points: `charPosition` is 1-based and counts characters
// (UTF-8 code points), as PG_DIAG_STATEMENT_POSITION does, within `text` which starts at
// `baseOffset` bytes into `file`. Positions past the end clamp to the end.
TextPosition locate(std::string_view file, size_t baseOffset, std::string_view text, int charPosition);

}  // namespace sdb::migrate
