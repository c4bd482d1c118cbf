// What recording execs costs: one execve under the exec-notify filter, with
// the tracer reading argv, /proc and answering, against the same execve under
// the deny policy alone and with no filter at all.
//
// Each iteration forks a child that loads the filters and then runs
// /bin/true kExecsPerIteration times (fork, execve, wait); the parent runs the
// tracer meanwhile, which records every exec, reads argv and /proc, answers,
// and follows the process to its exit with a pidfd. The per_exec counter is
// the wall time of one fork+exec+exit; notified minus policy is the price of
// recording one process.
//
// BM_ExecveRoundTrip isolates the notification: see there.
//
//   build/bench/exec_notify_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <benchmark/benchmark.h>

#include "sandbox/exec_tracer.h"
#include "sandbox/seccomp_policy.h"

namespace {

using jobtape::sandbox::ExecTracer;
using jobtape::sandbox::SeccompProgram;

constexpr int kExecsPerIteration = 50;

enum Filter { none = 0, policy = 1, notified = 2 };

class CountingObserver : public jobtape::sandbox::RunObserver {
 public:
  void onOutput(jobtape::sandbox::Stream, uint64_t, std::span<const char>) override {}
  void onExec(const jobtape::sandbox::ExecRecord&) override { ++execs; }
  int execs = 0;
};

uint64_t nowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
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
  (void)::sendmsg(socket, &msg, 0);
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

// Loads the filters in a forked child (handing the listener over), runs
// `work` there and supervises it with the tracer until it exits. Returns the
// child's exit status, or -1; counts the execs recorded.
template <typename Work>
int superviseChild(Filter filter, const SeccompProgram& program, Work work, int& recorded) {
  int sockets[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) return -1;
  pid_t child = ::fork();
  if (child == 0) {
    ::close(sockets[0]);
    if (filter == policy && program.loadPolicyOnly() != 0) ::_exit(120);
    if (filter == notified) {
      int listener = -1;
      if (program.load(&listener) != 0) ::_exit(121);
      sendFd(sockets[1], listener);
      ::close(listener);
    }
    ::_exit(work());
  }
  ::close(sockets[1]);
  int status = -1;
  if (filter == notified) {
    CountingObserver observer;
    ExecTracer tracer(receiveFd(sockets[0]), nowNs());
    int childFd = static_cast<int>(::syscall(SYS_pidfd_open, child, 0));
    while (::waitpid(child, &status, WNOHANG) == 0) {
      pollfd p[2] = {{tracer.pollFd(), POLLIN, 0}, {childFd, POLLIN, 0}};
      ::poll(p, 2, 1000);
      tracer.handle(observer);
    }
    ::close(childFd);
    tracer.finish(observer);
    recorded += observer.execs;
  } else {
    ::waitpid(child, &status, 0);
  }
  ::close(sockets[0]);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Whole processes: fork, execve /bin/true, exit, wait.
void BM_ForkExecTrue(benchmark::State& state) {
  const Filter filter = static_cast<Filter>(state.range(0));
  SeccompProgram program = SeccompProgram::compile({.traceExecs = filter == notified});
  int recorded = 0;
  auto work = [] {
    char* const argv[] = {const_cast<char*>("true"), nullptr};
    char* const envp[] = {nullptr};
    for (int i = 0; i < kExecsPerIteration; ++i) {
      pid_t pid = ::fork();
      if (pid == 0) {
        ::execve("/bin/true", argv, envp);
        ::_exit(127);
      }
      int status = 0;
      if (pid < 0 || ::waitpid(pid, &status, 0) != pid || status != 0) return 122;
    }
    return 0;
  };
  for (auto _ : state) {
    if (superviseChild(filter, program, work, recorded) != 0) state.SkipWithError("an exec failed");
  }
  state.counters["per_exec"] = benchmark::Counter(static_cast<double>(kExecsPerIteration),
                                                  benchmark::Counter::kIsIterationInvariantRate |
                                                      benchmark::Counter::kInvert);
  if (filter == notified) {
    state.counters["recorded_per_iteration"] =
        static_cast<double>(recorded) / static_cast<double>(state.iterations());
  }
}
BENCHMARK(BM_ForkExecTrue)->ArgName("filter")->Arg(none)->Arg(policy)->Arg(notified)->UseRealTime()->Unit(benchmark::kMillisecond);

// The notification round trip alone, timed inside the child: an execve of an
// executable file the kernel cannot load (ENOEXEC) is notified, fully
// gathered and recorded by the tracer, continued, and fails, leaving the
// process as it was, so it can be repeated in a loop. Reported per call.
void BM_ExecveRoundTrip(benchmark::State& state) {
  const Filter filter = static_cast<Filter>(state.range(0));
  SeccompProgram program = SeccompProgram::compile({.traceExecs = filter == notified});
  char path[] = "/tmp/jobtape-bench-noexec-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0 || ::write(fd, "\x01\x02\x03\x04", 4) != 4 || ::fchmod(fd, 0755) != 0) {
    state.SkipWithError("cannot create the test file");
    return;
  }
  ::close(fd);
  constexpr int kCalls = 200;
  int timing[2];
  if (::pipe(timing) != 0) return;
  int recorded = 0;
  uint64_t totalNs = 0;
  for (auto _ : state) {
    auto work = [&] {
      char* const argv[] = {path, const_cast<char*>("--flag"), const_cast<char*>("value"), nullptr};
      char* const envp[] = {nullptr};
      uint64_t start = nowNs();
      for (int i = 0; i < kCalls; ++i) {
        if (::execve(path, argv, envp) == 0 || errno != ENOEXEC) return 123;
      }
      uint64_t elapsed = nowNs() - start;
      return ::write(timing[1], &elapsed, sizeof elapsed) == sizeof elapsed ? 0 : 124;
    };
    if (superviseChild(filter, program, work, recorded) != 0) state.SkipWithError("execve did not fail as planned");
    uint64_t elapsed = 0;
    if (::read(timing[0], &elapsed, sizeof elapsed) == sizeof elapsed) totalNs += elapsed;
  }
  ::close(timing[0]);
  ::close(timing[1]);
  ::unlink(path);
  const double calls = static_cast<double>(state.iterations()) * kCalls;
  state.counters["per_call_us"] = static_cast<double>(totalNs) / calls / 1000.0;
  if (filter == notified) state.counters["recorded_per_call"] = recorded / calls;
}
BENCHMARK(BM_ExecveRoundTrip)->ArgName("filter")->Arg(none)->Arg(policy)->Arg(notified)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
