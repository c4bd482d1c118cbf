// `jobtape job debug-shell [SEL] -- COMMAND`: the command runs in the failed
// job's sandbox as the job left it. Each case runs as the caller and, under
// root, as `nobody`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "tests/cli_actions/actions_fixture.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A job that leaves traces in its private /tmp and fails.
constexpr const char* kFailingJob =
    "echo left by the job > /tmp/marker; id -u > /tmp/uid; pwd > /tmp/pwd; echo building; exit 3";

class DebugShell : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    home_ = std::make_unique<ActionsHome>(GetParam());
    auto recorded = home_->record(kFailingJob);
    ASSERT_EQ(recorded.exitStatus, 3) << recorded.err;
  }
  ProcessResult shell(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"job", "debug-shell"};
    all.insert(all.end(), args.begin(), args.end());
    return home_->jobtape(all);
  }
  std::unique_ptr<ActionsHome> home_;
};

TEST_P(DebugShell, SeesWhatTheJobLeftInItsPrivateTmp) {
  auto result = shell({"--", "cat", "/tmp/marker"});
  EXPECT_EQ(result.exitStatus, 0) << result.err;
  EXPECT_EQ(result.out, "left by the job\n");
  // One line on stderr says where we are and what is real.
  EXPECT_THAT(result.err, StartsWith("jobtape: running a command in the sandbox of job "));
  EXPECT_THAT(result.err, HasSubstr("changes under " + home_->project().string() + " are real"));
  std::ifstream host("/tmp/marker");
  std::string hostText;
  std::getline(host, hostText);
  EXPECT_NE(hostText, "left by the job") << "the job's /tmp is private, not the host's";
}

TEST_P(DebugShell, RunsInTheJobsWorkDirAsTheJobsUid) {
  auto result = shell({"--", "sh", "-c", "pwd; cat /tmp/pwd; id -u; cat /tmp/uid"});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  auto out = lines(result.out);
  ASSERT_EQ(out.size(), 4u) << result.out;
  EXPECT_EQ(out[0], home_->project().string());
  EXPECT_EQ(out[0], out[1]);
  EXPECT_EQ(out[2], out[3]) << "id -u inside matches what the job saw";
}

TEST_P(DebugShell, NetworkIsStillIsolated) {
  auto result = shell({"--", "cat", "/proc/net/dev"});
  ASSERT_EQ(result.exitStatus, 0) << result.err;
  auto out = lines(result.out);
  ASSERT_GE(out.size(), 3u) << result.out;
  std::set<std::string> interfaces;
  for (size_t i = 2; i < out.size(); ++i) {
    auto name = out[i].substr(0, out[i].find(':'));
    name.erase(0, name.find_first_not_of(' '));
    interfaces.insert(name);
  }
  EXPECT_EQ(interfaces, std::set<std::string>{"lo"});
}

TEST_P(DebugShell, ExitsWithTheCommandsStatus) {
  EXPECT_EQ(shell({"--", "sh", "-c", "exit 7"}).exitStatus, 7);
  auto missing = shell({"--", "no-such-command-here"});
  EXPECT_EQ(missing.exitStatus, 127);
  EXPECT_THAT(missing.err, HasSubstr("command not found"));
}

TEST_P(DebugShell, ChangesToTmpStayInTheKeptState) {
  ASSERT_EQ(shell({"--", "sh", "-c", "echo second visit >> /tmp/marker"}).exitStatus, 0);
  auto again = shell({"--", "cat", "/tmp/marker"});
  EXPECT_EQ(again.out, "left by the job\nsecond visit\n");
}

TEST_P(DebugShell, ReadsAShellScriptFromAPipeWithoutATerminal) {
  ProcessOptions options;
  options.stdinText = "cat /tmp/marker\nexit 4\n";
  auto result = home_->jobtape({"job", "debug-shell"}, options);
  EXPECT_EQ(result.exitStatus, 4) << result.err;
  EXPECT_EQ(result.out, "left by the job\n");
  EXPECT_THAT(result.err, HasSubstr("debug shell ("));
}

TEST_P(DebugShell, SelectsByIdAndByTheStoresEventsFile) {
  auto jobs = home_->jobs();
  ASSERT_EQ(jobs.size(), 1u);
  auto byId = shell({jobs[0].id.substr(0, 10), "--", "cat", "/tmp/marker"});
  EXPECT_EQ(byId.out, "left by the job\n") << byId.err;
  auto byPath = shell({(fs::path(jobs[0].localPath) / "events.bin.zst").string(), "--", "cat", "/tmp/marker"});
  EXPECT_EQ(byPath.out, "left by the job\n") << byPath.err;
}

TEST_P(DebugShell, RefusesAnEventsFileFromOutsideTheStore) {
  auto jobs = home_->jobs();
  ASSERT_EQ(jobs.size(), 1u);
  auto copy = home_->scratch() / "copied.events.bin.zst";
  fs::copy_file(fs::path(jobs[0].localPath) / "events.bin.zst", copy);
  ::chmod(copy.c_str(), 0644);
  auto result = shell({copy.string(), "--", "cat", "/tmp/marker"});
  EXPECT_EQ(result.exitStatus, 1);
  EXPECT_THAT(result.err, StartsWith("jobtape: error: "));
  EXPECT_THAT(result.err, HasSubstr("not the events file of a job in this store"));
  EXPECT_EQ(result.out, "");
}

TEST_P(DebugShell, RefusesASucceededJob) {
  ASSERT_EQ(home_->record("true").exitStatus, 0);
  auto result = shell({"last", "--", "true"});
  EXPECT_EQ(result.exitStatus, 1);
  EXPECT_THAT(result.err, StartsWith("jobtape: error: job "));
  EXPECT_THAT(result.err, HasSubstr("succeeded and its sandbox state was not kept"));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

TEST_P(DebugShell, EntersASucceededJobRunWithKeep) {
  ASSERT_EQ(home_->record("echo kept > /tmp/kept", {"--keep"}).exitStatus, 0);
  auto result = shell({"last", "--", "cat", "/tmp/kept"});
  EXPECT_EQ(result.exitStatus, 0) << result.err;
  EXPECT_EQ(result.out, "kept\n");
}

INSTANTIATE_TEST_SUITE_P(Users, DebugShell, ::testing::ValuesIn(usersToTest()),
                         [](const auto& info) { return userLabel(info.param); });

TEST(DebugShellUsage, BadArgumentsAreUsageErrors) {
  ActionsHome home;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"job", "debug-shell", "a", "b"}, {"job", "debug-shell", "--bogus"},
        {"job", "debug-shell", "--"}, {"job", "debug-shell", "x", "--"}}) {
    auto result = home.jobtape(args);
    EXPECT_EQ(result.exitStatus, 2) << args.back() << ": " << result.err;
    EXPECT_THAT(result.err, StartsWith("jobtape: error: "));
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  }
}

TEST(DebugShellUsage, NothingRecordedSaysSo) {
  ActionsHome home;
  auto result = home.jobtape({"job", "debug-shell", "--", "true"});
  EXPECT_EQ(result.exitStatus, 1);
  EXPECT_THAT(result.err, StartsWith("jobtape: error: "));
}

}  // namespace
}  // namespace jobtape::testing
