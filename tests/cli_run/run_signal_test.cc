// Stopping `jobtape run`: Ctrl-C and SIGTERM stop the whole sandboxed tree
// and are recorded; SIGKILL leaves nothing running and the job abandoned.
#include <signal.h>

#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "recorder/events/event_reader.h"
#include "tests/cli_run/run_test_support.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct Mode {
  bool sandboxed;
  std::string asUser;  // "" = as we are
};

class RunSignalTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    if (!GetParam().asUser.empty() && !runningAsRoot()) GTEST_SKIP() << "needs root to switch users";
  }
  // Beside the project, not in it: a home the job could write is refused.
  fs::path home() const { return homeDir_.path() / "home"; }
  // `sleep` with an argument no other process has, under a shell, after a
  // line that says the job is up. The shell also leaves a background sleep.
  std::unique_ptr<LiveJobtape> startSleeper(const std::string& seconds) const {
    std::vector<std::string> args = {"run"};
    if (!GetParam().sandboxed) args.push_back("--no-sandbox");
    args.insert(args.end(), {"--", "sh", "-c", "sleep " + seconds + " & echo ready; sleep " + seconds});
    return std::make_unique<LiveJobtape>(home(), args, ProcessOptions{.cwd = dir_.path(), .asUser = GetParam().asUser});
  }
  TempDir dir_, homeDir_;
};

void PrintTo(const Mode& mode, std::ostream* out) {
  *out << (mode.sandboxed ? "sandboxed" : "record-only") << (mode.asUser.empty() ? "" : " as " + mode.asUser);
}

std::string modeName(const ::testing::TestParamInfo<Mode>& info) {
  return std::string(info.param.sandboxed ? "sandboxed" : "recordOnly") +
         (info.param.asUser.empty() ? "" : "_as_" + info.param.asUser);
}

INSTANTIATE_TEST_SUITE_P(Modes, RunSignalTest,
                         ::testing::Values(Mode{true, ""}, Mode{false, ""}, Mode{true, "nobody"},
                                           Mode{false, "nobody"}),
                         modeName);

TEST_P(RunSignalTest, CtrlCStopsTheWholeTreeAndRecordsSignalTwo) {
  std::string seconds = uniqueSleepSeconds();
  auto started = startSleeper(seconds);
  LiveJobtape& jobtape = *started;
  ASSERT_TRUE(jobtape.waitForStdoutLine("ready")) << jobtape.stderrText();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (hostProcessesWithArgument(seconds).size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(hostProcessesWithArgument(seconds).size(), 2u) << "the job's two sleeps are not running";
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
  auto started = startSleeper(seconds);
  LiveJobtape& jobtape = *started;
  ASSERT_TRUE(jobtape.waitForStdoutLine("ready")) << jobtape.stderrText();
  jobtape.signal(SIGTERM);
  auto status = jobtape.wait(std::chrono::seconds(30));
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 128 + SIGTERM);
  EXPECT_TRUE(hostProcessesWithArgument(seconds).empty());
  EXPECT_EQ(onlyJob(home()).signal, SIGTERM);
}

// Only a sandboxed job is tied to jobtape's life (die-with-parent, its own
// pid namespace); a record-only job is a plain child on the host.
class RunKillTest : public RunSignalTest {};

INSTANTIATE_TEST_SUITE_P(Sandboxed, RunKillTest, ::testing::Values(Mode{true, ""}, Mode{true, "nobody"}), modeName);

TEST_P(RunKillTest, SigkillLeavesNothingRunningAndTheJobReadsAbandoned) {
  std::string seconds = uniqueSleepSeconds();
  auto started = startSleeper(seconds);
  LiveJobtape& jobtape = *started;
  ASSERT_TRUE(jobtape.waitForStdoutLine("ready")) << jobtape.stderrText();
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
