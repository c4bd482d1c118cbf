#include "sandbox/recipe.h"

#include <functional>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace jobtape::sandbox {
namespace {

using ::testing::HasSubstr;

Recipe fullRecipe() {
  Recipe r;
  r.command = "/usr/bin/make";
  r.args = {"-j2", "all", "with space", "quote\" and back\\slash", "slash/es", "back\\/slash", "tab\tnew\nline",
            "esc\x1b[0m", "caf\xc3\xa9", "emoji \xf0\x9f\x98\x80", "invalid utf-8 \xff\xfe", ""};
  r.env = {{"PATH", "/usr/bin:/bin"}, {"LANG", "C.UTF-8"}, {"EMPTY", ""}, {"WEIRD", "a=b=c\x01"}};
  r.workDir = "/work/project";
  r.mounts = {{Mount::Kind::roBind, "/", "/"},
              {Mount::Kind::bind, "/home/me/project", "/work/project"},
              {Mount::Kind::tmpfs, "", "/tmp"},
              {Mount::Kind::roBind, "/usr/share/zoneinfo", ""}};
  r.network = true;
  r.hostname = "builder";
  r.limits = {60000, 1ull << 30, 1024, 512, 600, 1ull << 40, 5000};
  r.uid = 1000;
  r.gid = 100;
  r.name = "compile foo.c";
  r.meta = {{"target", "//foo:bar"}, {"attempt", "2"}};
  r.sandboxed = false;
  return r;
}

TEST(RecipeJsonTest, RoundTripsEveryField) {
  Recipe original = fullRecipe();
  std::string json = recipeToJson(original);
  EXPECT_EQ(recipeFromJson(json), original) << json;
}

// Whatever bytes a caller's strings hold (quotes, backslashes, control
// characters, UTF-8, bytes that are no UTF-8) read back as they were.
TEST(RecipeJsonTest, RoundTripsEveryByteAStringMayHold) {
  Recipe original = fullRecipe();
  std::string every;
  for (int c = 1; c < 256; ++c) every += static_cast<char>(c);
  original.args = {every, "\"quoted\" \\ back\\slash", "tab\there\nnewline", "π /usr/bin", ""};
  original.env.push_back({"ODD", every});
  original.meta.push_back({"k\"", "v\\"});
  original.secretEnv = {"ODD"};
  original.hostname = "h\x01";
  std::string json = recipeToJson(original);
  EXPECT_EQ(recipeFromJson(json), original) << json;
  EXPECT_EQ(recipeToJson(recipeFromJson(json)), json);
  EXPECT_THAT(json, HasSubstr("\"π /usr/bin\"")) << "paths and text as they are, no \\/";
}

TEST(RecipeJsonTest, RoundTripsAMinimalRecipe) {
  Recipe original;
  original.command = "true";
  Recipe back = recipeFromJson(recipeToJson(original));
  EXPECT_EQ(back, original);
  EXPECT_EQ(back.uid, -1);
  EXPECT_TRUE(back.sandboxed);
}

TEST(RecipeJsonTest, WritesReadablePathsAnd64BitIntegersAsStrings) {
  std::string json = recipeToJson(fullRecipe());
  EXPECT_THAT(json, HasSubstr("\"workDir\": \"/work/project\""));
  EXPECT_THAT(json, HasSubstr("\"timeoutMs\": \"60000\""));
  EXPECT_THAT(json, HasSubstr("\"kind\": \"roBind\""));
}

TEST(RecipeJsonTest, ReadsAHandWrittenFileWithDefaults) {
  Recipe r = recipeFromJson(R"({
    "command": "cc",
    "args": ["-c", "foo.c"],
    "workDir": "/src",
    "mounts": [{"kind": "roBind", "source": "/usr"}, {"kind": "tmpfs", "destination": "/tmp"}],
    "limits": {"timeoutMs": 1500, "memoryBytes": "9007199254740993"},
    "uid": 0
  })");
  EXPECT_EQ(r.command, "cc");
  EXPECT_EQ(r.args, (std::vector<std::string>{"-c", "foo.c"}));
  EXPECT_EQ(r.limits.timeoutMs, 1500u);
  EXPECT_EQ(r.limits.memoryBytes, 9007199254740993ull);  // exact through a string
  EXPECT_EQ(r.uid, 0);
  EXPECT_EQ(r.gid, -1);
  EXPECT_FALSE(r.network);
  EXPECT_TRUE(r.sandboxed);
  ASSERT_EQ(r.mounts.size(), 2u);
  EXPECT_EQ(r.mounts[0].kind, Mount::Kind::roBind);
  EXPECT_EQ(r.mounts[1].kind, Mount::Kind::tmpfs);
}

