#include "sandbox/json_syntax.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace jobtape::sandbox {
namespace {

std::string errorOf(std::string_view text) {
  auto error = findJsonSyntaxError(text);
  return error ? error->message() : "";
}

TEST(JsonSyntaxTest, AcceptsJson) {
  EXPECT_EQ(errorOf(R"({"a": [1, -2.5e3, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9"], "b": {}})"), "");
  EXPECT_EQ(errorOf(" {\n}\n"), "");
  EXPECT_EQ(errorOf("[]"), "");
}

TEST(JsonSyntaxTest, SaysLineColumnAndWhatWasExpected) {
  EXPECT_EQ(errorOf("{\n  \"command\": \"cc\",\n  \"args\": [\"-c\"]\n  \"workDir\": \"/src\"\n}"),
            "4:3: expected ',' or '}'");
  EXPECT_EQ(errorOf("{\"args\": [1 2]}"), "1:13: expected ',' or ']'");
  EXPECT_EQ(errorOf("{\"a\" 1}"), "1:6: expected ':' after the field name");
  EXPECT_EQ(errorOf("{command: 1}"), "1:2: expected a field name in double quotes");
  EXPECT_EQ(errorOf("{\"a\": }"), "1:7: expected a value (a string in double quotes, a number, true, false, null, [ or {)");
  EXPECT_EQ(errorOf("{\"a\": [1,]}"), "1:10: expected a value after ',' (no trailing comma in JSON)");
  EXPECT_EQ(errorOf("{\"a\": 01}"), "1:8: not a number (JSON numbers have no leading zeros, hex or suffixes)");
  EXPECT_EQ(errorOf("{\"a\": \"x\\q\"}"), "1:9: bad escape in a string (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
  EXPECT_EQ(errorOf("{\"a\": \"\\u12\"}"), "1:8: bad \\u escape: expected 4 hex digits");
  EXPECT_EQ(errorOf("{}}"), "1:3: unexpected text after the end of the JSON value");
  EXPECT_EQ(errorOf(""), "1:1: expected a JSON object, found nothing");
}

TEST(JsonSyntaxTest, UnterminatedStringsPointAtTheirStart) {
  EXPECT_EQ(errorOf("{\"a\": \"abc"), "1:7: unterminated string");
  EXPECT_EQ(errorOf("{\"a\": \"abc\n\"}"), "1:11: line break in a string (write it as \\n)");
}

TEST(JsonSyntaxTest, EndOfFileIsSaid) {
  EXPECT_EQ(errorOf("{\"a\": 1"), "1:8: unexpected end of file: expected ',' or '}'");
  EXPECT_EQ(errorOf("{\"a\": ["), "1:8: unexpected end of file: expected a value");
}

TEST(JsonSyntaxTest, ColumnsCountCharactersNotBytes) {
  EXPECT_EQ(errorOf("{\"\xc3\xa9\xc3\xa9\": 1 2}"), "1:10: expected ',' or '}'");
}

TEST(JsonSyntaxTest, RefusesNestingDeeperThanTheCodecReads) {
  std::string deep(kMaxJsonDepth + 1, '[');
  deep += std::string(kMaxJsonDepth + 1, ']');
  EXPECT_THAT(errorOf(deep), ::testing::HasSubstr("nested deeper than 64 levels"));
  std::string fine(kMaxJsonDepth - 1, '[');
  fine += std::string(kMaxJsonDepth - 1, ']');
  EXPECT_EQ(errorOf(fine), "");
}

}  // namespace
}  // namespace jobtape::sandbox
