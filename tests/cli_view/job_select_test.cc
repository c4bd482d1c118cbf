// Every selector form through `jobtape job show`, on a recorded history.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>

#include "tests/cli_view/view_history.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

using ::jobtape::testing::runJobtape;
using ::jobtape::testing::runProgram;

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Oldest first. Failed jobs: j2, j4, j5 (so -1 = j5, -2 = j4, -3 = j2);
// j2 and j4 share a recipe.
class SelectorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    home_ = new TempHome();
    History history(home_->path());
    JobSpec spec;
    spec.command = "echo";
    spec.args = {"one"};
    spec.name = "lib/core:compile";
    spec.pid = 31001;
    j1_ = history.add(spec);
    spec = {};
    spec.command = "make";
    spec.args = {"all"};
    spec.pid = 31002;
    spec.result = JobSpec::exited(2);
    j2_ = history.add(spec);
    spec = {};
    spec.command = "cc";
    spec.args = {"-c", "three.c"};
    spec.name = "lib/core:compile";
    spec.pid = 31003;
    j3_ = history.add(spec);
    spec = {};
    spec.command = "make";
    spec.args = {"all"};
    spec.pid = 31004;
    spec.result = JobSpec::exited(1);
    j4_ = history.add(spec);
    spec = {};
    spec.command = "sleep";
    spec.args = {"1000"};
    spec.pid = 4242;
    spec.result = JobSpec::signaled(9);
    j5_ = history.add(spec);
    spec = {};
    spec.command = "true";
    spec.pid = 31006;
    j6_ = history.add(spec);
  }
  static void TearDownTestSuite() {
    delete home_;
    home_ = nullptr;
  }

  // The full id `job show SEL` printed, or "" with the error in `error`.
  static std::string shown(const std::vector<std::string>& selector, std::string* error = nullptr,
                           int* status = nullptr) {
    std::vector<std::string> args = {"job", "show"};
    args.insert(args.end(), selector.begin(), selector.end());
    ProcessResult result = runJobtape(home_->path(), args);
    if (status) *status = result.exitStatus;
    if (error) *error = result.err;
    std::smatch match;
    static const std::regex line("(^|\n)job +([0-9A-Z]{26})\n");
    if (result.exitStatus == 0 && std::regex_search(result.out, match, line)) return match[2];
    // Not an id: the failure message then shows what went wrong.
    if (error) return "";
    return "exit " + std::to_string(result.exitStatus) + ": " + result.err + " out: " + result.out.substr(0, 200);
  }
  static std::string shown(const std::string& selector) { return shown(std::vector<std::string>{selector}); }

  static void expectRefused(const std::string& selector, const std::string& words) {
    std::string error;
    int status = 0;
    EXPECT_EQ(shown({selector}, &error, &status), "") << selector;
    EXPECT_EQ(status, 1) << selector;
    EXPECT_THAT(error, StartsWith("jobtape: error: ")) << selector;
    EXPECT_THAT(error, HasSubstr(words)) << selector;
  }

  static inline TempHome* home_ = nullptr;
  static inline RecordedJob j1_, j2_, j3_, j4_, j5_, j6_;
};

TEST_F(SelectorTest, NoSelectorAndFailedMeanTheMostRecentFailedJob) {
  EXPECT_EQ(shown(std::vector<std::string>{}), j5_.id);
  EXPECT_EQ(shown("failed"), j5_.id);
}

TEST_F(SelectorTest, LastIsTheMostRecentJobWhateverItsStatus) { EXPECT_EQ(shown("last"), j6_.id); }

TEST_F(SelectorTest, MinusNCountsFailedJobsBack) {
  EXPECT_EQ(shown("-1"), j5_.id);
  EXPECT_EQ(shown("-2"), j4_.id);
  EXPECT_EQ(shown("-3"), j2_.id);
  // Also after `--`, where it cannot be mistaken for an option.
  EXPECT_EQ(shown(std::vector<std::string>{"--", "-2"}), j4_.id);
}

TEST_F(SelectorTest, MinusNPastTheEndSaysHowManyThereAre) {
  expectRefused("-4", "only 3 failed jobs");
  expectRefused("-0", "-1");
}

