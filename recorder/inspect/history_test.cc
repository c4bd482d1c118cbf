#include "recorder/inspect/history.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "recorder/inspect/json_testing.h"

namespace jobtape::recorder {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kNov22 = 1'795'305'600'000;  // 2026-11-22T00:00:00Z

store::BuildRow build(std::string id, int64_t startedAt, std::optional<int64_t> durationMs, std::optional<std::string> result) {
  store::BuildRow row;
  row.id = std::move(id);
  row.startedAtMs = startedAt;
  if (durationMs) row.stoppedAtMs = startedAt + *durationMs;
  row.result = std::move(result);
  return row;
}

store::JobRow job(int64_t startedAt, std::optional<int64_t> durationMs, store::JobStatus status) {
  store::JobRow row;
  row.startedAtMs = startedAt;
  if (durationMs) row.stoppedAtMs = startedAt + *durationMs;
  row.status = status;
  return row;
}

TEST(DurationStats, OddCountTakesTheMiddle) {
  auto stats = durationStats({30, 10, 20});
  EXPECT_EQ(stats.count, 3);
  EXPECT_EQ(stats.totalMs, 60);
  EXPECT_EQ(stats.medianMs, 20);
  EXPECT_EQ(stats.maxMs, 30);
}

TEST(DurationStats, EvenCountAveragesTheTwoMiddles) {
  auto stats = durationStats({40, 10, 25, 1000});
  EXPECT_EQ(stats.medianMs, 32);  // (25 + 40) / 2 rounded down
  EXPECT_EQ(stats.maxMs, 1000);
}

TEST(DurationStats, EmptyIsAllZero) {
  auto stats = durationStats({});
  EXPECT_EQ(stats.count, 0);
  EXPECT_EQ(stats.medianMs, 0);
}

TEST(AggregateHistory, CountsPerDayOldestFirst) {
  std::vector<store::BuildRow> builds = {
      build("B3", kNov22 + kDay + 5000, 4000, "succeeded"),
      build("B2", kNov22 + 7200'000, 1000, "failed"),
      build("B1", kNov22 + 3600'000, 3000, "succeeded"),
  };
  std::vector<store::JobRow> jobs = {
      job(kNov22 + kDay + 6000, 100, store::JobStatus::succeeded),
      job(kNov22 + 7200'000, 500, store::JobStatus::failed),
      job(kNov22 + 7200'100, 300, store::JobStatus::abandoned),
      job(kNov22 + 3600'000, 200, store::JobStatus::succeeded),
      job(kNov22 + 3600'500, std::nullopt, store::JobStatus::running),
  };
  auto days = aggregateHistory(builds, jobs, std::nullopt, utcDay);
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0].date, "2026-11-22");
  EXPECT_EQ(days[0].builds, 2);
  EXPECT_EQ(days[0].failedBuilds, 1);
  EXPECT_EQ(days[0].buildDurations.totalMs, 4000);
  EXPECT_EQ(days[0].jobs, 4);
  EXPECT_EQ(days[0].failedJobs, 2);
  EXPECT_EQ(days[0].abandonedJobs, 1);
  EXPECT_EQ(days[0].jobDurations.count, 3);  // the running one has no duration yet
  EXPECT_EQ(days[0].jobDurations.totalMs, 1000);
  EXPECT_EQ(days[0].jobDurations.medianMs, 300);
  EXPECT_EQ(days[0].jobDurations.maxMs, 500);
  EXPECT_EQ(days[1].date, "2026-11-23");
  EXPECT_EQ(days[1].builds, 1);
  EXPECT_EQ(days[1].jobs, 1);
}

TEST(AggregateHistory, SinceDropsEarlierDays) {
  std::vector<store::BuildRow> builds = {build("B2", kNov22 + kDay, 10, "failed"), build("B1", kNov22, 10, "failed")};
  auto days = aggregateHistory(builds, {}, kNov22 + kDay, utcDay);
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(days[0].date, "2026-11-23");
}

TEST(ParseSince, AcceptsDatesAndAges) {
  int64_t now = kNov22 + 12 * 3600'000;
  auto date = parseSince("2026-11-20", now);
  ASSERT_TRUE(date);
  EXPECT_EQ(localDay(*date), "2026-11-20");
  EXPECT_EQ(localDay(*date - 1), "2026-11-19");  // local midnight exactly
  EXPECT_EQ(parseSince("7d", now), now - 7 * kDay);
  EXPECT_EQ(parseSince("12h", now), now - 12 * 3600'000);
}

TEST(ParseSince, RefusesWhatIsNotADate) {
  int64_t now = kNov22;
  for (const char* bad : {"", "yesterday", "2026-02-30", "2026-13-01", "2026-1-01", "26-11-22", "2026-11-22x",
                          "-7d", "7 days", "d"}) {
    EXPECT_FALSE(parseSince(bad, now)) << bad;
  }
}

TEST(HistoryJson, ParsesWithTheCounts) {
  DayStats day;
  day.date = "2026-11-22";
  day.builds = 3;
  day.failedBuilds = 1;
  day.jobs = 7;
  day.failedJobs = 2;
  day.jobDurations = durationStats({100, 200, 300});
  auto text = historyJson({day});
  jobtape::testing::ParsedJson parsed(text);
  auto days = jobtape::testing::member(parsed.root(), "days");
  ASSERT_TRUE(days);
  ASSERT_EQ(days->getArray().size(), 1u);
  auto first = days->getArray()[0];
  EXPECT_EQ(jobtape::testing::stringMember(first, "date"), "2026-11-22");
  EXPECT_EQ(jobtape::testing::numberMember(first, "builds"), 3);
  EXPECT_EQ(jobtape::testing::numberMember(first, "failed_builds"), 1);
  EXPECT_EQ(jobtape::testing::numberMember(first, "jobs"), 7);
  EXPECT_EQ(jobtape::testing::numberMember(first, "failed_jobs"), 2);
  auto durations = jobtape::testing::member(first, "job_duration");
  ASSERT_TRUE(durations);
  EXPECT_EQ(jobtape::testing::numberMember(*durations, "median_ms"), 200);
  EXPECT_EQ(jobtape::testing::numberMember(*durations, "total_ms"), 600);
}

TEST(HistoryCsv, OneHeaderThenOneLinePerDay) {
  DayStats a, b;
  a.date = "2026-11-22";
  a.builds = 2;
  a.failedBuilds = 1;
  a.buildDurations = durationStats({1000, 3000});
  a.jobs = 4;
  a.failedJobs = 1;
  a.jobDurations = durationStats({10, 20, 30, 40});
  b.date = "2026-11-23";
  auto builds = historyBuildsCsv({a, b});
  EXPECT_EQ(builds,
            "date,builds,failed_builds,finished_builds,total_duration_ms,median_duration_ms,max_duration_ms\r\n"
            "2026-11-22,2,1,2,4000,2000,3000\r\n"
            "2026-11-23,0,0,0,0,0,0\r\n");
  auto jobs = historyJobsCsv({a});
  EXPECT_THAT(jobs, HasSubstr("\r\n2026-11-22,4,1,0,4,100,25,40\r\n"));
}

}  // namespace
}  // namespace jobtape::recorder
