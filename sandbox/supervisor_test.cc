// The supervisor takes the main process's end from the kernel, not from a
// record: a forged mainExited, sent by pid 1 while the main process lives or
// by any other process, changes nothing, and --timeout still fires.
//
// The sandbox is played by two real processes on the real channel: a fake
// pid 1 (a child of the test) and its main process, which announces itself
// exactly as the real one does.
#include "sandbox/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "sandbox/child_report.h"
#include "sandbox/linux_syscalls.h"

namespace jobtape::sandbox {
namespace {

class NullObserver : public RunObserver {
 public:
  void onOutput(Stream, uint64_t, std::span<const char>) override {}
};

enum class Play {
  initForgesWhileMainLives,  // pid 1 says "exited 0" while main sleeps
  mainForges,                // main says "exited 0" about itself, and sleeps
  initReportsAfterMainEnds,  // main exits 7; pid 1 reports a status of 5
};

ChildMessage exitedRecord(int status) {
  ChildMessage m;
  m.kind = ChildMessage::mainExited;
  m.waitCode = CLD_EXITED;
  m.waitStatus = status;
  return m;
}

// Child side of the fake main process: async-signal-safe only.
[[noreturn]] void fakeMain(int channel, int announced, Play play) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (!announceMainProcess(channel)) ::_exit(100);
  if (play == Play::mainForges) sendChildMessage(channel, exitedRecord(0));
  ::close(channel);  // as its execve would
  char byte = 'x';
  (void)!::write(announced, &byte, 1);
  if (play == Play::initReportsAfterMainEnds) ::_exit(7);
  for (;;) ::pause();
}

[[noreturn]] void fakeInit(int channel, Play play) {
  int announced[2];
  if (::pipe(announced) < 0) ::_exit(101);
  pid_t main = ::fork();
  if (main == 0) fakeMain(channel, announced[1], play);
  char byte;
  if (main < 0 || ::read(announced[0], &byte, 1) != 1) ::_exit(102);
  if (play == Play::initForgesWhileMainLives) sendChildMessage(channel, exitedRecord(0));
  if (play == Play::initReportsAfterMainEnds) {
    int status;
    ::waitpid(main, &status, 0);
    sendChildMessage(channel, exitedRecord(5));
  }
  ::close(channel);  // the supervisor must not wait for the channel's end
  for (;;) ::pause();
}

struct Supervised {
  SupervisionReport report;
  int initStatus = 0;  // how the fake pid 1 ended
};

Supervised superviseFake(Play play, uint64_t timeoutMs) {
  int pair[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
  EXPECT_TRUE(passSenderCredentials(pair[0]));
  pid_t init = ::fork();
  if (init == 0) {
    ::close(pair[0]);
    fakeInit(pair[1], play);
  }
  ::close(pair[1]);
  SupervisedChild child;
  child.pid = init;
  child.pidfd.reset(sys::pidfdOpen(init));
  child.channel.reset(pair[0]);
  child.sandboxed = true;
  SupervisorConfig config;
  config.startNs = monotonicNowNs();
  config.timeoutMs = timeoutMs;
  config.graceMs = 200;
  NullObserver observer;
  Supervised out;
  out.report = supervise(child, config, observer);
  if (out.report.reaped) {
    out.initStatus = out.report.waitStatus;
  } else {
    ::kill(init, SIGKILL);  // only if the supervisor failed to
    ::waitpid(init, &out.initStatus, 0);
  }
  return out;
}

bool reportedExitedZero(const SupervisionReport& report) {
  return report.mainExited && report.mainExited->waitCode == CLD_EXITED && report.mainExited->waitStatus == 0;
}

TEST(SupervisorTest, IgnoresMainExitedFromPid1WhileTheMainProcessLives) {
  Supervised s = superviseFake(Play::initForgesWhileMainLives, 300);
  EXPECT_TRUE(s.report.timedOut) << "a forged report ended the job before its timeout";
  EXPECT_FALSE(reportedExitedZero(s.report)) << "the forged status was taken";
}

TEST(SupervisorTest, IgnoresMainExitedFromAnyoneButPid1) {
  Supervised s = superviseFake(Play::mainForges, 300);
  EXPECT_TRUE(s.report.timedOut) << "a report from the main process ended the job";
  EXPECT_FALSE(reportedExitedZero(s.report)) << "the forged status was taken";
}

TEST(SupervisorTest, TakesPid1sReportOnceTheMainProcessEndedAndKillsPid1) {
  Supervised s = superviseFake(Play::initReportsAfterMainEnds, 60'000);
  EXPECT_FALSE(s.report.timedOut);
  ASSERT_TRUE(s.report.mainExited);
  EXPECT_EQ(s.report.mainExited->waitCode, CLD_EXITED);
  // The kernel's account (Linux 6.15+) wins over pid 1's "5".
  int status = 0;
  pid_t probe = ::fork();
  if (probe == 0) ::_exit(3);
  int probeFd = sys::pidfdOpen(probe);
  ::waitpid(probe, nullptr, 0);
  bool kernelKeepsStatus = probeFd >= 0 && sys::pidfdExitStatus(probeFd, &status);
  if (probeFd >= 0) ::close(probeFd);
  EXPECT_EQ(s.report.mainExited->waitStatus, kernelKeepsStatus ? 7 : 5);
  // Whatever pid 1 would still have done, it was killed after its report.
  EXPECT_TRUE(WIFSIGNALED(s.initStatus) && WTERMSIG(s.initStatus) == SIGKILL) << s.initStatus;
}

// A pid 1 that fails before it reads "start" leaves that byte unread, and
// its end's close then resets the connection: the record it sent first must
// still be read.
TEST(SupervisorTest, KeepsTheSetupErrorOfAPid1ThatNeverReadStart) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
  ASSERT_TRUE(passSenderCredentials(pair[0]));
  ASSERT_TRUE(sendStart(pair[0]));
  pid_t init = ::fork();
  if (init == 0) {
    sendSetupError(pair[1], SetupStep::bindSource, ENOENT, 2);
    ::_exit(125);
  }
  ::close(pair[1]);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(init), &info, WEXITED | WNOWAIT), 0);
  SupervisedChild child;
  child.pid = init;
  child.pidfd.reset(sys::pidfdOpen(init));
  child.channel.reset(pair[0]);
  SupervisorConfig config;
  config.startNs = monotonicNowNs();
  NullObserver observer;
  SupervisionReport report = supervise(child, config, observer);
  ASSERT_TRUE(report.setupError);
  EXPECT_EQ(report.setupError->step, SetupStep::bindSource);
  EXPECT_EQ(report.setupError->error, ENOENT);
}

