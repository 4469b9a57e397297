#include "operator/migrate/sql_text.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace sdb::migrate {
namespace {

bool isIdentStart(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool isIdentChar(unsigned char c) { return isIdentStart(c) || std::isdigit(c) || c == '$'; }

class Splitter {
 public:
  explicit Splitter(std::string_view text) : t_(text) {}

  Result<std::vector<Statement>> run() {
    while (i_ < t_.size()) {
      const char c = t_[i_];
      if (c == '-' && peek(1) == '-') {
        skipLineComment();
        continue;
      }
      if (c == '/' && peek(1) == '*') {
        SDB_TRY(skipBlockComment());
        continue;
      }
      if (c == ';') {
        finish();
        ++i_;
        continue;
      }
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i_;
        continue;
      }
      markStart();
      if (c == '\'') {
        SDB_TRY(skipString(escapeStringPrefix()));
      } else if (c == '"') {
        SDB_TRY(skipQuotedIdentifier());
      } else if (c == '$' && !afterIdentChar()) {
        SDB_TRY(skipDollar());
      } else if (isIdentStart(static_cast<unsigned char>(c))) {
        SDB_TRY(word());
      } else {
        previousWord_.clear();
        ++i_;
      }
    }
    finish();
    return std::move(out_);
  }

 private:
  char peek(size_t ahead) const { return i_ + ahead < t_.size() ? t_[i_ + ahead] : '\0'; }
  bool afterIdentChar() const { return i_ > 0 && isIdentChar(static_cast<unsigned char>(t_[i_ - 1])); }
  int lineAt(size_t offset) const { return 1 + static_cast<int>(std::count(t_.begin(), t_.begin() + offset, '\n')); }
  Error unterminated(const std::string& what, size_t from) const {
    return invalidArgument("line " + std::to_string(lineAt(from)) + ": unterminated " + what);
  }

  void markStart() {
    if (!start_) start_ = i_;
    end_ = i_ + 1;
  }
  void finish() {
    if (start_) {
      size_t s = *start_;
      lineCount_ += static_cast<int>(std::count(t_.begin() + lastLineOffset_, t_.begin() + s, '\n'));
      lastLineOffset_ = s;
      out_.push_back(Statement{std::string(t_.substr(s, end_ - s)), s, lineCount_});
    }
    start_.reset();
    previousWord_.clear();
  }

  void skipLineComment() {
    while (i_ < t_.size() && t_[i_] != '\n') ++i_;
  }
  Status skipBlockComment() {
    size_t from = i_;
    int depth = 0;
    while (i_ < t_.size()) {
      if (t_[i_] == '/' && peek(1) == '*') {
        ++depth;
        i_ += 2;
      } else if (t_[i_] == '*' && peek(1) == '/') {
        i_ += 2;
        if (--depth == 0) return okStatus();
      } else {
        ++i_;
      }
    }
    return unterminated("/* comment", from);
  }
  // E'...' (or e'...'), where E is a token of its own rather than the end of a word like "name'".
  bool escapeStringPrefix() const {
    if (i_ == 0 || (t_[i_ - 1] != 'E' && t_[i_ - 1] != 'e')) return false;
    return i_ < 2 || !isIdentChar(static_cast<unsigned char>(t_[i_ - 2]));
  }
  Status skipString(bool backslashEscapes) {
    size_t from = i_++;
    while (i_ < t_.size()) {
      char c = t_[i_];
      if (backslashEscapes && c == '\\') {
        i_ += 2;
      } else if (c == '\'' && peek(1) == '\'') {
        i_ += 2;
      } else if (c == '\'') {
        end_ = ++i_;
        previousWord_.clear();
        return okStatus();
      } else {
        ++i_;
      }
    }
    return unterminated("quoted string", from);
  }
  Status skipQuotedIdentifier() {
    size_t from = i_++;
    while (i_ < t_.size()) {
      if (t_[i_] == '"' && peek(1) == '"') {
        i_ += 2;
      } else if (t_[i_] == '"') {
        end_ = ++i_;
        previousWord_.clear();
        return okStatus();
      } else {
        ++i_;
      }
    }
    return unterminated("quoted identifier", from);
  }
  // $tag$ ... $tag$ (tag possibly empty); a `$` that opens none ($1 parameters) is one character.
  Status skipDollar() {
    size_t j = i_ + 1;
    if (j < t_.size() && isIdentStart(static_cast<unsigned char>(t_[j]))) {
      while (j < t_.size() && isIdentChar(static_cast<unsigned char>(t_[j])) && t_[j] != '$') ++j;
    }
    previousWord_.clear();
    if (j >= t_.size() || t_[j] != '$') {
      end_ = ++i_;
      return okStatus();
    }
    std::string_view tag = t_.substr(i_, j - i_ + 1);
    size_t close = t_.find(tag, j + 1);
    if (close == std::string_view::npos) return unterminated("dollar-quoted string " + std::string(tag), i_);
    i_ = close + tag.size();
    end_ = i_;
    return okStatus();
  }
  Status word() {
    size_t from = i_;
    while (i_ < t_.size() && isIdentChar(static_cast<unsigned char>(t_[i_]))) ++i_;
    end_ = i_;
    std::string w(t_.substr(from, i_ - from));
    std::transform(w.begin(), w.end(), w.begin(), [](unsigned char c) { return std::toupper(c); });
    if (previousWord_ == "BEGIN" && w == "ATOMIC")
      return invalidArgument("line " + std::to_string(lineAt(from)) +
                             ": BEGIN ATOMIC function bodies cannot be split into statements; put the function "
                             "in a transactional file");
    previousWord_ = std::move(w);
    return okStatus();
  }

  std::string_view t_;
  size_t i_ = 0;
  std::optional<size_t> start_;
  size_t end_ = 0;
  size_t lastLineOffset_ = 0;
  int lineCount_ = 1;
  std::string previousWord_;
  std::vector<Statement> out_;
};

}  // namespace

Result<std::vector<Statement>> splitStatements(std::string_view sql) { return Splitter(sql).run(); }

TextPosition locate(std::string_view file, size_t baseOffset, std::string_view text, int charPosition) {
  size_t byte = 0;
  for (int seen = 1; seen < charPosition && byte < text.size();) {
    ++byte;
    while (byte < text.size() && (static_cast<unsigned char>(text[byte]) & 0xC0) == 0x80) ++byte;  // continuation
    ++seen;
  }
  size_t at = std::min(baseOffset + byte, file.size());
  TextPosition p;
  size_t lineStart = 0;
  for (size_t k = 0; k < at; ++k) {
    if (file[k] == '\n') {
      ++p.line;
      lineStart = k + 1;
    }
  }
  for (size_t k = lineStart; k < at; ++k)
    if ((static_cast<unsigned char>(file[k]) & 0xC0) != 0x80) ++p.column;
  return p;
}

}  // namespace sdb::migrate
