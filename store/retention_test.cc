// gc: which jobs go, their directories with them, and crash recovery.
#include "store/retention.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/job_removal.h"
#include "store/test_support.h"
#include "store/ulid.h"

namespace jobtape::store {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;
using testing::TempHome;

namespace fs = std::filesystem;
constexpr int64_t kDay = 86'400'000;

class RetentionTest : public ::testing::Test {
 protected:
  TempHome home;
  testing::ManualClock clock;
  std::shared_ptr<testing::ScriptedProbe> probe = std::make_shared<testing::ScriptedProbe>();
  std::unique_ptr<SqliteStore> store = openSqliteStore(home.path(), StoreOptions{clock.function(), probe});

  // Per day: one build with a failed and a succeeded job, each with a
  // directory holding an events file and some kept state.
  struct Day {
    std::string build, failed, succeeded;
  };
  std::vector<Day> days;
  std::string running;
  std::string runningBuild;

  std::string job(const testing::BuildFixture& build, JobStatus status) {
    auto id = testing::runTestJob(*store, build, JobStatus::running);
    fs::create_directories(store->jobDir(id) / "state" / "tmp");
    testing::writeFile(store->jobDir(id) / "events.bin.zst", std::string(10'000, 'e'));
    testing::writeFile(store->jobDir(id) / "state" / "tmp" / "out.o", std::string(5'000, 'o'));
    clock.advance(1000);
    store->finishJob(id, JobFinish{status, status == JobStatus::succeeded ? 0 : 1, {}, "exited", {}, false});
    return id;
  }

  void recordThreeDays() {
    auto runningFixture = testing::beginTestBuild(*store);
    runningBuild = runningFixture.buildId;
    running = testing::runTestJob(*store, runningFixture, JobStatus::running);
    fs::create_directories(store->jobDir(running));
    for (int day = 0; day < 3; ++day) {
      auto build = testing::beginTestBuild(*store);
      Day d{build.buildId, job(build, JobStatus::failed), job(build, JobStatus::succeeded)};
      store->finishBuild(build.buildId);
      days.push_back(d);
      clock.advance(kDay);
    }
    store->heartbeat({running});  // its recorder is alive and well
  }

  std::vector<std::string> remainingJobs() {
    std::vector<std::string> ids;
    for (const auto& row : store->jobs(JobFilter{{}, {}, {}, 0})) ids.push_back(row.id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  std::vector<std::string> jobDirs() {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(home.path() / "jobs")) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  // job_counts (kept by triggers) agrees with the rows readers see.
  void expectCountsMatchRows() {
    auto rows = store->jobs(JobFilter{{}, {}, {}, 0});
    int64_t failed = 0;
    for (const auto& row : rows) failed += row.status == JobStatus::failed || row.status == JobStatus::abandoned;
    EXPECT_EQ(store->countJobs(JobKind::any), static_cast<int64_t>(rows.size()));
    EXPECT_EQ(store->countJobs(JobKind::failed), failed);
  }

  static std::vector<std::string> removedIds(const GcReport& report) {
    std::vector<std::string> ids;
    for (const auto& job : report.jobs) ids.push_back(job.id);
    return ids;
  }
};

TEST_F(RetentionTest, KeepsTheLastNOfEachKind) {
  recordThreeDays();
  uint64_t expectedBytes = diskUsage(store->jobDir(days[0].failed)) + diskUsage(store->jobDir(days[1].failed)) +
                           diskUsage(store->jobDir(days[0].succeeded));
  auto report = collectGarbage(*store, RetentionPolicy{1, 2, {}, false});
  EXPECT_THAT(removedIds(report), ElementsAre(days[1].failed, days[0].succeeded, days[0].failed));
  EXPECT_EQ(report.bytesFreed, expectedBytes);
  EXPECT_GT(report.bytesFreed, 30'000u);
  EXPECT_EQ(report.jobs[0].dir, store->jobDir(days[1].failed));
  EXPECT_EQ(report.jobs[0].status, JobStatus::failed);
  EXPECT_TRUE(report.builds.empty()) << "only an age limit removes builds";

  std::vector<std::string> kept = {days[2].failed, days[1].succeeded, days[2].succeeded, running};
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(remainingJobs(), kept);
  EXPECT_EQ(jobDirs(), kept);
  expectCountsMatchRows();
}

TEST_F(RetentionTest, DropsWhatIsOlderThanTheLimitWithItsEmptyBuilds) {
  recordThreeDays();
  auto report = collectGarbage(*store, RetentionPolicy{{}, {}, std::chrono::hours(36), false});
  EXPECT_THAT(removedIds(report),
              UnorderedElementsAre(days[0].failed, days[0].succeeded, days[1].failed, days[1].succeeded));
  EXPECT_THAT(report.builds, UnorderedElementsAre(days[0].build, days[1].build));
  EXPECT_FALSE(store->build(days[0].build));
  EXPECT_TRUE(store->projects(days[0].build).empty());
  EXPECT_TRUE(store->build(days[2].build));
  EXPECT_TRUE(store->build(runningBuild));
  std::vector<std::string> kept = {days[2].failed, days[2].succeeded, running};
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(remainingJobs(), kept);
  EXPECT_EQ(jobDirs(), kept);
}

TEST_F(RetentionTest, DryRunReportsTheSameAndRemovesNothing) {
  recordThreeDays();
  auto before = remainingJobs();
  auto dirsBefore = jobDirs();
  RetentionPolicy policy{1, 2, std::chrono::hours(36), true};
  auto dry = collectGarbage(*store, policy);
  EXPECT_TRUE(dry.dryRun);
  EXPECT_EQ(remainingJobs(), before);
  EXPECT_EQ(jobDirs(), dirsBefore);
  EXPECT_TRUE(store->build(days[0].build));

  policy.dryRun = false;
  auto real = collectGarbage(*store, policy);
  EXPECT_EQ(removedIds(dry), removedIds(real));
  EXPECT_EQ(dry.bytesFreed, real.bytesFreed);
  EXPECT_EQ(dry.builds, real.builds);
  EXPECT_THAT(real.builds, UnorderedElementsAre(days[0].build, days[1].build));
}

TEST_F(RetentionTest, NeverTouchesRunningJobs) {
  recordThreeDays();
  auto report = collectGarbage(*store, RetentionPolicy{0, 0, std::chrono::milliseconds(0), false});
  EXPECT_EQ(report.jobs.size(), 6u);
  EXPECT_EQ(remainingJobs(), std::vector<std::string>{running});
  EXPECT_EQ(jobDirs(), std::vector<std::string>{running});
  EXPECT_TRUE(store->build(runningBuild));
}

TEST_F(RetentionTest, AbandonedJobsAreFailedJobs) {
  recordThreeDays();
  probe->gone.insert(store->job(running)->recorderPid);  // the running job's recorder died
  auto report = collectGarbage(*store, RetentionPolicy{0, {}, {}, false});
  EXPECT_EQ(report.jobs.size(), 4u);
  EXPECT_EQ(report.jobs.front().id, days[2].failed);
  EXPECT_FALSE(store->job(running));
  expectCountsMatchRows();
}

TEST_F(RetentionTest, InterruptedRemovalIsHiddenAndFinishedByTheNextGc) {
  recordThreeDays();
  auto marked = days[0].failed;
  auto renamed = days[0].succeeded;
  // A gc died after marking both rows and moving one directory to the trash.
  {
    auto locked = store->lockDatabase();
    sqlite::Statement(locked.db, "UPDATE jobs SET deleting = 1 WHERE id IN (?, ?)").bind(1, marked).bind(2, renamed).run();
  }
  fs::rename(store->jobDir(renamed), home.path() / "jobs" / (".trash-" + renamed));
  // And another left only trash behind.
  fs::create_directories(home.path() / "jobs" / ".trash-01ARYZ6S41TSV4RRFFQ69G5FAV" / "x");

  EXPECT_FALSE(store->job(marked)) << "a row being deleted is not shown";
  EXPECT_FALSE(store->job(renamed));
  EXPECT_EQ(store->jobs(JobFilter{{}, {}, {}, 0}).size(), 5u);
  expectCountsMatchRows();

  auto dry = collectGarbage(*store, RetentionPolicy{{}, {}, {}, true});
  EXPECT_EQ(dry.leftoversSwept, 4);  // two rows, two trash directories
  auto report = collectGarbage(*store, RetentionPolicy{});
  EXPECT_EQ(report.leftoversSwept, 3);  // the renamed row's trash went with its row
  EXPECT_TRUE(report.jobs.empty());
  EXPECT_GT(report.bytesFreed, 0u);
  for (const auto& name : jobDirs()) EXPECT_FALSE(name.starts_with(".trash-")) << name;
  EXPECT_FALSE(fs::exists(store->jobDir(marked)));
  auto locked = store->lockDatabase();
  EXPECT_EQ(locked.db.queryInt("SELECT count(*) FROM jobs WHERE deleting != 0"), 0);
  EXPECT_EQ(locked.db.queryInt("SELECT count(*) FROM jobs"), 5);
}

// A recorder that died between creating a job's directory and writing its
// row leaves a directory no selector finds; gc removes it once it is an hour
// old (a younger one may be a job about to start).
TEST_F(RetentionTest, SweepsJobDirectoriesNoRowNamesOnceTheyAreAnHourOld) {
  recordThreeDays();
  auto orphan = [this](int64_t ageMs) {
    UlidParts parts;
    parts.timeMs = static_cast<uint64_t>(*clock.now - ageMs);
    parts.random[9] = static_cast<uint8_t>(ageMs % 251);
    fs::path dir = home.path() / "jobs" / formatUlid(parts);
    fs::create_directories(dir / "state" / "tmp");
    testing::writeFile(dir / "events.bin.zst", std::string(10'000, 'e'));
    return dir;
  };
  fs::path old = orphan(2 * 3'600'000);
  fs::path young = orphan(10 * 60'000);
  auto kept = remainingJobs();

  auto dry = collectGarbage(*store, RetentionPolicy{{}, {}, {}, true});
  EXPECT_EQ(dry.leftoversSwept, 1);
  EXPECT_TRUE(fs::exists(old));

  auto report = collectGarbage(*store, RetentionPolicy{});
  EXPECT_EQ(report.leftoversSwept, 1);
  EXPECT_GE(report.bytesFreed, 10'000u);
  EXPECT_FALSE(fs::exists(old));
  EXPECT_TRUE(fs::exists(young));
  EXPECT_EQ(remainingJobs(), kept);
  for (const auto& id : kept) EXPECT_TRUE(fs::exists(store->jobDir(id))) << id;

  clock.advance(3'600'000);
  EXPECT_EQ(collectGarbage(*store, RetentionPolicy{}).leftoversSwept, 1);
  EXPECT_FALSE(fs::exists(young));
  EXPECT_EQ(remainingJobs(), kept);
}

TEST_F(RetentionTest, RemovesStateWithoutPermissions) {
  recordThreeDays();
  auto locked = store->jobDir(days[0].failed) / "state" / "locked";
  fs::create_directories(locked / "inner");
  testing::writeFile(locked / "inner" / "f", "x");
  fs::permissions(locked / "inner", fs::perms::none);
  fs::permissions(locked, fs::perms::owner_read);
  collectGarbage(*store, RetentionPolicy{0, {}, {}, false});
  EXPECT_FALSE(fs::exists(store->jobDir(days[0].failed)));
}

TEST_F(RetentionTest, RejectsNegativeLimits) {
  EXPECT_THROW(collectGarbage(*store, RetentionPolicy{-1, {}, {}, false}), std::invalid_argument);
  EXPECT_THROW(collectGarbage(*store, RetentionPolicy{{}, -1, {}, false}), std::invalid_argument);
  EXPECT_THROW(collectGarbage(*store, RetentionPolicy{{}, {}, std::chrono::milliseconds(-1), false}),
               std::invalid_argument);
}

TEST(ParseAge, UnitsAndGarbage) {
  using std::chrono::milliseconds;
  EXPECT_EQ(parseAge("90s"), milliseconds(90'000));
  EXPECT_EQ(parseAge("15m"), milliseconds(900'000));
  EXPECT_EQ(parseAge("12h"), milliseconds(43'200'000));
  EXPECT_EQ(parseAge("30d"), milliseconds(30 * kDay));
  EXPECT_EQ(parseAge("30"), milliseconds(30 * kDay));
  EXPECT_EQ(parseAge("2w"), milliseconds(14 * kDay));
  EXPECT_EQ(parseAge("0d"), milliseconds(0));
  for (const char* bad : {"", "d", "-1d", "3x", "1.5d", "99999999999999999w", " 3d", "3d "}) {
    EXPECT_EQ(parseAge(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace jobtape::store