TEST(RecipeJsonTest, DecodesUnicodeEscapes) {
  Recipe r = recipeFromJson(
      R"({"command": "x", "args": ["\u00e9", "\u001b[1m", "\ud83d\ude00", "\u0022\u005c\u002F", "\u0041\u00DF"]})");
  EXPECT_EQ(r.args, (std::vector<std::string>{"\xc3\xa9", "\x1b[1m", "\xf0\x9f\x98\x80", "\"\\/", "A\xc3\x9f"}));
}

struct Invalid {
  const char* json;
  const char* field;
  const char* message;
};

class RecipeRefusalTest : public ::testing::TestWithParam<Invalid> {};

TEST_P(RecipeRefusalTest, NamesTheField) {
  const Invalid& c = GetParam();
  try {
    recipeFromJson(c.json);
    FAIL() << "accepted " << c.json;
  } catch (const RecipeError& e) {
    EXPECT_EQ(e.field(), c.field) << e.what();
    EXPECT_THAT(e.what(), HasSubstr(c.message));
    if (*c.field) {
      EXPECT_THAT(e.what(), ::testing::StartsWith(std::string("recipe field \"") + c.field + "\": "));
    }
  }
}

const Invalid kInvalid[] = {
    // Not a recipe at all.
    {"", "", "1:1: expected a JSON object, found nothing"},
    {"{", "", "1:2: unexpected end of file: expected '}'"},
    {R"({"command": "x",})", "", "1:17: expected a field name after ','"},
    {R"({"command": "x"} trailing)", "", "1:18: unexpected text after the end"},
    {"[]", "", "must be a JSON object"},
    {R"({"command": "\ud800"})", "", "lone surrogate"},
    {R"({"command": "\u12"})", "", "\\u escape"},
    // Required.
    {"{}", "command", "is required"},
    {R"({"command": ""})", "command", "is required"},
    // Unknown fields, at every depth.
    {R"({"command": "x", "comand": "y"})", "comand", "unknown field (known: command, args,"},
    {R"({"command": "x", "limits": {"timeout": 5}})", "limits.timeout", "unknown field"},
    {R"({"command": "x", "mounts": [{"kind": "tmpfs", "destination": "/t", "src": "/"}]})", "mounts[0].src",
     "unknown field"},
    {R"({"command": "x", "env": [{"name": "A", "value": "b", "export": true}]})", "env[0].export", "unknown field"},
    {R"({"command": "a", "command": "b"})", "command", "given twice"},
    // Wrong types.
    {R"({"command": 5})", "command", "must be a string"},
    {R"({"command": null})", "command", "must be a string"},
    {R"({"command": "x", "args": "-v"})", "args", "must be an array"},
    {R"({"command": "x", "args": ["-v", 3]})", "args[1]", "must be a string"},
    {R"({"command": "x", "network": "yes"})", "network", "must be true or false"},
    {R"({"command": "x", "limits": 5})", "limits", "must be an object"},
    {R"({"command": "x", "env": ["A=B"]})", "env[0]", "must be an object"},
    {R"({"command": "x", "mounts": [{"kind": "rw", "source": "/"}]})", "mounts[0].kind",
     R"(must be one of "bind", "roBind", "tmpfs")"},
    {R"({"command": "x", "mounts": [{"kind": 1, "source": "/"}]})", "mounts[0].kind", "must be one of"},
    // Integers.
    {R"({"command": "x", "limits": {"timeoutMs": -5}})", "limits.timeoutMs", "must be a non-negative integer"},
    {R"({"command": "x", "limits": {"timeoutMs": "-5"}})", "limits.timeoutMs", "must be a non-negative integer"},
    {R"({"command": "x", "limits": {"timeoutMs": 1.5}})", "limits.timeoutMs", "must be a non-negative integer"},
    {R"({"command": "x", "limits": {"timeoutMs": "12x"}})", "limits.timeoutMs", "must be a non-negative integer"},
    {R"({"command": "x", "limits": {"timeoutMs": "+12"}})", "limits.timeoutMs", "must be a non-negative integer"},
    {R"({"command": "x", "limits": {"memoryBytes": "18446744073709551616"}})", "limits.memoryBytes",
     "must be a non-negative integer"},
    {R"({"command": "x", "limits": {"memoryBytes": 18446744073709551616}})", "limits.memoryBytes",
     "must be a non-negative integer"},
    {R"({"command": "x", "limits": {"cpuSeconds": true}})", "limits.cpuSeconds", "must be a non-negative integer"},
    {R"({"command": "x", "uid": "abc"})", "uid", "must be an integer"},
    {R"({"command": "x", "uid": 4.5})", "uid", "must be an integer"},
    // Paths.
    {R"({"command": "x", "workDir": "src"})", "workDir", "must be an absolute path"},
    {R"({"command": "x", "workDir": "/src/../etc"})", "workDir", "must not contain \"..\""},
    {R"({"command": "x", "workDir": "/src\u0000/x"})", "workDir", "NUL"},
    {R"({"command": "x\u0000y"})", "command", "NUL"},
    {R"({"command": "x", "args": ["a\u0000"]})", "args[0]", "NUL"},
    {R"({"command": "x", "mounts": [{"kind": "bind"}]})", "mounts[0].source", "must not be empty"},
    {R"({"command": "x", "mounts": [{"source": "/"}]})", "mounts[0].kind", "is required"},
    {R"({"command": "x", "mounts": [{"kind": "bind", "source": "home"}]})", "mounts[0].source",
     "must be an absolute path"},
    {R"({"command": "x", "mounts": [{"kind": "roBind", "source": "/a/../../etc", "destination": "/e"}]})",
     "mounts[0].source", "\"..\""},
    {R"({"command": "x", "mounts": [{"kind": "roBind", "source": "/a", "destination": "/b/.."}]})",
     "mounts[0].destination", "\"..\""},
    {R"({"command": "x", "mounts": [{"kind": "roBind", "source": "/a", "destination": "/b//c/./d/"}]})",
     "mounts[0].destination", "write \"/b/c/d\""},
    {R"({"command": "x", "mounts": [{"kind": "roBind", "source": "/usr/"}]})", "mounts[0].source",
     "write \"/usr\""},
    {R"({"command": "x", "mounts": [{"kind": "tmpfs"}]})", "mounts[0].destination", "needs a destination"},
    {R"({"command": "x", "mounts": [{"kind": "tmpfs", "destination": "tmp"}]})", "mounts[0].destination",
     "absolute"},
    // Variables.
    {R"({"command": "x", "env": [{"name": "A=B", "value": "c"}]})", "env[0].name", "must not contain \"=\""},
    {R"({"command": "x", "env": [{"name": "", "value": "c"}]})", "env[0].name", "must not be empty"},
    {R"({"command": "x", "env": [{"value": "c"}]})", "env[0].name", "must not be empty"},
    {R"({"command": "x", "env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]})", "env[1].name",
     "given twice"},
    {R"({"command": "x", "env": [{"name": "A", "value": "a\u0000"}]})", "env[0].value", "NUL"},
    {R"({"command": "x", "meta": [{"name": "k", "value": "1"}, {"name": "k", "value": "2"}]})", "meta[1].name",
     "given twice"},
    // Ids and limits.
    {R"({"command": "x", "uid": 4294967295})", "uid", "must be -1"},
    {R"({"command": "x", "gid": -2})", "gid", "must be -1"},
    {R"({"command": "x", "limits": {"memoryBytes": 4096}})", "limits.memoryBytes", "at least 1 MiB"},
    {R"({"command": "x", "limits": {"timeoutMs": "99999999999999"}})", "limits.timeoutMs", "at most a year"},
    {R"({"command": "x", "limits": {"killGraceMs": 3600001}})", "limits.killGraceMs", "at most an hour"},
    {R"({"command": "x", "limits": {"maxOpenFiles": 2}})", "limits.maxOpenFiles", "at least 3"},
    // Names.
    {R"({"command": "x", "hostname": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})", "hostname",
     "at most 64 bytes"},
    {R"({"command": "x", "name": "two\nlines"})", "name", "one line"},
};

