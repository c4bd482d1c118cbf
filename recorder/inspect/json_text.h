// Writing JSON text for people's tools (job logs --format json/cast, the
// --json listings). Recorded output is arbitrary bytes while JSON strings are
// Unicode, so this file also decides how bytes become strings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jobtape::recorder {

// True when `bytes` is entirely valid UTF-8 (no overlongs, no surrogates).
bool isValidUtf8(std::string_view bytes);

// Length of the longest suffix of `bytes` that is the incomplete start of a
// UTF-8 sequence (0..3): what a chunked reader should hold back for the next
// chunk so a character split across two output chunks is not mangled.
size_t incompleteUtf8Suffix(std::string_view bytes);

// Appends `bytes` as a quoted JSON string. Invalid UTF-8 bytes become U+FFFD
// (JSON cannot carry them); callers that must be lossless add base64 too.
void appendJsonString(std::string& out, std::string_view bytes);

std::string base64Encode(std::string_view bytes);

// ISO 8601 UTC with milliseconds: "2026-11-22T14:03:07.123Z".
std::string isoTimestampMs(int64_t unixMs);

// Streams one JSON value with commas and (optionally) two-space indentation
// handled. Misuse (a value where a key is due) is a programming error and
// asserts in debug builds.
class JsonWriter {
 public:
  explicit JsonWriter(bool pretty = false) : pretty_(pretty) {}

  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
  JsonWriter& value(int64_t number);
  JsonWriter& value(uint64_t number);
  JsonWriter& value(int number) { return value(static_cast<int64_t>(number)); }
  JsonWriter& value(unsigned number) { return value(static_cast<uint64_t>(number)); }
  JsonWriter& value(double number);
  JsonWriter& value(bool flag);
  JsonWriter& null();
  // Already-encoded JSON (e.g. a recipe's JSON form), inserted as is.
  JsonWriter& raw(std::string_view json);

  template <typename T>
  JsonWriter& optional(const std::optional<T>& maybe) {
    return maybe ? value(*maybe) : null();
  }
  template <typename T>
  JsonWriter& field(std::string_view name, const T& v) {
    key(name);
    if constexpr (requires { v.has_value(); }) return optional(v);
    else return value(v);
  }

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void beforeValue();
  void newline();

  struct Level {
    bool object;
    size_t count;
  };
  std::string out_;
  std::vector<Level> levels_;
  bool pretty_;
  bool afterKey_ = false;
};

}  // namespace jobtape::recorder
