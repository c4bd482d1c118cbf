// Where JSON text stops being JSON, said as a person reads a file: line and
// column (1-based, columns in characters) and what was expected there.
// Cap'n Proto's parser says "expected !exhausted()" and no position, so
// recipe files are checked here before it sees them.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace jobtape::sandbox {

struct JsonSyntaxError {
  size_t line = 1;
  size_t column = 1;
  std::string expected;  // "expected ',' or '}'", "unterminated string", ...
  // "3:14: expected ',' or '}'": prefixed with a file name it reads as a compiler's.
  std::string message() const;
};

// The deepest nesting accepted (that of Cap'n Proto's JSON codec).
inline constexpr size_t kMaxJsonDepth = 64;

// The first syntax error of `text` (RFC 8259; control bytes inside strings
// are let through, as the codec takes them), or nullopt.
std::optional<JsonSyntaxError> findJsonSyntaxError(std::string_view text);

// "3:14" for the byte at `offset`.
std::string jsonPosition(std::string_view text, size_t offset);

}  // namespace jobtape::sandbox
