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
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sandbox/rlimits.h"
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
  void onTracingIncomplete(const TracingShortfall& shortfall) override {
    text << "incomplete execs " << shortfall.missedExecs << " exits " << shortfall.missedExits << " ("
         << shortfall.reason << ")\n";
  }
  std::ostringstream text;
};

// How the job's pid 1 runs argv[0].
enum class How {
  execve,
  execveatFd,        // execveat(open(argv[0]), "", AT_EMPTY_PATH): fexecve
  execveatRelative,  // execveat(open(dirname), basename, 0)
  errnos,            // tries execs that fail, exits 0 iff each failed as without the tracer
  fanOut,            // `count` children each exec argv[0], all alive until the last has forked
};

struct JobOptions {
  How how = How::execve;
  int count = 0;                  // fanOut
  rlim_t supervisorFiles = 0;     // RLIMIT_NOFILE soft limit of the supervisor, 0 = as is
  rlim_t supervisorFilesMax = 0;  // and its hard limit, 0 = as is
  bool ownProc = false;           // a mount namespace with the job's own /proc, as in the sandbox
};

// Each exec that certainly fails must fail with the kernel's own errno;
// returns the number of the first that did not (0: all did).
int tryFailingExecs() {
  char* argv[] = {const_cast<char*>("x"), nullptr};
  char* env[] = {nullptr};
  std::string tooLong(PATH_MAX + 16, 'a');
  tooLong[0] = '/';
  struct Try {
    const char* path;
    int expected;
  } tries[] = {
      {"/nonexistent/tool", ENOENT},
      {"/etc/passwd/x", ENOTDIR},
      {"/etc/passwd", EACCES},
      {"/tmp", EACCES},
      {"", ENOENT},
      {reinterpret_cast<const char*>(16), EFAULT},
      {tooLong.c_str(), ENAMETOOLONG},
  };
  int number = 0;
  for (const Try& t : tries) {
    ++number;
    if (::execve(t.path, argv, env) != -1 || errno != t.expected) return number;
  }
  return 0;
}

// `count` children exec argv[0] with stdin on a pipe that stays open until
// the last child was forked: all of them are alive at once.
[[noreturn]] void fanOut(const std::vector<std::string>& argv, int count) {
  int hold[2];
  if (::pipe(hold) != 0) ::_exit(125);
  for (int i = 0; i < count; ++i) {
    pid_t child = ::fork();
    if (child < 0) ::_exit(126);
    if (child == 0) {
      ::dup2(hold[0], 0);
      ::close(hold[1]);
      char* args[] = {const_cast<char*>(argv[0].c_str()), nullptr};
      char* env[] = {nullptr};
      ::execve(args[0], args, env);
      ::_exit(127);
    }
  }
  ::close(hold[1]);  // every child reads end of file now and exits
  int status = 0;
  bool allZero = true;
  while (::wait(&status) > 0) allZero &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
  ::_exit(allZero ? 0 : 1);
}