TEST_F(SelectorTest, IdPrefixInEitherCase) {
  History history(home_->path());
  std::string prefix = history.store().shortestUniquePrefix(j3_.id);
  ASSERT_GE(prefix.size(), 8u);
  std::string lower = prefix;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  EXPECT_EQ(shown(prefix), j3_.id);
  EXPECT_EQ(shown(lower), j3_.id);
  EXPECT_EQ(shown(j3_.id), j3_.id);
  EXPECT_EQ(shown("job:" + lower), j3_.id);
}

TEST_F(SelectorTest, AmbiguousPrefixListsTheCandidates) {
  // The longest prefix j1 and j2 share: both match it.
  size_t common = 0;
  while (common < j1_.id.size() && j1_.id[common] == j2_.id[common]) ++common;
  ASSERT_GE(common, 2u);
  std::string prefix = "job:" + j1_.id.substr(0, common);
  std::string error;
  int status = 0;
  EXPECT_EQ(shown({prefix}, &error, &status), "");
  EXPECT_EQ(status, 1);
  EXPECT_THAT(error, HasSubstr("is ambiguous"));
  EXPECT_THAT(error, HasSubstr(j1_.id));
  EXPECT_THAT(error, HasSubstr(j2_.id));
  EXPECT_THAT(error, HasSubstr("make all"));
}

TEST_F(SelectorTest, RecipeHashPrefixMeansItsMostRecentJob) {
  ASSERT_EQ(j2_.recipeHash, j4_.recipeHash);
  std::string prefix = j2_.recipeHash.substr(0, 12);
  EXPECT_EQ(shown(prefix), j4_.id);
  EXPECT_EQ(shown("recipe:" + prefix), j4_.id);
  EXPECT_EQ(shown("recipe:" + j3_.recipeHash), j3_.id);
}

TEST_F(SelectorTest, PidMeansTheJobThatRanWithIt) {
  EXPECT_EQ(shown("4242"), j5_.id);
  EXPECT_EQ(shown("pid:31002"), j2_.id);
  expectRefused("pid:77777", "77777");
}

// A name is shown where the job is listed and selects its most recent job; it
// may hold '/' and ':' and is still read as a name, not as a path.
TEST_F(SelectorTest, NameMeansTheMostRecentJobOfThatName) {
  EXPECT_EQ(shown("name:lib/core:compile"), j3_.id);
  expectRefused("name:lib/core", "no job is named 'lib/core'");
  ProcessResult list = runJobtape(home_->path(), {"job", "list"});
  ASSERT_EQ(list.exitStatus, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("lib/core:compile"));
}

TEST_F(SelectorTest, EventsFilePathIsReadWithoutTheDatabase) {
  EXPECT_EQ(shown(j3_.eventsFile.string()), j3_.id);
  // Even from a home that has no store at all.
  TempHome empty;
  ProcessResult result = runJobtape(empty.path(), {"job", "show", j2_.eventsFile.string()});
  EXPECT_EQ(result.exitStatus, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr(j2_.id));
  EXPECT_THAT(result.out, HasSubstr("exited with status 2"));
  EXPECT_THAT(result.out, HasSubstr("from the events file"));
  EXPECT_FALSE(std::filesystem::exists(empty.path() / "jobtape.db"));
}

TEST_F(SelectorTest, GarbageIsOneClearError) {
  expectRefused("zzz!!", "zzz!!");
  expectRefused("job:not-an-id", "not a job id prefix");
  expectRefused("recipe:xyz", "not a recipe hash prefix");
  expectRefused("pid:abc", "not a pid");
  expectRefused("/nonexistent/events.bin.zst", "/nonexistent/events.bin.zst");
}

TEST_F(SelectorTest, ANonEventsFileIsRefusedByName) {
  TempDir dir;
  auto path = dir.path() / "notes.zst";
  { std::ofstream(path) << "hello, not zstd\n"; }
  expectRefused(path.string(), "not an events file");
}

TEST_F(SelectorTest, TwoSelectorsAreAUsageError) {
  ProcessResult result = runJobtape(home_->path(), {"job", "show", "last", "-1"});
  EXPECT_EQ(result.exitStatus, 2);
  EXPECT_THAT(result.err, StartsWith("jobtape: error: "));
}

TEST_F(SelectorTest, NoStoreYetSaysSo) {
  TempHome empty;
  ProcessResult result = runJobtape(empty.path(), {"job", "show"});
  EXPECT_EQ(result.exitStatus, 1);
  EXPECT_THAT(result.err, StartsWith("jobtape: error: no jobs recorded yet"));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1);
}

}  // namespace
}  // namespace jobtape::testing
