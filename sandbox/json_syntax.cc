#include "sandbox/json_syntax.h"

#include <cctype>
#include <utility>

namespace jobtape::sandbox {

namespace {

std::pair<size_t, size_t> lineAndColumn(std::string_view text, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xC0) != 0x80) {  // not a UTF-8 continuation byte
      ++column;
    }
  }
  return {line, column};
}

struct Failure {
  size_t offset;
  std::string expected;
};

// Recursive descent over the text; the first failure ends it.
class SyntaxCheck {
 public:
  explicit SyntaxCheck(std::string_view text) : text_(text) {}

  std::optional<Failure> run() {
    skipSpace();
    if (at_ == text_.size()) return Failure{at_, "expected a JSON object, found nothing"};
    if (!value(0)) return failure_;
    skipSpace();
    if (at_ != text_.size()) return Failure{at_, "unexpected text after the end of the JSON value"};
    return std::nullopt;
  }

 private:
  bool fail(std::string expected) {
    failure_ = Failure{at_, std::move(expected)};
    return false;
  }
  bool more() const { return at_ < text_.size(); }
  char peek() const { return more() ? text_[at_] : '\0'; }
  void skipSpace() {
    while (more() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++at_;
  }

  bool value(size_t depth) {
    if (depth >= kMaxJsonDepth) return fail("nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    skipSpace();
    char c = peek();
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') return string();
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    for (std::string_view word : {"true", "false", "null"}) {
      if (text_.substr(at_, word.size()) == word) {
        at_ += word.size();
        return true;
      }
    }
    return fail(more() ? "expected a value (a string in double quotes, a number, true, false, null, [ or {)"
                       : "unexpected end of file: expected a value");
  }

  bool object(size_t depth) {
    ++at_;  // {
    skipSpace();
    if (peek() == '}') return ++at_, true;
    while (true) {
      skipSpace();
      if (peek() != '"') return fail(more() ? "expected a field name in double quotes" : "unexpected end of file: expected '}'");
      if (!string()) return false;
      skipSpace();
      if (peek() != ':') return fail("expected ':' after the field name");
      ++at_;
      if (!value(depth + 1)) return false;
      skipSpace();
      if (peek() == ',') {
        ++at_;
        skipSpace();
        if (peek() == '}') return fail("expected a field name after ',' (no trailing comma in JSON)");
        continue;
      }
      if (peek() == '}') return ++at_, true;
      return fail(more() ? "expected ',' or '}'" : "unexpected end of file: expected ',' or '}'");
    }
  }

  bool array(size_t depth) {
    ++at_;  // [
    skipSpace();
    if (peek() == ']') return ++at_, true;
    while (true) {
      if (!value(depth + 1)) return false;
      skipSpace();
      if (peek() == ',') {
        ++at_;
        skipSpace();
        if (peek() == ']') return fail("expected a value after ',' (no trailing comma in JSON)");
        continue;
      }
      if (peek() == ']') return ++at_, true;
      return fail(more() ? "expected ',' or ']'" : "unexpected end of file: expected ',' or ']'");
    }
  }

  static bool isHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

  bool string() {
    size_t start = at_++;  // "
    while (more()) {
      char c = text_[at_];
      if (c == '"') return ++at_, true;
      if (c == '\0') return fail("NUL byte in a string");
      if (c == '\n') return fail("line break in a string (write it as \\n)");
      if (c != '\\') {
        ++at_;
        continue;
      }
      char escape = at_ + 1 < text_.size() ? text_[at_ + 1] : '\0';
      if (escape == 'u') {
        for (size_t i = 2; i < 6; ++i) {
          if (at_ + i >= text_.size() || !isHex(text_[at_ + i])) return fail("bad \\u escape: expected 4 hex digits");
        }
        at_ += 6;
      } else if (std::string_view("\"\\/bfnrt").find(escape) != std::string_view::npos && escape != '\0') {
        at_ += 2;
      } else {
        return fail("bad escape in a string (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
      }
    }
    at_ = start;
    return fail("unterminated string");
  }

  bool digits() {
    size_t start = at_;
    while (more() && peek() >= '0' && peek() <= '9') ++at_;
    return at_ > start;
  }

  bool number() {
    if (peek() == '-') ++at_;
    if (peek() == '0') {
      ++at_;
    } else if (!digits()) {
      return fail("expected a digit");
    }
    if (peek() == '.') {
      ++at_;
      if (!digits()) return fail("expected a digit after '.'");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++at_;
      if (peek() == '+' || peek() == '-') ++at_;
      if (!digits()) return fail("expected a digit in the exponent");
    }
    if (more() && ((peek() >= '0' && peek() <= '9') || std::isalpha(static_cast<unsigned char>(peek())))) {
      return fail("not a number (JSON numbers have no leading zeros, hex or suffixes)");
    }
    return true;
  }

  std::string_view text_;
  size_t at_ = 0;
  std::optional<Failure> failure_;
};

}  // namespace

std::string JsonSyntaxError::message() const {
  return std::to_string(line) + ":" + std::to_string(column) + ": " + expected;
}

std::optional<JsonSyntaxError> findJsonSyntaxError(std::string_view text) {
  std::optional<Failure> failure = SyntaxCheck(text).run();
  if (!failure) return std::nullopt;
  auto [line, column] = lineAndColumn(text, failure->offset);
  return JsonSyntaxError{line, column, std::move(failure->expected)};
}

std::string jsonPosition(std::string_view text, size_t offset) {
  auto [line, column] = lineAndColumn(text, offset);
  return std::to_string(line) + ":" + std::to_string(column);
}

}  // namespace jobtape::sandbox