// The pid of the process a pidfd names, as /proc/self/fdinfo tells it; 0
// when it does not say.
pid_t pidOfPidfd(int pidfd) {
  std::string path = "/proc/self/fdinfo/" + std::to_string(pidfd);
  FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) return 0;
  char line[256];
  pid_t pid = 0;
  while (std::fgets(line, sizeof line, file) != nullptr) {
    if (std::sscanf(line, "Pid:\t%d", &pid) == 1) break;
  }
  std::fclose(file);
  return pid;
}

// The main process hands over a pidfd of itself and goes on at once: no
// answer of the supervisor stands between it and its exec.
TEST(SupervisorTest, TheMainProcessAnnouncesItselfWithAPidfdOfItsOwnAndDoesNotWait) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
  ASSERT_TRUE(passSenderCredentials(pair[0]));
  int announced[2];
  ASSERT_EQ(::pipe2(announced, O_CLOEXEC), 0);
  pid_t main = ::fork();
  if (main == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (!announceMainProcess(pair[1])) ::_exit(100);
    char byte = 'x';
    (void)!::write(announced[1], &byte, 1);
    for (;;) ::pause();
  }
  ::close(pair[1]);
  ::close(announced[1]);
  struct pollfd done{announced[0], POLLIN, 0};
  EXPECT_EQ(::poll(&done, 1, 5000), 1) << "the main process waited for an answer";
  std::optional<ReceivedMessage> received = receiveChildMessage(pair[0]);
  ASSERT_TRUE(received);
  EXPECT_EQ(received->message.kind, ChildMessage::mainStarted);
  EXPECT_EQ(received->senderPid, main);
  ASSERT_TRUE(received->fd);
  EXPECT_EQ(pidOfPidfd(received->fd.get()), main);
  EXPECT_EQ(sys::pidfdSendSignal(received->fd.get(), SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(main, &status, 0), main);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ::close(announced[0]);
  ::close(pair[0]);
}

}  // namespace
}  // namespace jobtape::sandbox
