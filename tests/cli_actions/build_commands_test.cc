// `jobtape build list|show|trace|check` on builds recorded by the real binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>

#include "recorder/inspect/json_testing.h"
#include "tests/cli_actions/actions_fixture.h"

namespace jobtape::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A build whose record-only job runs a second `jobtape run` (a nested build)
// that fails: the parent build fails with it.
void recordNestedBuild(const ActionsHome& home) {
  std::string inner = jobtapeBinary().string() + " --home " + home.home().string() + " run --project " +
                      home.project().string() + " --name inner -- sh -c 'echo inner; exit 4'";
  auto outer = home.jobtape({"run", "--project", home.project().string(), "--no-sandbox", "--name", "outer", "--",
                             "sh", "-c", inner});
  ASSERT_EQ(outer.exitStatus, 4) << outer.err;
}

// The id of the most recent top-level build, from `build list --json`.
std::string topBuildId(const ActionsHome& home) {
  auto listed = home.jobtape({"build", "list", "--limit", "1", "--json"});
  ParsedJson parsed(listed.out);
  return stringMember(parsed.root().getArray()[0], "id");
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(BuildList, ShowsNestedBuildsUnderTheirParent) {
  ActionsHome home;
  ASSERT_EQ(home.record("true").exitStatus, 0);
  recordNestedBuild(home);
  auto result = home.jobtape({"build", "list"});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  auto out = lines(result.out);
  ASSERT_EQ(out.size(), 4u) << result.out;
  EXPECT_THAT(out[0], StartsWith("BUILD"));
  EXPECT_THAT(out[1], HasSubstr("failed"));
  EXPECT_THAT(out[1], HasSubstr("0 ok, 1 failed"));
  EXPECT_THAT(out[2], StartsWith("└─ "));
  EXPECT_THAT(out[2], HasSubstr("failed"));
  EXPECT_THAT(out[3], HasSubstr("succeeded"));
  EXPECT_THAT(out[3], HasSubstr("1 ok"));
}

TEST(BuildList, JsonNestsBuildsAndCountsJobs) {
  ActionsHome home;
  recordNestedBuild(home);
  ASSERT_EQ(home.record("true").exitStatus, 0);
  auto result = home.jobtape({"build", "list", "--json"});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  ParsedJson parsed(result.out);
  auto builds = parsed.root().getArray();
  ASSERT_EQ(builds.size(), 2u);
  EXPECT_EQ(stringMember(builds[0], "result"), "succeeded");
  auto outer = builds[1];
  EXPECT_EQ(stringMember(outer, "result"), "failed");
  auto counts = member(outer, "job_counts");
  ASSERT_TRUE(counts) << result.out;
  EXPECT_EQ(numberMember(*counts, "failed"), 1);
  auto nestedMember = member(outer, "nested");
  ASSERT_TRUE(nestedMember) << result.out;
  auto nested = nestedMember->getArray();
  ASSERT_EQ(nested.size(), 1u);
  EXPECT_EQ(stringMember(nested[0], "result"), "failed");
  EXPECT_EQ(member(nested[0], "parent_job_id")->which(), capnp::JsonValue::STRING);
  EXPECT_EQ(home.jobtape({"build", "list", "--limit", "1", "--json"}).out.find(stringMember(outer, "id")),
            std::string::npos)
      << "--limit counts top-level builds";
}

TEST(BuildShow, ShowsJobsProjectsAndNestedBuilds) {
  ActionsHome home;
  recordNestedBuild(home);
  auto result = home.jobtape({"build", "show", topBuildId(home).substr(0, 12)});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  EXPECT_THAT(result.out, StartsWith("build "));
  EXPECT_THAT(result.out, HasSubstr("project:   " + home.project().string()));
  EXPECT_THAT(result.out, HasSubstr("nested builds:"));
  EXPECT_THAT(result.out, HasSubstr("exit 4"));
}

TEST(BuildShow, UnknownBuildIsOneLineError) {
  ActionsHome home;
  ASSERT_EQ(home.record("true").exitStatus, 0);
  auto result = home.jobtape({"build", "show", "ZZZZZZZZ"});
  EXPECT_EQ(result.exitStatus, 1);
  EXPECT_THAT(result.err, StartsWith("jobtape: error: "));
  auto empty = ActionsHome().jobtape({"build", "show"});
  EXPECT_EQ(empty.exitStatus, 1);
  EXPECT_THAT(empty.err, StartsWith("jobtape: error: no builds recorded yet"));
}

TEST(BuildTrace, WritesChromeTraceJsonWithBuildJobAndProcessSpans) {
  ActionsHome home;
  recordNestedBuild(home);
  auto file = home.scratch() / "trace.json";
  auto result = home.jobtape({"build", "trace", topBuildId(home), "-o", file.string()});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("perfetto"));
  ParsedJson parsed(readFile(file));
  std::map<std::string, std::vector<std::string>> names;  // category -> span names
  std::map<std::string, std::set<double>> pids;
  for (auto event : member(parsed.root(), "traceEvents")->getArray()) {
    if (stringMember(event, "ph") != "X") continue;
    auto category = stringMember(event, "cat");
    names[category].push_back(stringMember(event, "name"));
    pids[category].insert(numberMember(event, "pid"));
    EXPECT_GE(numberMember(event, "dur"), 0);
  }
  EXPECT_EQ(names["build"].size(), 2u) << "the build and its nested build";
  EXPECT_EQ(pids["build"].size(), 2u);
  EXPECT_THAT(names["job"], ::testing::UnorderedElementsAre("outer", "inner"));
  // The sandboxed inner job's exec tree: at least its sh.
  EXPECT_THAT(names["process"], ::testing::Contains("sh"));
}

