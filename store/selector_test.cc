// Every selector form on stores with a known history.
#include "store/selector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/test_support.h"

namespace jobtape::store {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::runTestJob;
using testing::TempHome;

const std::string kRecipeA = "aaaa1111" + std::string(56, '0');
const std::string kRecipeB = "bbbb2222" + std::string(56, '0');
const std::string kRecipeC = "ab12" + std::string(60, 'c');
const std::string kRecipeD = "ab34" + std::string(60, 'd');

// Ids in time order; the shared prefixes are what the tests are about.
const std::string kJ1 = "01JD4AAAAA0000000000000001";  // succeeded pid 100 recipe A
const std::string kJ2 = "01JD4AAAAB0000000000000002";  // failed    pid 200 recipe B
const std::string kJ3 = "01JD4BBBBB0000000000000003";  // failed    pid 200 recipe A
const std::string kJ4 = "01JD5CCCCC0000000000000004";  // succeeded pid 300 recipe C
const std::string kJ5 = "01JD6DDDDD0000000000000005";  // failed    pid 400 recipe D
const std::string kJ6 = "01JD7EEEEE0000000000000006";  // succeeded pid 500 recipe A

class SelectorTest : public ::testing::Test {
 protected:
  TempHome home;
  std::unique_ptr<SqliteStore> store = openSqliteStore(
      home.path(), StoreOptions{testing::ManualClock{}.function(), std::make_shared<testing::ScriptedProbe>()});

  void recordHistory() {
    auto build = testing::beginTestBuild(*store);
    runTestJob(*store, build, JobStatus::succeeded, "echo one", 100, kRecipeA, kJ1);
    runTestJob(*store, build, JobStatus::failed, "make two", 200, kRecipeB, kJ2);
    runTestJob(*store, build, JobStatus::failed, "make three", 200, kRecipeA, kJ3);
    runTestJob(*store, build, JobStatus::succeeded, "cc four", 300, kRecipeC, kJ4);
    runTestJob(*store, build, JobStatus::failed, "ld five", 400, kRecipeD, kJ5);
    runTestJob(*store, build, JobStatus::succeeded, "echo six", 500, kRecipeA, kJ6);
  }

  std::string select(const std::optional<std::string>& selector) {
    auto selection = resolveSelector(store.get(), selector);
    if (auto* row = std::get_if<JobRow>(&selection)) return row->id;
    return "file:" + std::get<EventsFileSelection>(selection).path.string();
  }

