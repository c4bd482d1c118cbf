// `jobtape history` and `jobtape gc` on builds recorded by the real binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "recorder/inspect/json_testing.h"
#include "store/ulid.h"
#include "tests/cli_actions/actions_fixture.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string today(int offsetDays = 0) {
  std::time_t now = std::time(nullptr) + offsetDays * 86400;
  std::tm local{};
  localtime_r(&now, &local);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &local);
  return text;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Three builds of one job each, two of them failed.
void recordThreeBuilds(const ActionsHome& home) {
  for (auto [script, status] : {std::pair{"true", 0}, {"exit 1", 1}, {"exit 2", 2}}) {
    auto result = home.record(script);
    ASSERT_EQ(result.exitStatus, status) << result.err;
  }
}

TEST(History, JsonCountsTodaysBuildsAndJobs) {
  ActionsHome home;
  recordThreeBuilds(home);
  auto result = home.jobtape({"history", "--json"});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  ParsedJson parsed(result.out);
  auto days = member(parsed.root(), "days")->getArray();
  ASSERT_GE(days.size(), 1u);
  auto day = days[days.size() - 1];
  if (stringMember(day, "date") != today()) GTEST_SKIP() << "the day changed while the test ran";
  EXPECT_EQ(numberMember(day, "builds"), 3);
  EXPECT_EQ(numberMember(day, "failed_builds"), 2);
  EXPECT_EQ(numberMember(day, "jobs"), 3);
  EXPECT_EQ(numberMember(day, "failed_jobs"), 2);
  auto durations = *member(day, "job_duration");
  EXPECT_EQ(numberMember(durations, "count"), 3);
  EXPECT_GT(numberMember(durations, "max_ms"), 0);
  EXPECT_LE(numberMember(durations, "median_ms"), numberMember(durations, "max_ms"));
  EXPECT_GE(numberMember(durations, "total_ms"), numberMember(durations, "max_ms"));
}

TEST(History, SinceTomorrowHasNoDays) {
  ActionsHome home;
  recordThreeBuilds(home);
  auto result = home.jobtape({"history", "--json", "--since", today(1)});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  ParsedJson parsed(result.out);
  EXPECT_EQ(member(parsed.root(), "days")->getArray().size(), 0u);
}

TEST(History, CsvWritesBothFiles) {
  ActionsHome home;
  recordThreeBuilds(home);
  auto dir = home.scratch() / "reports" / "csv";  // missing parents are made
  auto result = home.jobtape({"history", "--csv", dir.string()});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  auto builds = lines(readFile(dir / "builds.csv"));
  auto jobs = lines(readFile(dir / "jobs.csv"));
  ASSERT_GE(builds.size(), 2u);
  ASSERT_GE(jobs.size(), 2u);
  EXPECT_THAT(builds[0], StartsWith("date,builds,failed_builds,"));
  EXPECT_THAT(jobs[0], StartsWith("date,jobs,failed_jobs,"));
  if (builds.back().rfind(today(), 0) != 0) GTEST_SKIP() << "the day changed while the test ran";
  EXPECT_THAT(builds.back(), StartsWith(today() + ",3,2,3,"));
  EXPECT_THAT(jobs.back(), StartsWith(today() + ",3,2,0,3,"));
}

TEST(History, BadArgumentsAreUsageErrors) {
  ActionsHome home;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"history", "--since", "2026-02-30"}, {"history", "--since", "last tuesday"},
        {"history", "--json", "--csv", "x"}}) {
    auto result = home.jobtape(args);
    EXPECT_EQ(result.exitStatus, 2) << args.back();
    EXPECT_THAT(result.err, StartsWith("jobtape: error: "));
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  }
}

std::set<std::string> jobDirs(const fs::path& home) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(home / "jobs")) names.insert(entry.path().filename().string());
  return names;
}

class Gc : public ::testing::TestWithParam<std::string> {};

