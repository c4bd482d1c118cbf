// Stopping `jobtape run`: Ctrl-C and SIGTERM stop the whole sandboxed tree
// and are recorded; SIGKILL leaves nothing running and the job abandoned.
#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "recorder/event_reader.h"
#include "tests/cli_run/run_test_support.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class RunSignalTest : public ::testing::TestWithParam<bool> {
 protected:
  fs::path home() const { return dir_.path() / "home"; }
  // `sleep` with an argument no other process has, under a shell, after a
  // line that says the job is up. The shell also leaves a background sleep.
  std::vector<std::string> sleeperArgs(const std::string& seconds) const {
    std::vector<std::string> args = {"run"};
    if (!GetParam()) args.push_back("--no-sandbox");
    args.insert(args.end(), {"--", "sh", "-c", "sleep " + seconds + " & echo ready; sleep " + seconds});
    return args;
  }
  TempDir dir_;
};

INSTANTIATE_TEST_SUITE_P(SandboxedAndRecordOnly, RunSignalTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "sandboxed" : "recordOnly"; });

TEST_P(RunSignalTest, CtrlCStopsTheWholeTreeAndRecordsSignalTwo) {
  std::string seconds = uniqueSleepSeconds();
  LiveJobtape jobtape(home(), sleeperArgs(seconds), dir_.path());
  ASSERT_TRUE(jobtape.waitForStdoutLine("ready"));
  EXPECT_EQ(hostProcessesWithArgument(seconds).size(), 2u);
  jobtape.signal(SIGINT);
  auto status = jobtape.wait(std::chrono::seconds(30));
  ASSERT_TRUE(status) << "jobtape did not exit after SIGINT";
  EXPECT_EQ(*status, 130);
  EXPECT_TRUE(hostProcessesWithArgument(seconds).empty()) << "a sleep of the job survived jobtape";

  auto row = onlyJob(home());
  EXPECT_EQ(row.status, store::JobStatus::failed);
  EXPECT_EQ(row.signal, SIGINT);
  EXPECT_EQ(row.exitCode, 130);
  EXPECT_EQ(row.outcome, "cancelled");
  EXPECT_THAT(jobtape.stderrText(), HasSubstr("failed (stopped by SIGINT)"));
  auto build = openStoreAt(home())->build(row.buildId);
  EXPECT_EQ(build->result, "failed");
}

TEST_P(RunSignalTest, SigtermIsRecordedLikeCtrlC) {
  std::string seconds = uniqueSleepSeconds();
  LiveJobtape jobtape(home(), sleeperArgs(seconds), dir_.path());
  ASSERT_TRUE(jobtape.waitForStdoutLine("ready"));
  jobtape.signal(SIGTERM);
  auto status = jobtape.wait(std::chrono::seconds(30));
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 128 + SIGTERM);
  EXPECT_TRUE(hostProcessesWithArgument(seconds).empty());
  EXPECT_EQ(onlyJob(home()).signal, SIGTERM);
}

TEST_P(RunSignalTest, SigkillLeavesNothingRunningAndTheJobReadsAbandoned) {
  if (!GetParam()) GTEST_SKIP() << "record-only jobs are not isolated: nothing ties them to jobtape's life";
  std::string seconds = uniqueSleepSeconds();
  LiveJobtape jobtape(home(), sleeperArgs(seconds), dir_.path());
  ASSERT_TRUE(jobtape.waitForStdoutLine("ready"));
  jobtape.signal(SIGKILL);
  auto status = jobtape.wait(std::chrono::seconds(30));
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 128 + SIGKILL);
  EXPECT_TRUE(waitUntilNoProcessWithArgument(seconds)) << "the job outlived its recorder";

  auto row = onlyJob(home());  // reaps first, as every reader does
  EXPECT_EQ(row.status, store::JobStatus::abandoned);
  // Everything written before the kill is readable.
  auto reader = recorder::EventReader::open(fs::path(row.localPath) / "events.bin.zst");
  EXPECT_EQ(reader->description().jobId, row.id);
}

}  // namespace
}  // namespace jobtape::testing
