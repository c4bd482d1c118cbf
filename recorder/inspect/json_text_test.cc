#include "recorder/inspect/json_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "recorder/inspect/json_testing.h"

namespace jobtape::recorder {
namespace {

using jobtape::testing::ParsedJson;
using jobtape::testing::parsesAsJson;
using jobtape::testing::stringMember;

std::string jsonQuoted(std::string_view bytes) {
  std::string out;
  appendJsonString(out, bytes);
  return out;
}

TEST(Utf8, ValidAndInvalidSequences) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("plain ascii\n"));
  EXPECT_TRUE(isValidUtf8("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(isValidUtf8("\xFF"));
  EXPECT_FALSE(isValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(isValidUtf8("\xE2\x82"));          // cut short
}

TEST(Utf8, IncompleteSuffixIsHeldBackOnlyWhenItCanStillComplete) {
  EXPECT_EQ(incompleteUtf8Suffix("abc"), 0u);
  EXPECT_EQ(incompleteUtf8Suffix("ab\xE2"), 1u);
  EXPECT_EQ(incompleteUtf8Suffix("ab\xE2\x82"), 2u);
  EXPECT_EQ(incompleteUtf8Suffix("ab\xE2\x82\xAC"), 0u);  // complete
  EXPECT_EQ(incompleteUtf8Suffix("\xF0\x9F\x98"), 3u);
  EXPECT_EQ(incompleteUtf8Suffix("a\xFF"), 0u);  // never valid: nothing to wait for
  EXPECT_EQ(incompleteUtf8Suffix("\x82\x82"), 0u);
}

TEST(JsonString, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(jsonQuoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(jsonQuoted("line\n\ttab\r"), R"("line\n\ttab\r")");
  EXPECT_EQ(jsonQuoted(std::string_view("\x1b[31m\x01\x7f", 7)), R"("\u001B[31m\u0001\u007F")");
}

TEST(JsonString, InvalidBytesBecomeReplacementCharactersAndStayValidJson) {
  std::string text = jsonQuoted("ok\xFF\xFE" "end");
  EXPECT_EQ(text, "\"ok\xEF\xBF\xBD\xEF\xBF\xBD" "end\"");
  EXPECT_TRUE(isValidUtf8(text));
  EXPECT_TRUE(parsesAsJson(text));
}

TEST(JsonString, ValidUnicodePassesThroughAndRoundTrips) {
  // Cap'n Proto 0.9's parser misreads hex letters in \u escapes (\u001B
  // comes back as 0x11), so the control characters here use digits only.
  std::string original = "caf\xC3\xA9 \xF0\x9F\x98\x80 \"q\" \\ \x01\x10";
  ParsedJson parsed("{\"s\":" + jsonQuoted(original) + "}");
  EXPECT_EQ(stringMember(parsed.root(), "s"), original);
}

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64Encode(std::string_view("\xFF\x00\xFE", 3)), "/wD+");
}

TEST(IsoTimestamp, UtcWithMilliseconds) {
  EXPECT_EQ(isoTimestampMs(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(isoTimestampMs(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(isoTimestampMs(-1), "1969-12-31T23:59:59.999Z");
}

TEST(JsonWriter, CompactNestedValues) {
  JsonWriter json;
  json.beginObject()
      .field("s", "x")
      .field("i", int64_t{-3})
      .field("u", uint64_t{18446744073709551615u})
      .field("b", true)
      .field("none", std::optional<int>{})
      .field("some", std::optional<int>{4});
  json.key("list").beginArray().value(1).value("two").beginObject().endObject().beginArray().endArray().endArray();
  json.key("raw").raw(R"({"k":[1,2]})");
  json.endObject();
  EXPECT_EQ(json.text(),
            R"({"s":"x","i":-3,"u":18446744073709551615,"b":true,"none":null,"some":4,)"
            R"("list":[1,"two",{},[]],"raw":{"k":[1,2]}})");
  EXPECT_TRUE(parsesAsJson(json.text()));
}

TEST(JsonWriter, PrettyOutputIsIndentedAndParses) {
  JsonWriter json(true);
  json.beginArray().beginObject().field("a", 1).field("b", 2.5).endObject().endArray();
  EXPECT_EQ(json.text(), "[\n  {\n    \"a\": 1,\n    \"b\": 2.500000\n  }\n]");
  EXPECT_TRUE(parsesAsJson(json.text()));
}

TEST(JsonWriter, NonFiniteNumbersBecomeNull) {
  JsonWriter json;
  json.beginArray().value(std::numeric_limits<double>::quiet_NaN()).endArray();
  EXPECT_EQ(json.text(), "[null]");
}

}  // namespace
}  // namespace jobtape::recorder
