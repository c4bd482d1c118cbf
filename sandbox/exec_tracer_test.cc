// The exec tracer against real processes, without the runner: a child enters
// user + pid namespaces, loads the exec-notify filter, hands the listener to
// a supervisor and execs a shell script. The supervisor (a forked process,
// so that it can also be nobody) runs the tracer and writes what it recorded
// to a pipe; the test reads that.
#include "sandbox/exec_tracer.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sandbox/seccomp_policy.h"

namespace jobtape::sandbox {
namespace {


enum class Who { caller, nobody };

uint64_t nowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

bool writeFile(const char* path, const std::string& text) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

void sendFd(int socket, int fd) {
  char byte = 'f';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  ::sendmsg(socket, &msg, 0);
}

int receiveFd(int socket) {
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC) <= 0) return -1;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (cmsg == nullptr || cmsg->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  std::memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
  return fd;
}

// Writes each record as one line.
class LineObserver : public RunObserver {
 public:
  void onOutput(Stream, uint64_t, std::span<const char>) override {}
  void onExec(const ExecRecord& exec) override {
    text << "exec " << exec.pid << " " << exec.ppid << " " << exec.executable << " " << exec.cwd << " :";
    for (const std::string& arg : exec.argv) text << " " << arg;
    text << "\n";
  }
  void onProcessExit(const ProcessExitRecord& exit) override {
    text << "exit " << exit.pid << " " << exit.statusKnown << " " << exit.exitCode << " " << exit.signal << "\n";
  }
  std::ostringstream text;
};

// The job: pid 1 of new user + pid namespaces, filtered, execs `argv`.
[[noreturn]] void runJob(int socket, const SeccompProgram& program, const std::vector<std::string>& argv) {
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  if (::unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0) ::_exit(120);
  if (!writeFile("/proc/self/setgroups", "deny") ||
      !writeFile("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1") ||
      !writeFile("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1")) {
    ::_exit(121);
  }
  pid_t init = ::fork();
  if (init != 0) {
    int status = 0;
    ::waitpid(init, &status, 0);
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  if (::chdir("/tmp") != 0) ::_exit(122);
  int devNull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);  // the shells' complaints
  if (devNull < 0 || ::dup2(devNull, 1) < 0 || ::dup2(devNull, 2) < 0) ::_exit(124);
  int listener = -1;
  if (program.load(&listener) != 0) ::_exit(123);
  sendFd(socket, listener);
  ::close(listener);  // before exec: only the supervisor may hold it now
  ::close(socket);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  char path[] = "PATH=/nonexistent:/usr/local/bin:/usr/bin:/bin";
  char* env[] = {path, nullptr};
  ::execve(args[0], args.data(), env);
  ::_exit(127);
}

// Supervises the job and returns its records and, last, "status N".
std::string trace(Who who, const std::vector<std::string>& argv) {
  SeccompProgram program = SeccompProgram::compile({.traceExecs = true});
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return "pipe failed";
  pid_t supervisor = ::fork();
  if (supervisor == 0) {
    ::close(report[0]);
    if (who == Who::nobody) {
      if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
          ::setresuid(65534, 65534, 65534) != 0) {
        ::_exit(110);
      }
      ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    }
    int sockets[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) ::_exit(111);
    uint64_t start = nowNs();
    pid_t job = ::fork();
    if (job == 0) {
      ::close(sockets[0]);
      runJob(sockets[1], program, argv);
    }
    ::close(sockets[1]);
    int listener = receiveFd(sockets[0]);
    LineObserver observer;
    int status = -1;
    if (listener >= 0) {
      ExecTracer tracer(listener, start);
      for (int rounds = 0; rounds < 6000; ++rounds) {  // a minute at most
        pollfd p{tracer.pollFd(), POLLIN, 0};
        ::poll(&p, 1, 10);
        tracer.handle(observer);
        if (::waitpid(job, &status, WNOHANG) == job) break;
      }
      tracer.finish(observer);
      observer.text << "listening " << tracer.listening() << " following " << tracer.following() << "\n";
    }
    if (status == -1) {
      ::kill(job, SIGKILL);
      ::waitpid(job, &status, 0);
    }
    observer.text << "status " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << "\n";
    std::string text = observer.text.str();
    ssize_t ignored = ::write(report[1], text.data(), text.size());
    (void)ignored;
    ::_exit(0);
  }
  ::close(report[1]);
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(report[0], buffer, sizeof buffer)) > 0) text.append(buffer, n);
  ::close(report[0]);
  int status = 0;
  ::waitpid(supervisor, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) text += "supervisor status " + std::to_string(status);
  return text;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) result.push_back(line);
  return result;
}

std::vector<std::string> linesStartingWith(const std::string& text, const std::string& prefix) {
  std::vector<std::string> result;
  for (std::string& line : lines(text)) {
    if (line.starts_with(prefix)) result.push_back(std::move(line));
  }
  return result;
}

