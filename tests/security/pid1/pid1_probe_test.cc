// The sandbox's own pid 1 as a job of the real `jobtape run` meets it: its
// memory, descriptors and environment are out of reach, it runs under the
// policy with no privileges, the job holds nothing that talks to the
// supervisor, no process of the job outlives a SIGKILLed jobtape even after
// trying to rewrite pid 1, and the job ends with its main process or its
// timeout. Runs as the caller and again as nobody (meson registers both).
#include <signal.h>

#include <cstdlib>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/cli_run/run_test_support.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

class Pid1Probe : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(buildTree().empty()) << "JOBTAPE_BUILD_ROOT is set by meson";
    probe_ = buildTree() / "tests" / "security" / "pid1" / "pid1_probe";
    ASSERT_TRUE(fs::exists(probe_)) << probe_;
    fs::create_directories(project());
  }
  void TearDown() override {
    for (pid_t pid : hostProcessesWithArgument(token_)) ::kill(pid, SIGKILL);
  }
  fs::path home() const { return dir_.path() / "home"; }
  fs::path project() const { return dir_.path() / "project"; }

  // `jobtape run ARGS... -- ARGV` in the default sandbox; the build tree is
  // bound back in when it lies under /tmp (the job's /tmp is private).
  std::vector<std::string> runArgs(const std::vector<std::string>& argv, std::vector<std::string> options = {}) {
    std::vector<std::string> args = {"run", "--project", project().string()};
    args.insert(args.end(), options.begin(), options.end());
    for (const std::string& bind : buildTreeBinds()) args.push_back(bind);
    args.push_back("--");
    args.insert(args.end(), argv.begin(), argv.end());
    return args;
  }
  ProcessResult runInSandbox(const std::vector<std::string>& argv, std::vector<std::string> options = {}) {
    return runJobtapeToEnd(home(), runArgs(argv, std::move(options)), {.cwd = project()});
  }
  ProcessResult probe(const std::string& mode) { return runInSandbox({probe_.string(), mode}); }

  TempDir dir_;
  fs::path probe_;
  std::string token_ = uniqueSleepSeconds();  // marks this test's processes
};

TEST_F(Pid1Probe, Pid1sMemoryDescriptorsAndEnvironmentAreOutOfReach) {
  ProcessResult ran = probe("reach");
  ASSERT_EQ(ran.exitStatus, 0) << ran.err;
  for (const char* attempt : {"mem-write", "mem-read", "environ", "syscall", "fd-follow", "process_vm_writev",
                              "process_vm_readv", "ptrace-seize", "ptrace-attach", "pidfd_getfd"}) {
    EXPECT_THAT(ran.out, HasSubstr(std::string(attempt) + " refused")) << ran.out;
  }
  EXPECT_THAT(ran.out, Not(HasSubstr("ACHIEVED"))) << ran.out;
}

TEST_F(Pid1Probe, Pid1RunsUnderThePolicyWithoutPrivileges) {
  ProcessResult ran = probe("status");
  ASSERT_EQ(ran.exitStatus, 0) << ran.err;
  EXPECT_THAT(ran.out, HasSubstr("Seccomp:\t2\n")) << ran.out;
  EXPECT_THAT(ran.out, HasSubstr("NoNewPrivs:\t1\n")) << ran.out;
  EXPECT_THAT(ran.out, HasSubstr("CapEff:\t0000000000000000\n")) << ran.out;
  EXPECT_THAT(ran.out, HasSubstr("CapPrm:\t0000000000000000\n")) << ran.out;
  EXPECT_THAT(ran.out, HasSubstr("CapBnd:\t0000000000000000\n")) << ran.out;
}

// A forged report needs the channel; the job holds no descriptor but its
// stdio (that the supervisor ignores a forged one anyway is
// sandbox/supervisor_test).
TEST_F(Pid1Probe, TheJobHoldsNoDescriptorButItsStdio) {
  ProcessResult ran = probe("fds");
  ASSERT_EQ(ran.exitStatus, 0) << ran.err;
  EXPECT_EQ(ran.out, "fds 0 1 2\n");
}

TEST_F(Pid1Probe, NoProcessOfTheJobOutlivesAKilledJobtape) {
  LiveJobtape jobtape(home(), runArgs({probe_.string(), "escape", token_}), ProcessOptions{.cwd = project()});
  ASSERT_TRUE(jobtape.waitForStdoutLine("ready")) << jobtape.stderrText();
  jobtape.signal(SIGKILL);
  ASSERT_TRUE(jobtape.wait(std::chrono::seconds(30)));
  EXPECT_THAT(jobtape.stdoutText(), HasSubstr("hijack refused"));
  EXPECT_TRUE(waitUntilNoProcessWithArgument(token_, std::chrono::seconds(10))) << "the job outlived jobtape";
  EXPECT_FALSE(fs::exists(project() / "escaped")) << "a process of the job ran on after jobtape's death";
}

TEST_F(Pid1Probe, TheJobEndsWithItsMainProcessNotWithItsChildren) {
  ProcessResult ran = runInSandbox({"/bin/sh", "-c", "sleep " + token_ + " & exit 0"}, {"--timeout", "2"});
  EXPECT_EQ(ran.exitStatus, 0) << ran.err;
  EXPECT_THAT(hostProcessesWithArgument(token_), ::testing::IsEmpty()) << "a child outlived the job";
}

TEST_F(Pid1Probe, TheTimeoutStopsAMainProcessThatDoesNotEnd) {
  ProcessResult ran = runInSandbox({"sleep", token_}, {"--timeout", "2"});
  EXPECT_EQ(ran.exitStatus, 124) << ran.err;
  EXPECT_THAT(hostProcessesWithArgument(token_), ::testing::IsEmpty());
}

}  // namespace
}  // namespace jobtape::testing
