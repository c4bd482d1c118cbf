// `jobtape run --no-sandbox`: the job runs on the host, yet no process of it
// outlives its main process or a SIGKILLed jobtape, whatever it does to
// itself (setsid, double fork, cleared death signals). Runs as the caller
// and again as nobody (meson registers both).
#include <signal.h>

#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/cli_run/run_test_support.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;

class RecordOnly : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(buildTree().empty()) << "JOBTAPE_BUILD_ROOT is set by meson";
    probe_ = buildTree() / "tests" / "security" / "record_only" / "record_only_probe";
    ASSERT_TRUE(fs::exists(probe_)) << probe_;
    fs::create_directories(project());
  }
  void TearDown() override {
    for (pid_t pid : hostProcessesWithArgument(token_)) ::kill(pid, SIGKILL);
  }
  fs::path home() const { return dir_.path() / "home"; }
  fs::path project() const { return dir_.path() / "project"; }
  std::vector<std::string> runArgs(const std::vector<std::string>& argv) {
    std::vector<std::string> args = {"run", "--no-sandbox", "--project", project().string(), "--"};
    args.insert(args.end(), argv.begin(), argv.end());
    return args;
  }

  // "ready" may come before the sleep has been exec'd.
  bool sleepIsRunning() {
    for (int i = 0; i < 1000; ++i) {
      if (!hostProcessesWithArgument(token_).empty()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  TempDir dir_;
  fs::path probe_;
  std::string token_ = uniqueSleepSeconds();  // marks this test's processes
};

TEST_F(RecordOnly, APlainChildDiesWithAKilledJobtape) {
  LiveJobtape jobtape(home(), runArgs({"/bin/sh", "-c", "sleep " + token_ + " & echo ready; wait"}),
                      ProcessOptions{.cwd = project()});
  ASSERT_TRUE(jobtape.waitForStdoutLine("ready")) << jobtape.stderrText();
  ASSERT_TRUE(sleepIsRunning()) << "the job's sleep never started";
  jobtape.signal(SIGKILL);
  ASSERT_TRUE(jobtape.wait(std::chrono::seconds(30)));
  EXPECT_TRUE(waitUntilNoProcessWithArgument(token_, std::chrono::seconds(10))) << "the job outlived jobtape";
}

TEST_F(RecordOnly, ADaemonDiesWithAKilledJobtape) {
  LiveJobtape jobtape(home(), runArgs({probe_.string(), token_, "wait"}), ProcessOptions{.cwd = project()});
  ASSERT_TRUE(jobtape.waitForStdoutLine("ready")) << jobtape.stderrText();
  ASSERT_TRUE(sleepIsRunning()) << "the daemon never started";
  jobtape.signal(SIGKILL);
  ASSERT_TRUE(jobtape.wait(std::chrono::seconds(30)));
  EXPECT_TRUE(waitUntilNoProcessWithArgument(token_, std::chrono::seconds(10)))
      << "a daemon of the job outlived jobtape";
}

TEST_F(RecordOnly, ADaemonEndsWithTheJob) {
  ProcessResult ran = runJobtapeToEnd(home(), runArgs({probe_.string(), token_}), {.cwd = project()});
  ASSERT_EQ(ran.exitStatus, 0) << ran.err;
  EXPECT_EQ(ran.out, "ready\n");
  EXPECT_TRUE(waitUntilNoProcessWithArgument(token_, std::chrono::seconds(10)))
      << "a daemon of the job outlived it";
}

// No isolation beyond that: the host's files and the caller's identity.
TEST_F(RecordOnly, TheJobStillRunsOnTheHostAsTheCaller) {
  ProcessResult ran = runJobtapeToEnd(
      home(), runArgs({"/bin/sh", "-c", "id -u; touch " + (project() / "made").string() + "; cat /proc/1/comm"}),
      {.cwd = project()});
  ASSERT_EQ(ran.exitStatus, 0) << ran.err;
  EXPECT_TRUE(fs::exists(project() / "made"));
  EXPECT_THAT(ran.out, ::testing::StartsWith(std::to_string(::getuid()) + "\n")) << ran.out;
}

}  // namespace
}  // namespace jobtape::testing
