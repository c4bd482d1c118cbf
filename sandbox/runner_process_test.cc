// The runner inside a process of its own (runner_job_helper): what happens
// when that process is killed, and the stdio modes that hand the job the
// caller's own descriptors or a terminal.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sandbox/fd_util.h"
#include "sandbox/runner_test_support.h"

namespace jobtape::sandbox {
namespace {

using ::testing::HasSubstr;
using namespace jobtape::sandbox::testing;
using Clock = std::chrono::steady_clock;

// Generous bounds so a slow machine never fails a test; they only stop hangs.
constexpr auto kPatience = std::chrono::seconds(30);

[[noreturn]] void execArgv(const std::vector<std::string>& argv) {
  std::vector<char*> raw;
  for (const std::string& a : argv) raw.push_back(const_cast<char*>(a.c_str()));
  raw.push_back(nullptr);
  execv(raw[0], raw.data());
  _exit(127);
}

std::vector<std::string> jobHelper(std::vector<std::string> options, std::vector<std::string> command) {
  std::vector<std::string> argv = {helperPath("runner_job_helper")};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

// Reads from `fd` until `needle` has appeared (or EOF / patience runs out).
std::string readUntil(int fd, const std::string& needle) {
  std::string got;
  auto deadline = Clock::now() + kPatience;
  while (got.find(needle) == std::string::npos && Clock::now() < deadline) {
    struct pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

int waitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(RunnerProcess, NothingSurvivesASigkilledSupervisor) {
  std::string marker = uniqueMarker("die-with-parent");
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    execArgv(jobHelper({}, {helperPath(), "tree", marker}));
  }
  close(out[1]);
  UniqueFd reader(out[0]);
  ASSERT_THAT(readUntil(reader.get(), "ready"), HasSubstr("ready"));
  // The job's main process and both grandchildren (one stopped, one in a
  // session of its own) are running.
  EXPECT_GE(processesWithMarker(marker).size(), 3u);

  kill(pid, SIGKILL);
  EXPECT_EQ(waitExit(pid), 128 + SIGKILL);
  auto deadline = Clock::now() + kPatience;
  while (!processesWithMarker(marker).empty() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_THAT(processesWithMarker(marker), ::testing::IsEmpty());
}

TEST(RunnerProcess, InheritModePassesTheCallersDescriptors) {
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2);
    execArgv(jobHelper({"--stdio=inherit"}, {helperPath(), "script", "out:to-stdout;", "err:to-stderr;"}));
  }
  close(out[1]);
  UniqueFd reader(out[0]);
  std::string got = readUntil(reader.get(), "runner_job_helper:");
  EXPECT_EQ(waitExit(pid), 0);
  EXPECT_THAT(got, HasSubstr("to-stdout;to-stderr;"));
}

// The caller has a controlling terminal (forkpty); the job must not share it
// (CVE-2017-5226: TIOCSTI through it would type into the caller's shell),
// not even in inherit mode where it writes to that very terminal.
TEST(RunnerProcess, JobHasNoControllingTerminalEvenWhenTheCallerHasOne) {
  for (const char* mode : {"--stdio=capture", "--stdio=inherit"}) {
    int master = -1;
    pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int fd = open("/dev/tty", O_RDWR);  // positive control: the runner has one
      if (fd < 0) _exit(99);
      close(fd);
      execArgv(jobHelper({mode}, {"/bin/sh", "-c", helperPath() + " read /dev/tty; " + helperPath() + " pid"}));
    }
    UniqueFd term(master);
    std::string got = readUntil(term.get(), "runner_job_helper:");
    EXPECT_EQ(waitExit(pid), 0) << mode << ": " << got;
    EXPECT_THAT(got, HasSubstr("ENXIO")) << mode;
    // "PID PPID SID": a child of sh (pid 2) in the session pid 1 made.
    EXPECT_THAT(got, ::testing::ContainsRegex("[0-9]+ 2 1\r\n")) << mode;
  }
}

// The runner on a terminal of its own (forkpty), with the job on a second
// pty inside: the job sees a terminal of the given size, input is relayed,
// and a resize of the outer terminal reaches the job.
TEST(RunnerProcess, TerminalModeRelaysInputOutputAndWindowSize) {
  struct winsize size{};
  size.ws_row = 33;
  size.ws_col = 101;
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, &size);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execArgv(jobHelper({"--stdio=terminal"},
                       {"/bin/sh", "-c",
                        "test -t 0 && echo is-a-tty; stty size; "
                        "trap 'stty size; exit 5' WINCH; echo ready; read line; echo got:$line; "
                        "while :; do sleep 0.05; done"}));
  }
  UniqueFd term(master);
  std::string got = readUntil(term.get(), "ready");
  EXPECT_THAT(got, HasSubstr("is-a-tty"));
  EXPECT_THAT(got, HasSubstr("33 101"));
  ASSERT_EQ(write(term.get(), "hello\r", 6), 6);
  EXPECT_THAT(readUntil(term.get(), "got:hello"), HasSubstr("got:hello"));

  size.ws_row = 40;
  size.ws_col = 120;
  ASSERT_EQ(ioctl(term.get(), TIOCSWINSZ, &size), 0);  // SIGWINCH to the runner
  EXPECT_THAT(readUntil(term.get(), "40 120"), HasSubstr("40 120"));
  EXPECT_EQ(waitExit(pid), 5);
}

}  // namespace
}  // namespace jobtape::sandbox