  std::string error(const std::optional<std::string>& selector, Store* which = nullptr, bool useNull = false) {
    try {
      resolveSelector(useNull ? which : store.get(), selector);
    } catch (const SelectorError& e) {
      return e.what();
    }
    return "<no error>";
  }
};

TEST_F(SelectorTest, NoJobsAtAll) {
  EXPECT_EQ(error(std::nullopt), "no jobs recorded yet; 'jobtape run' records one");
  EXPECT_EQ(error("failed"), "no jobs recorded yet; 'jobtape run' records one");
  EXPECT_EQ(error("last"), "no jobs recorded yet; 'jobtape run' records one");
  EXPECT_EQ(error("-1"), "no jobs recorded yet; 'jobtape run' records one");
  EXPECT_EQ(error("01JD4"), "no job matches '01JD4' (searched job ids)");
  EXPECT_EQ(error("1234"), "no job matches '1234' (searched job ids, recipe hashes and pids)");
}

TEST_F(SelectorTest, WithoutAStoreOnlyPathsResolve) {
  EXPECT_THAT(error(std::nullopt, nullptr, true), StartsWith("no jobs recorded yet (there is no store)"));
  EXPECT_THAT(error("last", nullptr, true), StartsWith("no jobs recorded yet (there is no store)"));
  EXPECT_THAT(error("01JD4", nullptr, true), StartsWith("no jobs recorded yet (there is no store)"));
  auto file = home.path() / "some" / "events.bin.zst";
  std::filesystem::create_directories(file.parent_path());
  testing::writeFile(file, "x");
  auto selection = resolveSelector(nullptr, file.string());
  EXPECT_EQ(std::get<EventsFileSelection>(selection).path, file);
}

TEST_F(SelectorTest, OnlySucceededJobs) {
  auto build = testing::beginTestBuild(*store);
  runTestJob(*store, build, JobStatus::succeeded, "a", 1, kRecipeA, kJ1);
  runTestJob(*store, build, JobStatus::succeeded, "b", 2, kRecipeA, kJ4);
  EXPECT_EQ(error(std::nullopt), "no failed job recorded; 'last' selects the most recent job");
  EXPECT_EQ(error("failed"), "no failed job recorded; 'last' selects the most recent job");
  EXPECT_EQ(error("-2"), "-2: no failed job recorded; 'last' selects the most recent job");
  EXPECT_EQ(select("last"), kJ4);
}

TEST_F(SelectorTest, FailedAndLast) {
  recordHistory();
  EXPECT_EQ(select(std::nullopt), kJ5);
  EXPECT_EQ(select("failed"), kJ5);
  EXPECT_EQ(select("FAILED"), kJ5);
  EXPECT_EQ(select("last"), kJ6);
  EXPECT_EQ(select("Last"), kJ6);
}

TEST_F(SelectorTest, CountingBackFailedJobs) {
  recordHistory();
  EXPECT_EQ(select("-1"), kJ5);
  EXPECT_EQ(select("-2"), kJ3);
  EXPECT_EQ(select("-3"), kJ2);
  EXPECT_EQ(error("-4"), "-4: only 3 failed jobs recorded");
  EXPECT_EQ(error("-5"), "-5: only 3 failed jobs recorded");
  EXPECT_EQ(error("-99999999999999999999999"), "-99999999999999999999999: only 3 failed jobs recorded");
  EXPECT_EQ(error("-0"), "-0: counting starts at -1, the most recent failed job");
}

TEST_F(SelectorTest, AbandonedJobsCountAsFailed) {
  recordHistory();
  auto build = testing::beginTestBuild(*store);
  auto id = runTestJob(*store, build, JobStatus::running, "gone", 1, kRecipeA, "01JD8FFFFF0000000000000007");
  store->finishJob(id, JobFinish{JobStatus::abandoned, {}, {}, "", {}, false});
  EXPECT_EQ(select(std::nullopt), id);
  EXPECT_EQ(select("-2"), kJ5);
}

TEST_F(SelectorTest, RunningIsTheMostRecentJobWithoutAResult) {
  recordHistory();
  EXPECT_EQ(error("running"), "no job is running now; 'last' selects the most recent job");
  auto build = testing::beginTestBuild(*store);
  auto older = runTestJob(*store, build, JobStatus::running, "older", 1, kRecipeA, "01JD8FFFFF0000000000000007");
  auto newer = runTestJob(*store, build, JobStatus::running, "newer", 2, kRecipeA, "01JD9GGGGG0000000000000008");
  runTestJob(*store, build, JobStatus::succeeded, "done", 3, kRecipeA, "01JDAHHHHH0000000000000009");
  EXPECT_EQ(select("running"), newer);
  EXPECT_EQ(select("RUNNING"), newer);
  store->finishJob(newer, JobFinish{JobStatus::abandoned, {}, {}, "", {}, false});
  EXPECT_EQ(select("running"), older);
}

TEST_F(SelectorTest, FollowingWithoutASelectorPrefersTheRunningJob) {
  recordHistory();
  auto follow = [&](const std::optional<std::string>& selector) {
    return std::get<JobRow>(resolveFollowSelector(store.get(), selector)).id;
  };
  EXPECT_EQ(follow(std::nullopt), kJ5);  // nothing runs: the most recent failed
  auto build = testing::beginTestBuild(*store);
  auto running = runTestJob(*store, build, JobStatus::running, "now", 1, kRecipeA, "01JD8FFFFF0000000000000007");
  EXPECT_EQ(follow(std::nullopt), running);
  EXPECT_EQ(follow("-1"), kJ5);  // a selector is taken as it is
}

TEST_F(SelectorTest, IdPrefixes) {
  recordHistory();
  EXPECT_EQ(select("01JD5"), kJ4);  // exactly one id
  EXPECT_EQ(select("01jd5c"), kJ4);  // case-insensitive
  EXPECT_EQ(select("oijd5"), kJ4);   // Crockford aliases O->0, I->1
  EXPECT_EQ(select("01JD4AAAAB"), kJ2);
  EXPECT_EQ(select(kJ3), kJ3);
  EXPECT_EQ(select("job:01jd4b"), kJ3);
  EXPECT_EQ(error("01JDZ"), "no job matches '01JDZ' (searched job ids)");
  EXPECT_EQ(error("job:01JDZ"), "no job id starts with 01JDZ");
  EXPECT_THAT(error("job:01JDU"), StartsWith("'01JDU' is not a job id prefix"));
  EXPECT_THAT(error("job:" + kJ3 + "0"), StartsWith("'" + kJ3 + "0' is not a job id prefix"));
}

TEST_F(SelectorTest, AmbiguousIdPrefixListsTheCandidatesLikeGit) {
  recordHistory();
  std::string message = error("01jd4");
  std::vector<std::string> lines;
  for (size_t start = 0, end; start <= message.size(); start = end + 1) {
    end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    lines.push_back(message.substr(start, end - start));
  }
  ASSERT_EQ(lines.size(), 5u) << message;
  EXPECT_EQ(lines[0], "job id prefix 01jd4 is ambiguous");
  EXPECT_EQ(lines[1], "The candidates are:");
  EXPECT_THAT(lines[2], ::testing::MatchesRegex("  " + kJ1 + " succeeded [0-9-]+ [0-9:]+ echo one"));
  EXPECT_THAT(lines[3], ::testing::MatchesRegex("  " + kJ2 + " failed [0-9-]+ [0-9:]+ make two"));
  EXPECT_THAT(lines[4], ::testing::MatchesRegex("  " + kJ3 + " failed [0-9-]+ [0-9:]+ make three"));
}

TEST_F(SelectorTest, ManyCandidatesAreCut) {
  auto build = testing::beginTestBuild(*store);
  for (int i = 0; i < 15; ++i) runTestJob(*store, build, JobStatus::failed);
  std::string message = error("0");
  EXPECT_THAT(message, StartsWith("job id prefix 0 is ambiguous\nThe candidates are:\n"));
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 12);
  EXPECT_THAT(message, ::testing::EndsWith("\n  ... and more; type more characters"));
}