// Exits noticed in the same wakeup of the supervisor carry one time and no
// order; everything else is in order. The trailer says every process was
// accounted for and the job's own status.
void expectRecords(const std::string& text, const std::vector<std::string>& execs,
                   const std::vector<std::string>& exits, int status) {
  EXPECT_EQ(linesStartingWith(text, "exec "), execs) << text;
  EXPECT_THAT(linesStartingWith(text, "exit "), ::testing::UnorderedElementsAreArray(exits)) << text;
  std::vector<std::string> all = lines(text);
  ASSERT_GE(all.size(), 2u) << text;
  EXPECT_EQ(all[all.size() - 2], "listening 0 following 0");
  EXPECT_EQ(all.back(), "status " + std::to_string(status));
  // Each process's exit comes after its (last) exec.
  for (const std::string& exec : execs) {
    std::string pid = exec.substr(5, exec.find(' ', 5) - 5);
    auto execAt = std::find(all.begin(), all.end(), exec);
    auto exitAt = std::find_if(all.begin(), all.end(), [&](const std::string& l) { return l.starts_with("exit " + pid + " "); });
    EXPECT_LT(execAt, exitAt) << exec;
  }
}

class ExecTracerTest : public ::testing::TestWithParam<Who> {
 protected:
  void SetUp() override {
    if (GetParam() == Who::nobody && ::geteuid() != 0) GTEST_SKIP() << "needs root to become nobody";
  }
};

TEST_P(ExecTracerTest, RecordsEachExecWithArgvParentAndExit) {
  std::string text = trace(GetParam(), {"/bin/sh", "-c", "true; ls / >/dev/null; exit 3"});
  // sh is pid 1 of the job's namespace, its parent outside it (0); ls is its
  // child. The failed PATH attempts (/nonexistent/ls, /usr/local/bin/ls)
  // are not recorded. Exits come with their status, once reaped.
  expectRecords(text,
                {"exec 1 0 /bin/sh /tmp : /bin/sh -c true; ls / >/dev/null; exit 3",
                 "exec 2 1 /usr/bin/ls /tmp : ls /"},
                {"exit 2 1 0 0", "exit 1 1 3 0"}, 3);
}

TEST_P(ExecTracerTest, FollowsAProcessThatExecsAgainOnce) {
  std::string text = trace(GetParam(), {"/bin/sh", "-c", "exec /bin/sh -c 'exit 4'"});
  expectRecords(text,
                {"exec 1 0 /bin/sh /tmp : /bin/sh -c exec /bin/sh -c 'exit 4'",
                 "exec 1 0 /bin/sh /tmp : /bin/sh -c exit 4"},
                {"exit 1 1 4 0"}, 4);
}

TEST_P(ExecTracerTest, RecordsExecsThroughTheProcessesOwnProcEntries) {
  // /proc/self seen from the supervisor is the supervisor: such paths must
  // not be judged from outside (fexecve goes through /proc/self/fd).
  std::string text = trace(GetParam(), {"/bin/sh", "-c", "exec /proc/self/exe -c 'exit 6'"});
  expectRecords(text,
                {"exec 1 0 /bin/sh /tmp : /bin/sh -c exec /proc/self/exe -c 'exit 6'",
                 "exec 1 0 /proc/self/exe /tmp : /proc/self/exe -c exit 6"},
                {"exit 1 1 6 0"}, 6);
}

TEST_P(ExecTracerTest, LeavesOutExecsThatCannotSucceed) {
  std::string text = trace(GetParam(), {"/bin/sh", "-c", "/nonexistent/tool; /etc/passwd; /tmp; exit 0"});
  expectRecords(text, {"exec 1 0 /bin/sh /tmp : /bin/sh -c /nonexistent/tool; /etc/passwd; /tmp; exit 0"},
                {"exit 1 1 0 0"}, 0);
}

TEST_P(ExecTracerTest, ReportsSignalDeaths) {
  std::string text = trace(GetParam(), {"/bin/sh", "-c", "/bin/sh -c 'kill -KILL $$'; exit 0"});
  expectRecords(text,
                {"exec 1 0 /bin/sh /tmp : /bin/sh -c /bin/sh -c 'kill -KILL $$'; exit 0",
                 "exec 2 1 /bin/sh /tmp : /bin/sh -c kill -KILL $$"},
                {"exit 2 1 -1 9", "exit 1 1 0 0"}, 0);
}

TEST_P(ExecTracerTest, KeepsLongArgumentListsWhole) {
  std::vector<std::string> argv = {"/bin/true"};
  for (int i = 0; i < 1000; ++i) argv.push_back("argument-" + std::to_string(i) + std::string(100, 'x'));
  std::string text = trace(GetParam(), argv);
  std::vector<std::string> got = lines(text);
  ASSERT_GE(got.size(), 1u) << text;
  std::string expected = "exec 1 0 /bin/true /tmp :";
  for (const std::string& arg : argv) expected += " " + arg;
  EXPECT_EQ(got[0], expected);
}

INSTANTIATE_TEST_SUITE_P(Callers, ExecTracerTest, ::testing::Values(Who::caller, Who::nobody),
                         [](const auto& info) { return info.param == Who::caller ? "caller" : "nobody"; });

TEST(ExecTracerConstructionTest, RefusesAMissingListener) {
  EXPECT_THROW(ExecTracer(-1, 0), std::system_error);
}

}  // namespace
}  // namespace jobtape::sandbox
