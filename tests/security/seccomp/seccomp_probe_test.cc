// The policy as a job meets it: every probe of sandbox/syscall_probes.h run
// inside the real `jobtape run` gets the policy's answer; 32-bit and x32
// system calls end the job as a violation; no descriptor of the caller, no
// host loopback service and no host process reaches the job. Runs as the
// caller and again as nobody (meson registers both).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/cli_run/run_test_support.h"
#include "tests/common/jobtape_process.h"

namespace jobtape::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

std::map<std::string, int> probeAnswers(const std::string& text) {
  std::map<std::string, int> answers;
  std::istringstream lines(text);
  std::string name;
  int value;
  while (lines >> name >> value) answers[name] = value;
  return answers;
}

class SeccompProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(buildTree().empty()) << "JOBTAPE_BUILD_ROOT is set by meson";
    trySyscall_ = buildTree() / "sandbox" / "try_syscall";
    escapeProbe_ = buildTree() / "tests" / "security" / "seccomp" / "escape_probe";
    ASSERT_TRUE(fs::exists(trySyscall_)) << trySyscall_;
    ASSERT_TRUE(fs::exists(escapeProbe_)) << escapeProbe_;
    fs::create_directories(project());
  }
  fs::path home() const { return dir_.path() / "home"; }
  fs::path project() const { return dir_.path() / "project"; }

  // `jobtape run` of `argv` in the default sandbox; the build tree is bound
  // back in when it lies under /tmp (the job's /tmp is private).
  ProcessResult runInSandbox(const std::vector<std::string>& argv, std::vector<std::string> options = {}) {
    std::vector<std::string> args = {"run", "--project", project().string()};
    args.insert(args.end(), options.begin(), options.end());
    for (const std::string& bind : buildTreeBinds()) args.push_back(bind);
    args.push_back("--");
    args.insert(args.end(), argv.begin(), argv.end());
    return runJobtapeToEnd(home(), args, {.cwd = project()});
  }

  TempDir dir_;
  fs::path trySyscall_;
  fs::path escapeProbe_;
};

TEST_F(SeccompProbe, EveryProbeGetsThePolicysAnswerInsideJobtapeRun) {
  ProcessResult policy = runProgramToEnd({trySyscall_.string(), "list"});
  ASSERT_EQ(policy.exitStatus, 0) << policy.err;
  std::map<std::string, int> expected = probeAnswers(policy.out);
  ASSERT_GT(expected.size(), 50u);

  ProcessResult ran = runInSandbox({trySyscall_.string(), "all"});
  ASSERT_EQ(ran.exitStatus, 0) << ran.err;
  std::map<std::string, int> got = probeAnswers(ran.out);
  for (const auto& [name, answer] : expected) {
    if (answer < 0) continue;  // a probe that kills (int80, x32): below
    ASSERT_TRUE(got.count(name)) << name << " did not run:\n" << ran.out;
    EXPECT_EQ(got[name], answer) << name << " inside jobtape run";
  }
}

TEST_F(SeccompProbe, NetworkJobsKeepInetSocketsAndTheRestOfThePolicy) {
  ProcessResult ran = runInSandbox({trySyscall_.string(), "socket-inet", "ptrace", "unshare", "ioctl-TIOCSTI-highbits"},
                                   {"--network"});
  ASSERT_EQ(ran.exitStatus, 0) << ran.err;
  std::map<std::string, int> got = probeAnswers(ran.out);
  EXPECT_EQ(got["socket-inet"], 0);
  EXPECT_EQ(got["ptrace"], EPERM);
  EXPECT_EQ(got["unshare"], EPERM);
  EXPECT_EQ(got["ioctl-TIOCSTI-highbits"], EPERM);
}

TEST_F(SeccompProbe, ThirtyTwoBitAndX32SystemCallsEndTheJobAsAViolation) {
  for (const char* probe : {"int80", "x32"}) {
    SCOPED_TRACE(probe);
    ProcessResult ran = runInSandbox({trySyscall_.string(), probe});
    EXPECT_EQ(ran.exitStatus, 128 + SIGSYS) << ran.out << ran.err;
    EXPECT_THAT(ran.out, Not(HasSubstr(std::string(probe) + " 0"))) << "the call ran";
    ProcessResult shown = runJobtapeToEnd(home(), {"job", "show", "last"});
    EXPECT_THAT(shown.out, HasSubstr("foreign architecture")) << shown.out;
  }
}

TEST_F(SeccompProbe, NoDescriptorOfTheCallerReachesTheJob) {
  // The caller holds fd 7 (a file) and fd 8 (a socket) without close-on-exec.
  std::string script = "exec 7</etc/passwd 8<>/dev/null; exec \"$0\" --home \"$1\" run --project \"$2\" ";
  if (!buildTreeBinds().empty()) script += "--ro-bind \"$4\" ";
  script += "-- \"$3\" fds";
  ProcessResult ran = runProgramToEnd({"/bin/sh", "-c", script, jobtapeBinary().string(), home().string(),
                                       project().string(), escapeProbe_.string(), buildTree().string()},
                                      {.cwd = project()});
  ASSERT_EQ(ran.exitStatus, 0) << ran.err;
  EXPECT_EQ(ran.out, "") << "descriptors open in the job besides 0, 1, 2";
}

TEST_F(SeccompProbe, HostLoopbackServicesAreUnreachableWithoutNetwork) {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  struct sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  std::string port = std::to_string(ntohs(address.sin_port));

  ProcessResult ran = runInSandbox({escapeProbe_.string(), "connect-tcp", port});
  EXPECT_EQ(ran.exitStatus, 0) << ran.err;
  EXPECT_THAT(ran.out, HasSubstr("refused")) << "a job without --network reached 127.0.0.1:" << port;
  // The probe itself works: with the host's network it connects.
  ProcessResult shared = runInSandbox({escapeProbe_.string(), "connect-tcp", port}, {"--network"});
  EXPECT_THAT(shared.out, HasSubstr("connected")) << shared.err;
  ::close(listener);
}

TEST_F(SeccompProbe, HostProcessesAreInvisible) {
  std::string word = uniqueSleepSeconds();
  LiveJobtape sleeper({"/bin/sleep", word}, ProcessOptions{});
  for (int i = 0; i < 500 && hostProcessesWithArgument(word).empty(); ++i) ::usleep(10'000);
  ASSERT_FALSE(hostProcessesWithArgument(word).empty());
  ProcessResult ran = runInSandbox({escapeProbe_.string(), "find-process", word.substr(0, 3), word.substr(3)});
  EXPECT_EQ(ran.exitStatus, 0) << ran.err;
  EXPECT_THAT(ran.out, HasSubstr("done"));
  EXPECT_THAT(ran.out, Not(HasSubstr("found"))) << "the job saw a host process";
  // The probe itself works: on the host it finds the sleeper.
  ProcessResult onHost = runProgramToEnd({escapeProbe_.string(), "find-process", word.substr(0, 3), word.substr(3)});
  EXPECT_THAT(onHost.out, HasSubstr("found"));
}

}  // namespace
}  // namespace jobtape::testing