TEST_F(SelectorTest, RecipeHashPrefixes) {
  recordHistory();
  EXPECT_EQ(select("bbbb"), kJ2);
  EXPECT_EQ(select("aaaa1111"), kJ6) << "the most recent job of that recipe";
  EXPECT_EQ(select("recipe:AB12"), kJ4);
  EXPECT_EQ(select(kRecipeD), kJ5);
  std::string message = error("ab");
  EXPECT_THAT(message, StartsWith("recipe hash prefix ab is ambiguous\nThe candidates are:\n"));
  EXPECT_THAT(message, HasSubstr(kJ4 + " succeeded"));
  EXPECT_THAT(message, HasSubstr(kJ5 + " failed"));
  EXPECT_EQ(error("recipe:ffff"), "no job ran a recipe whose hash starts with ffff");
  EXPECT_THAT(error("recipe:xyz"), StartsWith("'xyz' is not a recipe hash prefix"));
  EXPECT_THAT(error("recipe:" + kRecipeA + "0"), HasSubstr("is not a recipe hash prefix"));
}

TEST_F(SelectorTest, PidsReusedByTwoJobsSelectTheMostRecent) {
  recordHistory();
  EXPECT_EQ(select("200"), kJ3);
  EXPECT_EQ(select("pid:200"), kJ3);
  EXPECT_EQ(select("pid:100"), kJ1);
  EXPECT_EQ(error("pid:777"), "no job ran with pid 777");
  EXPECT_EQ(error("777"), "no job matches '777' (searched job ids, recipe hashes and pids)");
  EXPECT_THAT(error("pid:0"), StartsWith("'0' is not a pid"));
  EXPECT_THAT(error("pid:-3"), StartsWith("'-3' is not a pid"));
  EXPECT_THAT(error("pid:99999999999"), StartsWith("'99999999999' is not a pid"));
}

TEST_F(SelectorTest, NumberThatIsBothAPidAndAnIdPrefixIsRefused) {
  auto build = testing::beginTestBuild(*store);
  const std::string numericId = "12345ZZZZZ0000000000000001";
  runTestJob(*store, build, JobStatus::succeeded, "by id", 1, kRecipeA, numericId);
  auto byPid = runTestJob(*store, build, JobStatus::failed, "by pid", 12345, kRecipeA, "01JD4AAAAA0000000000000001");
  std::string message = error("12345");
  EXPECT_THAT(message, StartsWith("12345 is both a job id prefix and a pid; say which with job:12345 or pid:12345\n"));
  EXPECT_THAT(message, HasSubstr(numericId));
  EXPECT_THAT(message, HasSubstr(byPid));
  EXPECT_EQ(select("job:12345"), numericId);
  EXPECT_EQ(select("pid:12345"), byPid);
  EXPECT_EQ(select("12345Z"), numericId) << "not a pid any more";
}

