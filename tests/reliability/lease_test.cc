// Leases through the real binary: a build whose recorder was killed reads
// as abandoned and goes with gc; a stopped recorder's job is neither
// abandoned nor collected however stale its heartbeat, and records its true
// result when it resumes; a refused run fails its build.
#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/reliability/reliability_support.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

class LeaseTest : public ::testing::Test {
 protected:
  // Beside the project, not in it: a home the job could write is refused.
  fs::path home() const { return homeDir_.path() / "home"; }
  ProcessResult jobtape(const std::vector<std::string>& args, ProcessOptions options = {}) const {
    if (!options.cwd) options.cwd = project_.path();
    return runJobtapeToEnd(home(), args, options);
  }
  std::unique_ptr<LiveJobtape> startWaitingJob(const fs::path& flag) const {
    return std::make_unique<LiveJobtape>(home(), waitingJob(flag), ProcessOptions{.cwd = project_.path()});
  }
  TempDir project_, homeDir_;
};

TEST_F(LeaseTest, BuildWhoseRecorderWasKilledBeforeItsFirstJobIsAbandonedAndCollected) {
  auto live = startWaitingJob(project_.path() / "never");
  ASSERT_TRUE(live->waitForStdoutLine("ready")) << live->stderrText();
  live->signal(SIGKILL);
  ASSERT_EQ(live->wait(), 128 + SIGKILL);
  // What a recorder killed between the build's row and its first job's row
  // leaves: a build with no result and no jobs.
  sqlOn(home(), "DELETE FROM jobs");
  ASSERT_EQ(sqlOn(home(), "SELECT count(*) FROM builds WHERE result IS NULL"), "1\n");

  auto list = jobtape({"build", "list"});
  ASSERT_EQ(list.exitStatus, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("abandoned"));
  EXPECT_THAT(list.out, Not(HasSubstr("running")));
  auto check = jobtape({"build", "check", "--failures", "1"});
  EXPECT_EQ(check.exitStatus, 1) << "an abandoned build counts as failed: " << check.out << check.err;

  auto gc = jobtape({"gc", "--older-than", "0s"});
  ASSERT_EQ(gc.exitStatus, 0) << gc.err;
  EXPECT_EQ(sqlOn(home(), "SELECT count(*) FROM builds"), "0\n") << gc.out;
}

TEST_F(LeaseTest, StoppedRecorderKeepsItsJobThroughGcAndRecordsItsTrueResult) {
  fs::path flag = project_.path() / "go";
  auto live = startWaitingJob(flag);
  ASSERT_TRUE(live->waitForStdoutLine("ready")) << live->stderrText();
  live->signal(SIGSTOP);
  // Its heartbeats stop; make them as old as can be, and the lease short.
  sqlOn(home(), "UPDATE jobs SET heartbeat_at = 0; UPDATE builds SET heartbeat_at = 0");
  ProcessOptions shortLease{.env = {{"JOBTAPE_LEASE_TIMEOUT_MS", "1"}}};

  auto list = jobtape({"job", "list"}, shortLease);
  EXPECT_EQ(list.exitStatus, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("running"));
  EXPECT_THAT(list.out, Not(HasSubstr("abandoned")));
  auto gc = jobtape({"gc", "--keep-failed", "0", "--keep-succeeded", "0", "--older-than", "0s"}, shortLease);
  EXPECT_EQ(gc.exitStatus, 0) << gc.err;
  EXPECT_EQ(sqlOn(home(), "SELECT count(*) FROM jobs WHERE result IS NULL AND deleting = 0"), "1\n") << gc.out;
  EXPECT_EQ(sqlOn(home(), "SELECT count(*) FROM builds WHERE result IS NULL"), "1\n");

  writeFile(flag, "");
  live->signal(SIGCONT);
  EXPECT_EQ(live->wait(), 0) << live->stderrText();
  EXPECT_EQ(sqlOn(home(), "SELECT result FROM jobs"), "succeeded\n");
  EXPECT_EQ(sqlOn(home(), "SELECT result FROM builds"), "succeeded\n");
  auto logs = jobtape({"job", "logs", "last"});
  EXPECT_EQ(logs.exitStatus, 0) << logs.err;
  EXPECT_THAT(logs.out, HasSubstr("done"));
}

TEST_F(LeaseTest, RunRefusedByTheStoreFailsItsBuild) {
  ASSERT_EQ(jobtape({"run", "--", "true"}).exitStatus, 0);
  // The store refuses every new job row, as a full disk would.
  sqlOn(home(), "CREATE TRIGGER refuse_jobs BEFORE INSERT ON jobs BEGIN SELECT RAISE(ABORT, 'no space'); END");
  auto run = jobtape({"run", "--", "true"});
  EXPECT_NE(run.exitStatus, 0);
  sqlOn(home(), "DROP TRIGGER refuse_jobs");
  EXPECT_EQ(sqlOn(home(), "SELECT result FROM builds ORDER BY id DESC LIMIT 1"), "failed\n");
  EXPECT_EQ(sqlOn(home(), "SELECT count(*) FROM builds WHERE result IS NULL"), "0\n");
}

TEST_F(LeaseTest, JobWhoseRecorderDiedAfterItsFinishRecordReadsAsItsEventsFileSays) {
  ASSERT_EQ(jobtape({"run", "--", "sh", "-c", "echo fine"}).exitStatus, 0);
  ASSERT_EQ(jobtape({"run", "--", "sh", "-c", "exit 3"}).exitStatus, 3);
  // What a recorder killed between the events file's finish record and the
  // row's update leaves: rows still running, recorder gone.
  sqlOn(home(), "UPDATE jobs SET result = NULL, stopped_at = NULL, exit_code = NULL, outcome = ''; "
                "UPDATE builds SET result = NULL, stopped_at = NULL");

  auto list = jobtape({"job", "list", "--json"});
  ASSERT_EQ(list.exitStatus, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("\"succeeded\""));
  EXPECT_THAT(list.out, HasSubstr("\"failed\""));
  EXPECT_THAT(list.out, Not(HasSubstr("abandoned")));
  EXPECT_THAT(list.out, Not(HasSubstr("running")));
  EXPECT_EQ(sqlOn(home(), "SELECT count(*) FROM jobs WHERE result IS NULL"), "2\n") << "readers do not write";

  // A writer stores it.
  ASSERT_EQ(jobtape({"gc", "--keep-failed", "10"}).exitStatus, 0);
  EXPECT_EQ(sqlOn(home(), "SELECT result || ' ' || exit_code FROM jobs ORDER BY id"), "succeeded 0\nfailed 3\n");
}

}  // namespace
}  // namespace jobtape::testing