TEST(BuildTrace, MakesTheDirectoriesOfTheOutputFile) {
  ActionsHome home;
  ASSERT_EQ(home.record("true").exitStatus, 0);
  auto file = home.scratch() / "a" / "b" / "x.json";
  auto result = home.jobtape({"build", "trace", "-o", file.string()});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  EXPECT_TRUE(parsesAsJson(readFile(file)));
  // A file where a directory should be: one line naming it.
  auto blocked = home.scratch() / "file";
  std::ofstream(blocked) << "x";
  result = home.jobtape({"build", "trace", "-o", (blocked / "x.json").string()});
  EXPECT_EQ(result.exitStatus, 1);
  EXPECT_THAT(result.err, StartsWith("jobtape: error: cannot create the directory " + blocked.string() + ": "));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

TEST(BuildTrace, GoesToStdoutWithoutAFile) {
  ActionsHome home;
  ASSERT_EQ(home.record("true").exitStatus, 0);
  auto result = home.jobtape({"build", "trace"});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  EXPECT_TRUE(parsesAsJson(result.out)) << result.out;
}

TEST(BuildCheck, ExitsOneWhenTheLastNAllFailed) {
  ActionsHome home;
  auto check = [&](std::vector<std::string> more) {
    std::vector<std::string> args = {"build", "check"};
    args.insert(args.end(), more.begin(), more.end());
    return home.jobtape(args);
  };
  EXPECT_EQ(check({"--failures", "1"}).exitStatus, 0) << "nothing recorded: not locked";
  ASSERT_EQ(home.record("true").exitStatus, 0);
  ASSERT_EQ(home.record("exit 1").exitStatus, 1);
  ASSERT_EQ(home.record("exit 2").exitStatus, 2);
  auto locked = check({"--failures", "2"});
  EXPECT_EQ(locked.exitStatus, 1);
  EXPECT_THAT(locked.out, StartsWith("the last 2 builds all failed"));
  auto open = check({"--failures", "3"});
  EXPECT_EQ(open.exitStatus, 0);
  EXPECT_THAT(open.out, StartsWith("ok:"));
  EXPECT_EQ(check({"--failures", "2", "--project", home.project().string()}).exitStatus, 1);
  // A mistyped project must not unlock the branch by having no builds.
  auto unknown = check({"--failures", "1", "--project", "/no/such/project"});
  EXPECT_EQ(unknown.exitStatus, 2);
  EXPECT_THAT(unknown.err, StartsWith("jobtape: error: no finished build of project '/no/such/project'"));
  ASSERT_EQ(home.record("true").exitStatus, 0);
  EXPECT_EQ(check({"--failures", "1"}).exitStatus, 0);
}

TEST(BuildCheck, BadCountIsAUsageError) {
  ActionsHome home;
  for (const char* bad : {"0", "-1", "x"}) {
    auto result = home.jobtape({"build", "check", "--failures", bad});
    EXPECT_EQ(result.exitStatus, 2) << bad;
    EXPECT_THAT(result.err, StartsWith("jobtape: error: "));
  }
  EXPECT_EQ(home.jobtape({"build", "check"}).exitStatus, 2) << "--failures is required";
}

}  // namespace
}  // namespace jobtape::testing