TEST_F(SelectorTest, TextThatIsBothAnIdAndARecipePrefixIsRefused) {
  auto build = testing::beginTestBuild(*store);
  runTestJob(*store, build, JobStatus::failed, "x", 1, "01ab" + std::string(60, '0'), "01ABCD0000000000000000000A");
  EXPECT_THAT(error("01ab"), StartsWith("01ab is both a job id prefix and a recipe hash prefix; say which with "
                                        "job:01ab or recipe:01ab\n"));
}

TEST_F(SelectorTest, Garbage) {
  recordHistory();
  EXPECT_EQ(error(""), "empty selector; leave it out to select the most recent failed job");
  EXPECT_THAT(error("--"), StartsWith("'--' is not a selector: -N counts failed jobs back"));
  EXPECT_THAT(error("-"), StartsWith("'-' is not a selector"));
  EXPECT_THAT(error("-x"), StartsWith("'-x' is not a selector"));
  EXPECT_THAT(error("-1x"), StartsWith("'-1x' is not a selector"));
  EXPECT_EQ(error(std::string(300, 'a')), "selector is too long (300 characters); a job id has 26, a recipe hash 64");
  EXPECT_EQ(error(std::string("01\0JD", 5)), "'01\\x00JD' contains a NUL byte");
  EXPECT_THAT(error("\xc3\xbcnicode"), StartsWith("'\\xc3\\xbcnicode' is not a selector: expected failed, last"));
  EXPECT_THAT(error("\x1b[31mred"), StartsWith("'\\x1b[31mred' is not a selector"));
  EXPECT_THAT(error("job:"), StartsWith("'job:' names nothing after the colon"));
  EXPECT_THAT(error("foo:bar"), StartsWith("'foo:bar' is not a selector: the explicit forms are"));
  EXPECT_THAT(error("hello world"), StartsWith("'hello world' is not a selector"));
  // A long text is cut when shown.
  EXPECT_THAT(error(std::string(100, 'a')), StartsWith("'" + std::string(40, 'a') + "...' is not a selector"));
}

TEST_F(SelectorTest, EventsFilePaths) {
  recordHistory();
  auto dir = home.path() / "jobs" / kJ3;
  std::filesystem::create_directories(dir);
  testing::writeFile(dir / "events.bin.zst", "x");
  EXPECT_EQ(select((dir / "events.bin.zst").string()), "file:" + (dir / "events.bin.zst").string());
  EXPECT_EQ(select(dir.string()), "file:" + (dir / "events.bin.zst").string()) << "a job directory";
  EXPECT_THAT(error((home.path() / "missing.bin.zst").string()), StartsWith("no events file at /"));
  EXPECT_EQ(error("missing.zst"), "no events file at missing.zst");
  // A path is shown whole, its control bytes escaped: its end tells it apart.
  std::string deep = home.path().string() + "/a-directory-with-a-long-name/another-one/\x1b[2Jmissing.bin.zst";
  EXPECT_EQ(error(deep), "no events file at " + home.path().string() +
                             "/a-directory-with-a-long-name/another-one/\\x1b[2Jmissing.bin.zst");
  EXPECT_THAT(error(home.path().string()), HasSubstr("is a directory without an events.bin.zst"));

  // A bare name that matches no job but names a file here is that file.
  auto previous = std::filesystem::current_path();
  std::filesystem::current_path(dir);
  testing::writeFile(dir / "recording", "x");
  EXPECT_EQ(select("recording"), "file:" + (dir / "recording").string());
  std::filesystem::current_path(previous);
}

class BuildSelectorTest : public SelectorTest {
 protected:
  std::string selectBuild(const std::optional<std::string>& selector) {
    return resolveBuildSelector(*store, selector).id;
  }
  std::string buildError(const std::optional<std::string>& selector) {
    try {
      resolveBuildSelector(*store, selector);
    } catch (const SelectorError& e) {
      return e.what();
    }
    return "<no error>";
  }
};

TEST_F(BuildSelectorTest, NoBuilds) {
  EXPECT_EQ(buildError(std::nullopt), "no builds recorded yet; 'jobtape run' records one");
  EXPECT_EQ(buildError("failed"), "no builds recorded yet; 'jobtape run' records one");
  EXPECT_EQ(buildError("01"), "no build matches '01' (searched build ids)");
}