INSTANTIATE_TEST_SUITE_P(Cases, RecipeRefusalTest, ::testing::ValuesIn(kInvalid));

TEST(RecipeValidationTest, AcceptsWhatTheRunnerNeeds) {
  EXPECT_NO_THROW(validateRecipe(fullRecipe()));
  Recipe r;
  r.command = "sh";  // a bare name, looked up in PATH inside
  EXPECT_NO_THROW(validateRecipe(r));
  r.uid = 4294967294;
  r.gid = 0;
  r.mounts = {{Mount::Kind::tmpfs, "/tmp", ""}};  // tmpfs named by its source
  EXPECT_NO_THROW(validateRecipe(r));
}

TEST(RecipeValidationTest, RefusesInTheStructToo) {
  Recipe r = fullRecipe();
  r.args[3] = std::string("a\0b", 3);
  EXPECT_THROW(validateRecipe(r), RecipeError);
  r = fullRecipe();
  r.mounts[1].destination = "/work/../etc";
  try {
    validateRecipe(r);
    FAIL();
  } catch (const RecipeError& e) {
    EXPECT_EQ(e.field(), "mounts[1].destination");
  }
}

// The home overlay names only the host's directory: where its upper layer
// is kept is no part of the recipe (nor of its hash).
TEST(RecipeValidationTest, AHomeOverlayIsOneMountOfAHomeNotOfRoot) {
  Recipe r = fullRecipe();
  r.mounts.push_back({Mount::Kind::homeOverlay, "/home/me", "/home/me"});
  std::string json = recipeToJson(r);
  EXPECT_THAT(json, HasSubstr("\"kind\": \"homeOverlay\""));
  EXPECT_EQ(recipeFromJson(json), r);
  r.mounts.push_back({Mount::Kind::homeOverlay, "/home/other", ""});
  try {
    validateRecipe(r);
    FAIL();
  } catch (const RecipeError& e) {
    EXPECT_EQ(e.field(), "mounts[5].kind");
  }
  r.mounts.pop_back();
  r.mounts.back().source = "/";
  r.mounts.back().destination = "/";
  EXPECT_THROW(validateRecipe(r), RecipeError);
}

