// Leases: jobs whose recorder went away read as abandoned, never running.
#include <signal.h>

#include <gtest/gtest.h>

#include "store/home_safety.h"
#include "store/test_support.h"

namespace jobtape::store {
namespace {

using testing::beginTestBuild;
using testing::BuildFixture;
using testing::forkChild;
using testing::runTestJob;
using testing::TempHome;
using testing::waitExit;

struct Recorder {
  pid_t pid = 0;
  std::string buildId;
  std::string jobId;
};

// A real recorder process: opens the store, begins a build and a job,
// reports their ids and then waits forever, as if its job were still running.
Recorder startRecorder(const std::filesystem::path& home, std::optional<std::string> parentJobId = std::nullopt) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe");
  pid_t pid = forkChild([&] {
    close(fds[0]);
    auto store = Store::open(home);
    auto build = beginTestBuild(*store, "/src/app", parentJobId);
    auto job = runTestJob(*store, build, JobStatus::running, "sleep 1000");
    std::string line = build.buildId + job;
    if (write(fds[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(3);
    for (;;) pause();
  });
  close(fds[1]);
  std::string line(52, ' ');
  size_t got = 0;
  while (got < line.size()) {
    ssize_t n = read(fds[0], line.data() + got, line.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fds[0]);
  if (got != line.size()) throw std::runtime_error("recorder did not start");
  return Recorder{pid, line.substr(0, 26), line.substr(26)};
}

TEST(Lease, RecorderKilledMidJobLeavesAnAbandonedJobAndAFailedBuild) {
  TempHome home;
  auto recorder = startRecorder(home.path());
  {
    auto store = Store::open(home.path());
    EXPECT_EQ(store->job(recorder.jobId)->status, JobStatus::running) << "live recorder";
    EXPECT_EQ(store->build(recorder.buildId)->result, std::nullopt);
  }
  ASSERT_EQ(kill(recorder.pid, SIGKILL), 0);
  ASSERT_EQ(waitExit(recorder.pid), 128 + SIGKILL);

  auto store = Store::open(home.path());
  auto job = store->job(recorder.jobId);
  ASSERT_TRUE(job);
  EXPECT_EQ(job->status, JobStatus::abandoned);
  EXPECT_EQ(job->stoppedAtMs, job->heartbeatAtMs);
  EXPECT_EQ(store->build(recorder.buildId)->result, "abandoned");
  auto locked = [&] {
    auto db = sqlite::Database::open(home.path() / kDatabaseName, sqlite::Database::Mode::readWrite);
    return db.queryInt("SELECT count(*) FROM jobs WHERE result IS NULL");
  };
  EXPECT_EQ(locked(), 1) << "readers infer, they do not write";
  EXPECT_EQ(store->reapAbandoned(), 2) << "the job and its build";
  EXPECT_EQ(locked(), 0);
  EXPECT_EQ(store->reapAbandoned(), 0) << "already marked";
  EXPECT_EQ(store->job(recorder.jobId)->status, JobStatus::abandoned);
  EXPECT_EQ(store->build(recorder.buildId)->result, "abandoned");
}

TEST(Lease, StoppedRecorderIsNeverAbandonedHoweverOldItsHeartbeat) {
  TempHome home;
  auto recorder = startRecorder(home.path());
  ASSERT_EQ(kill(recorder.pid, SIGSTOP), 0);
  {
    auto db = sqlite::Database::open(home.path() / kDatabaseName, sqlite::Database::Mode::readWrite);
    db.exec("UPDATE jobs SET heartbeat_at = 0; UPDATE builds SET heartbeat_at = 0");
  }
  auto store = Store::open(home.path());
  EXPECT_EQ(store->job(recorder.jobId)->status, JobStatus::running);
  EXPECT_EQ(store->build(recorder.buildId)->result, std::nullopt);
  EXPECT_EQ(store->reapAbandoned(), 0);
  kill(recorder.pid, SIGKILL);
  waitExit(recorder.pid);
  EXPECT_EQ(store->job(recorder.jobId)->status, JobStatus::abandoned);
}

TEST(Lease, RecorderKilledBeforeItsFirstJobLeavesAnAbandonedBuild) {
  TempHome home;
  pid_t pid = forkChild([&] {
    auto store = Store::open(home.path());
    beginTestBuild(*store, "/src/app");
    kill(getpid(), SIGKILL);
  });
  waitExit(pid);
  auto store = Store::open(home.path());
  auto builds = store->builds(10);
  ASSERT_EQ(builds.size(), 1u);
  EXPECT_EQ(builds[0].result, "abandoned");
  EXPECT_EQ(store->reapAbandoned(), 1);
  EXPECT_EQ(store->build(builds[0].id)->result, "abandoned");
}

TEST(Lease, KilledRecorderNotYetReapedByItsParentCountsAsGone) {
  TempHome home;
  auto recorder = startRecorder(home.path());
  ASSERT_EQ(kill(recorder.pid, SIGKILL), 0);
  // Wait for it to become a zombie without reaping it.
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(recorder.pid), &info, WEXITED | WNOWAIT), 0);
  auto store = Store::open(home.path());
  EXPECT_EQ(store->jobs(JobFilter{JobStatus::abandoned, {}, {}, 20}).size(), 1u);
  EXPECT_TRUE(store->jobs(JobFilter{JobStatus::running, {}, {}, 20}).empty());
  waitExit(recorder.pid);
}

TEST(Lease, AbandonedJobInANestedBuildFailsTheFinishedParent) {
  TempHome home;
  BuildFixture parent;
  std::string parentJob;
  {
    // Closed before the fork: an SQLite connection must not cross fork().
    auto store = Store::open(home.path());
    parent = beginTestBuild(*store);
    parentJob = runTestJob(*store, parent, JobStatus::running);
  }
  auto recorder = startRecorder(home.path(), parentJob);
  auto store = Store::open(home.path());
  store->finishJob(parentJob, JobFinish{JobStatus::succeeded, 0, {}, "exited", {}, false});
  EXPECT_EQ(store->finishBuild(parent.buildId), "succeeded");
  kill(recorder.pid, SIGKILL);
  waitExit(recorder.pid);
  EXPECT_EQ(store->build(recorder.buildId)->result, "abandoned");
  // Carried to the finished parent when a writer stores the abandonment.
  EXPECT_GT(store->reapAbandoned(), 0);
  EXPECT_EQ(store->build(parent.buildId)->result, "failed");
  EXPECT_EQ(store->build(recorder.buildId)->result, "abandoned");
}

class StaleLease : public ::testing::Test {
 protected:
  TempHome home;
  testing::ManualClock clock;
  std::shared_ptr<testing::ScriptedProbe> probe = std::make_shared<testing::ScriptedProbe>();
  std::unique_ptr<SqliteStore> store = openSqliteStore(home.path(), StoreOptions{clock.function(), probe});
};

TEST_F(StaleLease, HeartbeatKeepsAJobRunningAndItsAbsenceAbandonsIt) {
  auto build = beginTestBuild(*store);
  auto id = runTestJob(*store, build, JobStatus::running);
  probe->owner = "other-boot:pid:[2]";  // only the heartbeat counts
  for (int i = 0; i < 30; ++i) {
    clock.advance(kHeartbeatIntervalMs);
    store->heartbeat({id});
    ASSERT_EQ(store->job(id)->status, JobStatus::running);
  }
  int64_t lastHeartbeat = *clock.now;
  clock.advance(kLeaseTimeoutMs);
  EXPECT_EQ(store->job(id)->status, JobStatus::running) << "exactly the timeout is not stale yet";
  clock.advance(1);
  auto row = store->job(id);
  EXPECT_EQ(row->status, JobStatus::abandoned);
  EXPECT_EQ(row->stoppedAtMs, lastHeartbeat);
  EXPECT_EQ(store->build(build.buildId)->result, "abandoned") << "its heartbeat is the job's";
}

TEST_F(StaleLease, StaleHeartbeatOfALiveLocalRecorderIsNotEnough) {
  auto build = beginTestBuild(*store);
  auto id = runTestJob(*store, build, JobStatus::running);
  clock.advance(10 * kLeaseTimeoutMs);
  EXPECT_EQ(store->job(id)->status, JobStatus::running);
  EXPECT_EQ(store->reapAbandoned(), 0);
}

TEST_F(StaleLease, PidOfAnotherMachineOrNamespaceIsNotTrusted) {
  auto build = beginTestBuild(*store);
  auto id = runTestJob(*store, build, JobStatus::running);
  auto recorderPid = store->job(id)->recorderPid;
  probe->gone.insert(recorderPid);
  probe->owner = "other-boot:pid:[2]";  // the reader now lives elsewhere
  EXPECT_EQ(store->job(id)->status, JobStatus::running);
  probe->owner = "test-boot:pid:[1]";
  EXPECT_EQ(store->job(id)->status, JobStatus::abandoned);
}

TEST_F(StaleLease, RecorderThatComesBackStillRecordsItsResult) {
  auto build = beginTestBuild(*store);
  auto id = runTestJob(*store, build, JobStatus::running);
  probe->owner = "other-boot:pid:[2]";  // the reader cannot see the recorder
  clock.advance(kLeaseTimeoutMs + 1);
  EXPECT_EQ(store->reapAbandoned(), 2);
  probe->owner = "test-boot:pid:[1]";
  store->finishJob(id, JobFinish{JobStatus::succeeded, 0, {}, "exited", {}, false});
  EXPECT_EQ(store->job(id)->status, JobStatus::succeeded);
  EXPECT_EQ(store->finishBuild(build.buildId), "succeeded");
}

TEST_F(StaleLease, ReadersSeeNoRunningJobWithoutALease) {
  auto build = beginTestBuild(*store);
  auto alive = runTestJob(*store, build, JobStatus::running);
  auto dead = runTestJob(*store, build, JobStatus::running, "x", 99);
  // The second job's recorder is gone.
  {
    auto locked = store->lockDatabase();
    sqlite::Statement(locked.db, "UPDATE jobs SET recorder_pid = 99999 WHERE id = ?").bind(1, dead).run();
  }
  probe->gone.insert(99999);
  auto running = store->jobs(JobFilter{JobStatus::running, {}, {}, 20});
  ASSERT_EQ(running.size(), 1u);
  EXPECT_EQ(running[0].id, alive);
  EXPECT_EQ(store->job(dead)->status, JobStatus::abandoned);
}

}  // namespace
}  // namespace jobtape::store