TEST_F(BuildSelectorTest, LastFailedAndPrefixes) {
  auto failedBuild = testing::beginTestBuild(*store);
  runTestJob(*store, failedBuild, JobStatus::failed);
  store->finishBuild(failedBuild.buildId);
  EXPECT_EQ(buildError("failed") == "<no error>", true);
  auto okBuild = testing::beginTestBuild(*store);
  runTestJob(*store, okBuild, JobStatus::succeeded);
  store->finishBuild(okBuild.buildId);

  EXPECT_EQ(selectBuild(std::nullopt), okBuild.buildId);
  EXPECT_EQ(selectBuild("last"), okBuild.buildId);
  EXPECT_EQ(selectBuild("failed"), failedBuild.buildId);
  EXPECT_EQ(selectBuild(okBuild.buildId), okBuild.buildId);
  EXPECT_EQ(selectBuild("build:" + failedBuild.buildId), failedBuild.buildId);
  std::string lowerId = failedBuild.buildId;
  for (char& c : lowerId) c = static_cast<char>(std::tolower(c));
  EXPECT_EQ(selectBuild(lowerId), failedBuild.buildId);
  EXPECT_THAT(buildError("0"), StartsWith("build id prefix 0 is ambiguous\nThe candidates are:\n  "));
  EXPECT_THAT(buildError("0"), HasSubstr(failedBuild.buildId + " failed "));
  EXPECT_EQ(buildError("7ZZ"), "no build matches '7ZZ' (searched build ids)");
  EXPECT_THAT(buildError("-1"), StartsWith("'-1' is not a build selector"));
  EXPECT_THAT(buildError(std::string("0\0", 2)), HasSubstr("contains a NUL byte"));
  EXPECT_THAT(buildError(""), StartsWith("'' is not a build selector"));
}

TEST_F(BuildSelectorTest, LastAndFailedNameTopLevelBuildsNotNestedOnes) {
  auto parent = testing::beginTestBuild(*store);
  JobStart start;
  start.buildId = parent.buildId;
  start.buildProjectId = parent.projectId;
  start.command = "jobtape run -- make";
  std::string parentJob = store->newJobId();
  store->beginJob(parentJob, start);
  auto child = testing::beginTestBuild(*store, "/src/lib", parentJob);
  runTestJob(*store, child, JobStatus::failed);
  store->finishBuild(child.buildId);
  JobFinish finish;
  finish.result = JobStatus::succeeded;
  finish.exitCode = 0;
  store->finishJob(parentJob, finish);
  store->finishBuild(parent.buildId);

  EXPECT_EQ(selectBuild("last"), parent.buildId);
  EXPECT_EQ(selectBuild("failed"), parent.buildId);  // the child's failure is the parent's
  EXPECT_EQ(selectBuild(child.buildId), child.buildId);
}

TEST_F(BuildSelectorTest, OnlySucceededBuilds) {
  auto build = testing::beginTestBuild(*store);
  store->finishBuild(build.buildId);
  EXPECT_EQ(buildError("failed"), "no failed build recorded; 'last' selects the most recent build");
}

// name:NAME is the most recent job of that name, whatever its status; a name
// may hold '/' and ':' and is still a name, not a path.
TEST_F(SelectorTest, NameFormSelectsTheMostRecentJobOfThatName) {
  auto build = testing::beginTestBuild(*store);
  runTestJob(*store, build, JobStatus::failed, "make", 100, kRecipeA, kJ1, "unit-tests");
  runTestJob(*store, build, JobStatus::succeeded, "make", 100, kRecipeA, kJ2, "lib/core:compile");
  runTestJob(*store, build, JobStatus::succeeded, "make", 100, kRecipeA, kJ3, "unit-tests");
  EXPECT_EQ(select("name:unit-tests"), kJ3);
  EXPECT_EQ(select("NAME:unit-tests"), kJ3);
  EXPECT_EQ(select("name:lib/core:compile"), kJ2);
  EXPECT_EQ(error("name:unit"), "no job is named 'unit'; 'jobtape run --name NAME' names one");
  EXPECT_EQ(error("name:"), "'name:' names nothing after the colon");
  EXPECT_EQ(error("name:\x1b[2J"), "no job is named '\\x1b[2J'; 'jobtape run --name NAME' names one");
}

}  // namespace
}  // namespace jobtape::store