// The job: pid 1 of new user + pid namespaces, filtered, execs `argv`.
[[noreturn]] void runJob(int socket, const SeccompProgram& program, const std::vector<std::string>& argv,
                         const JobOptions& options) {
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
  if (options.ownProc && (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
                          ::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)) {
    ::_exit(119);
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
  switch (options.how) {
    case How::execve: ::execve(args[0], args.data(), env); break;
    case How::execveatFd: {
      int fd = ::open(args[0], O_RDONLY | O_CLOEXEC);
      ::syscall(SYS_execveat, fd, "", args.data(), env, AT_EMPTY_PATH);
      break;
    }
    case How::execveatRelative: {
      std::string file = argv[0];
      int dir = ::open(file.substr(0, file.rfind('/')).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      ::syscall(SYS_execveat, dir, file.substr(file.rfind('/') + 1).c_str(), args.data(), env, 0);
      break;
    }
    case How::errnos: ::_exit(tryFailingExecs());
    case How::fanOut: fanOut(argv, options.count);
  }
  ::_exit(127);
}

// Supervises the job and returns its records and, last, "status N".
std::string trace(Who who, const std::vector<std::string>& argv, const JobOptions& options = {}) {
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
    if (options.supervisorFiles != 0) {
      struct rlimit files{};
      ::getrlimit(RLIMIT_NOFILE, &files);
      files.rlim_cur = options.supervisorFiles;
      if (options.supervisorFilesMax != 0) files.rlim_max = options.supervisorFilesMax;
      if (::setrlimit(RLIMIT_NOFILE, &files) != 0) ::_exit(112);
    }
    int sockets[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) ::_exit(111);
    uint64_t start = nowNs();
    pid_t job = ::fork();
    if (job == 0) {
      ::close(sockets[0]);
      runJob(sockets[1], program, argv, options);
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
  EXPECT_THAT(linesStartingWith(text, "incomplete "), ::testing::IsEmpty()) << text;
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

// A directory the job (maybe nobody) can read, with symlinks that lead
// through the process's own /proc/self: `t` to /bin/true through its root,
// `bin` to /usr/bin, `c` to `true` in its cwd (and `true` there).
class SelfLinks {
 public:
  SelfLinks() {
    char name[] = "/tmp/exec-tracer-XXXXXX";
    if (::mkdtemp(name) == nullptr) return;
    dir_ = name;
    ok_ = ::chmod(name, 0755) == 0;
    for (const auto& [link, target] : links()) ok_ &= ::symlink(target.c_str(), (dir_ + "/" + link).c_str()) == 0;
  }
  ~SelfLinks() {
    for (const auto& entry : links()) ::unlink((dir_ + "/" + entry.first).c_str());
    ::rmdir(dir_.c_str());
  }
  bool ok() const { return ok_; }
  const std::string& dir() const { return dir_; }

 private:
  static std::vector<std::pair<std::string, std::string>> links() {
    return {{"t", "/proc/self/root/bin/true"}, {"bin", "/proc/self/root/usr/bin"},
            {"c", "/proc/self/cwd/true"}, {"true", "/bin/true"}};
  }
  std::string dir_;
  bool ok_ = false;
};

TEST_P(ExecTracerTest, RecordsExecsThroughSymlinksToProcSelf) {
  // From the supervisor, /proc/self in the job's own /proc does not exist
  // (outside it, it would be the supervisor): nothing may be judged through it.
  SelfLinks links;
  ASSERT_TRUE(links.ok());
  const std::string d = links.dir();
  std::string script = d + "/t; PATH=" + d + "/bin id >/dev/null; cd " + d + " && ./t && " + d + "/c; exit 0";
  std::string text = trace(GetParam(), {"/bin/sh", "-c", script}, {.ownProc = true});
  expectRecords(text,
                {"exec 1 0 /bin/sh /tmp : /bin/sh -c " + script,
                 "exec 2 1 " + d + "/t /tmp : " + d + "/t",
                 "exec 3 1 " + d + "/bin/id /tmp : id",
                 "exec 4 1 ./t " + d + " : ./t",
                 "exec 5 1 " + d + "/c " + d + " : " + d + "/c"},
                {"exit 2 1 0 0", "exit 3 1 0 0", "exit 4 1 0 0", "exit 5 1 0 0", "exit 1 1 0 0"}, 0);
}

TEST_P(ExecTracerTest, RecordsExecveatOfAnFdByTheFilesPath) {
  std::string text = trace(GetParam(), {"/usr/bin/true", "fd"}, {.how = How::execveatFd});
  expectRecords(text, {"exec 1 0 /usr/bin/true /tmp : /usr/bin/true fd"}, {"exit 1 1 0 0"}, 0);
}

TEST_P(ExecTracerTest, RecordsFdRelativeExecveatWithTheDirectoryInFront) {
  std::string text = trace(GetParam(), {"/usr/bin/true", "relative"}, {.how = How::execveatRelative});
  expectRecords(text, {"exec 1 0 /usr/bin/true /tmp : /usr/bin/true relative"}, {"exit 1 1 0 0"}, 0);
}

TEST_P(ExecTracerTest, ExecsThatCertainlyFailFailAsTheKernelWouldHave) {
  // Answered by the tracer instead of continued; the job sees the same errno.
  std::string text = trace(GetParam(), {"/bin/true"}, {.how = How::errnos});
  expectRecords(text, {}, {}, 0);
}

constexpr int kFanOut = 1500;

size_t countExecsOf(const std::string& text, const std::string& executable) {
  size_t n = 0;
  for (const std::string& line : linesStartingWith(text, "exec ")) n += line.find(" " + executable + " ") != std::string::npos;
  return n;
}

TEST_P(ExecTracerTest, FollowsManyLiveProcessesPastALowSoftLimit) {
  // The supervisor raises its soft limit to the hard one: all followed.
  std::string text = trace(GetParam(), {"/bin/cat"}, {.how = How::fanOut, .count = kFanOut, .supervisorFiles = 64});
  EXPECT_EQ(countExecsOf(text, "/bin/cat"), static_cast<size_t>(kFanOut)) << text.substr(0, 2000);
  EXPECT_EQ(linesStartingWith(text, "exit ").size(), static_cast<size_t>(kFanOut));
  EXPECT_THAT(linesStartingWith(text, "incomplete "), ::testing::IsEmpty());
  EXPECT_EQ(lines(text).back(), "status 0");
}

TEST_P(ExecTracerTest, RecordsEveryExecAndCountsTheExitsItCannotFollow) {
  // 200 descriptors for 1500 live processes: every exec is still recorded,
  // and each exit not followed is counted and reported, never silent.
  std::string text = trace(GetParam(), {"/bin/cat"},
                           {.how = How::fanOut, .count = kFanOut, .supervisorFiles = 200, .supervisorFilesMax = 200});
  EXPECT_EQ(countExecsOf(text, "/bin/cat"), static_cast<size_t>(kFanOut)) << text.substr(0, 2000);
  std::vector<std::string> incomplete = linesStartingWith(text, "incomplete ");
  ASSERT_EQ(incomplete.size(), 1u) << text.substr(text.size() > 2000 ? text.size() - 2000 : 0);
  size_t missedExits = 0;
  ASSERT_EQ(std::sscanf(incomplete[0].c_str(), "incomplete execs 0 exits %zu", &missedExits), 1) << incomplete[0];
  EXPECT_GT(missedExits, 0u);
  EXPECT_THAT(incomplete[0], ::testing::EndsWith("(out of descriptors)"));
  EXPECT_EQ(linesStartingWith(text, "exit ").size() + missedExits, static_cast<size_t>(kFanOut));
  EXPECT_EQ(lines(text).back(), "status 0");
}

INSTANTIATE_TEST_SUITE_P(Callers, ExecTracerTest, ::testing::Values(Who::caller, Who::nobody),
                         [](const auto& info) { return info.param == Who::caller ? "caller" : "nobody"; });

// In a child, since the raise is once per process: 0 when the supervisor's
// soft limit went up to the hard one and jobs, before and after, still get
// the caller's own soft limit.
int checkOpenFileLimitRaise() {
  struct rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_max <= 100) return 10;
  files.rlim_cur = 100;
  if (::setrlimit(RLIMIT_NOFILE, &files) != 0) return 11;
  auto jobFiles = [] {
    for (const RlimitPlan::Entry& entry : RlimitPlan::build(Limits{}, 0)) {
      if (entry.resource == RLIMIT_NOFILE) return entry.value.rlim_cur;
    }
    return rlim_t{0};
  };
  if (jobFiles() != 100) return 12;
  raiseSupervisorOpenFileLimit();
  raiseSupervisorOpenFileLimit();
  struct rlimit raised{};
  ::getrlimit(RLIMIT_NOFILE, &raised);
  if (raised.rlim_cur != files.rlim_max) return 13;
  return jobFiles() == 100 ? 0 : 14;
}

TEST(SupervisorOpenFileLimit, RaisedForTheSupervisorOnlyJobsKeepTheCallers) {
  pid_t child = ::fork();
  if (child == 0) ::_exit(checkOpenFileLimitRaise());
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see checkOpenFileLimitRaise";
}

TEST(ExecTracerConstructionTest, RefusesAMissingListener) {
  EXPECT_THROW(ExecTracer(-1, 0), std::system_error);
}

}  // namespace
}  // namespace jobtape::sandbox