// ---------------------------------------------------------------------------

bool isLowerHex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(RecipeHashTest, IsStableAcrossRunsAndMachines) {
  Recipe r;
  r.command = "/bin/true";
  r.args = {"a", "b"};
  r.workDir = "/";
  // Pinned: a changed value means every stored recipe hash changed meaning.
  EXPECT_EQ(recipeHash(r), "264f8b98a1f31cd8ac94969e8a29f563d7be1f9883c66b2ce3c1e4db52213c21");
  EXPECT_TRUE(isLowerHex64(recipeHash(fullRecipe())));
  EXPECT_EQ(recipeHash(fullRecipe()), recipeHash(fullRecipe()));
}

TEST(RecipeHashTest, SurvivesTheJsonFormAndIgnoresItsLayout) {
  Recipe r = fullRecipe();
  EXPECT_EQ(recipeHash(recipeFromJson(recipeToJson(r))), recipeHash(r));
  EXPECT_EQ(recipeHash(recipeFromJson(R"({"command":"cc","args":["-c"],"limits":{"timeoutMs":5}})")),
            recipeHash(recipeFromJson(R"({ "limits": {"timeoutMs": "5"}, "args": ["-c"],  "command": "cc" })")));
}

TEST(RecipeHashTest, ChangesWithEveryField) {
  const std::vector<std::function<void(Recipe&)>> changes = {
      [](Recipe& r) { r.command = "/usr/bin/gmake"; },
      [](Recipe& r) { std::swap(r.args[0], r.args[1]); },
      [](Recipe& r) { r.args.push_back(""); },
      [](Recipe& r) { r.env[0].value += ":/sbin"; },
      [](Recipe& r) { std::swap(r.env[0], r.env[1]); },
      [](Recipe& r) { r.workDir = "/work"; },
      [](Recipe& r) { r.mounts[0].kind = Mount::Kind::bind; },
      [](Recipe& r) { r.mounts[1].source = "/home/me/other"; },
      [](Recipe& r) { r.mounts[3].destination = "/usr/share/zoneinfo"; },
      [](Recipe& r) { r.mounts.pop_back(); },
      [](Recipe& r) { r.network = false; },
      [](Recipe& r) { r.hostname = ""; },
      [](Recipe& r) { r.limits.timeoutMs += 1; },
      [](Recipe& r) { r.limits.memoryBytes += 1; },
      [](Recipe& r) { r.limits.maxOpenFiles += 1; },
      [](Recipe& r) { r.limits.maxProcesses += 1; },
      [](Recipe& r) { r.limits.cpuSeconds += 1; },
      [](Recipe& r) { r.limits.maxFileBytes += 1; },
      [](Recipe& r) { r.limits.killGraceMs += 1; },
      [](Recipe& r) { r.uid = -1; },
      [](Recipe& r) { r.gid = 0; },
      [](Recipe& r) { r.name = "compile bar.c"; },
      [](Recipe& r) { r.meta[1].value = "3"; },
      [](Recipe& r) { r.sandboxed = true; },
      [](Recipe& r) { r.secretEnv.push_back("DEPLOY_PASS"); },
  };
  std::set<std::string> hashes = {recipeHash(fullRecipe())};
  for (size_t i = 0; i < changes.size(); ++i) {
    Recipe r = fullRecipe();
    changes[i](r);
    EXPECT_TRUE(hashes.insert(recipeHash(r)).second) << "change " << i << " left the hash alone";
  }
}

}  // namespace
}  // namespace jobtape::sandbox