TEST_P(Gc, KeepsExactlyTheNewestAndDryRunRemovesNothing) {
  ActionsHome home(GetParam());
  for (auto [script, status] : {std::pair{"exit 1", 1}, {"true", 0}, {"exit 2", 2}, {"true", 0}, {"exit 3", 3}}) {
    auto recorded = home.record(script);
    ASSERT_EQ(recorded.exitStatus, status) << recorded.err;
  }
  auto dry = home.jobtape({"gc", "--keep-failed", "1", "--keep-succeeded", "1", "--dry-run"});
  ASSERT_EQ(dry.exitStatus, 0) << dry.err;
  EXPECT_EQ(std::count(dry.out.begin(), dry.out.end(), '\n'), 4) << dry.out;  // 3 jobs + summary
  EXPECT_THAT(dry.out, HasSubstr("would remove 3 jobs"));
  EXPECT_EQ(jobDirs(home.home()).size(), 5u);

  auto real = home.jobtape({"gc", "--keep-failed", "1", "--keep-succeeded", "1"});
  ASSERT_EQ(real.exitStatus, 0) << real.err;
  EXPECT_THAT(real.out, HasSubstr("removed 3 jobs"));
  EXPECT_THAT(real.out, HasSubstr("freed "));

  auto jobs = home.jobs();  // most recent first; opened after the last run
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].status, store::JobStatus::failed);
  EXPECT_EQ(jobs[0].exitCode, 3);
  EXPECT_EQ(jobs[1].status, store::JobStatus::succeeded);
  std::set<std::string> kept = {jobs[0].id, jobs[1].id};
  EXPECT_EQ(jobDirs(home.home()), kept) << "rows and directories agree";
}

TEST_P(Gc, OlderThanKeepsRecentJobs) {
  ActionsHome home(GetParam());
  ASSERT_EQ(home.record("exit 1").exitStatus, 1);
  auto result = home.jobtape({"gc", "--older-than", "7d"});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("removed 0 jobs"));
  EXPECT_EQ(jobDirs(home.home()).size(), 1u);
}

// A recorder killed between creating a job's directory and writing its row
// leaves a directory no selector finds: gc sweeps it once it is an hour old.
TEST(GcLeftovers, AJobDirectoryNoRowNamesGoesOnceItIsAnHourOld) {
  ActionsHome home("");
  ASSERT_EQ(home.record("exit 1").exitStatus, 1);
  auto orphanOf = [&home](int64_t ageMs) {
    int64_t nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
    store::UlidParts parts;
    parts.timeMs = static_cast<uint64_t>(nowMs - ageMs);
    fs::path dir = home.home() / "jobs" / store::formatUlid(parts);
    fs::create_directories(dir / "state" / "tmp");
    std::ofstream(dir / "events.bin.zst") << std::string(5000, 'x');
    return dir;
  };
  fs::path old = orphanOf(2 * 3'600'000);
  fs::path young = orphanOf(60'000);

  auto dry = home.jobtape({"gc", "--dry-run"});
  ASSERT_EQ(dry.exitStatus, 0) << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("would sweep 1 leftover of"));
  EXPECT_TRUE(fs::exists(old));

  auto real = home.jobtape({"gc"});
  ASSERT_EQ(real.exitStatus, 0) << real.err;
  EXPECT_THAT(real.out, HasSubstr("swept 1 leftover of"));
  EXPECT_FALSE(fs::exists(old));
  EXPECT_TRUE(fs::exists(young)) << "it may be a job about to start";
  EXPECT_EQ(home.jobs().size(), 1u);
  EXPECT_EQ(jobDirs(home.home()).size(), 2u);  // the recorded job's and the young one
}

INSTANTIATE_TEST_SUITE_P(Users, Gc, ::testing::ValuesIn(usersToTest()),
                         [](const auto& info) { return userLabel(info.param); });

TEST(GcUsage, BadValuesAreUsageErrors) {
  ActionsHome home;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"gc", "--older-than", "7x"}, {"gc", "--keep-failed", "-1"},
        {"gc", "--keep-succeeded", "many"}}) {
    auto result = home.jobtape(args);
    EXPECT_EQ(result.exitStatus, 2) << args.back();
    EXPECT_THAT(result.err, StartsWith("jobtape: error: "));
  }
}

}  // namespace
}  // namespace jobtape::testing
