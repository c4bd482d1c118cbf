// Records the processes a job execs: the supervisor half of the exec-notify
// seccomp filter (seccomp_policy.h), for `job show --processes`.
//
// Every execve/execveat of the job stops in a seccomp user notification. The
// tracer reads the path and argv from the stopped process (process_vm_readv),
// its parent and pid from /proc, checks that the notification is still valid
// (so the pid it read from was not reused meanwhile), lets the call continue
// and reports onExec. The main process's first exec is the exception: its
// memory is still pid 1's, which may not be read, so it comes from the main
// process's own word (expectMainExec) -- no code of the job has run yet to
// make it lie. It then follows the process with a pidfd and reports
// onProcessExit, with the exit status where the kernel tells it (Linux 6.15+
// PIDFD_GET_INFO with PIDFD_INFO_EXIT, once the process has been reaped).
//
// It records; it refuses nothing the kernel would allow.
// SECCOMP_USER_NOTIF_FLAG_CONTINUE lets the kernel run the call with its
// arguments re-read from the process's memory after our look, and another
// thread of the process may rewrite them in between: what was recorded is
// what was asked for, not necessarily what ran. It cannot tell whether a
// continued exec succeeded. The attempts it can tell certainly fail (a
// shell trying each PATH entry, an unreadable path) it answers itself with
// the kernel's own error instead of continuing, so none of those can run
// unrecorded, however the job races it.
//
// The path is recorded as the process passed it, never resolved from here
// (/proc/self is the supervisor here); an fd-relative execveat gets the fd's
// path as the process sees it in front.
//
// Every exec it continues is recorded, or counted when the process could not
// be read; an exec whose process cannot get a pidfd (descriptors run out) is
// recorded with its exit counted as not followed. finish() reports the counts
// and reasons once as onTracingIncomplete: nothing is left out quietly. It
// raises its own RLIMIT_NOFILE soft limit to the hard limit, once (rlimits.h;
// the job still gets the caller's limits), and keeps headroom below it for
// reading /proc, so that only the pidfds run short.
//
// Single-threaded, driven by the run loop: poll pollFd() for readability and
// call handle(); it never blocks. Nothing here can be made to block by the
// job: the memory it reads cannot be userfaultfd- or FUSE-backed inside the
// sandbox (userfaultfd and mount are denied).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "sandbox/fd_util.h"
#include "sandbox/runner.h"

struct seccomp_notif;
struct seccomp_notif_resp;

namespace jobtape::sandbox {

class ExecTracer {
 public:
  // Takes ownership of the seccomp listener fd. Elapsed times are measured
  // from `startMonotonicNs` (CLOCK_MONOTONIC). Throws std::system_error.
  ExecTracer(int listenerFd, uint64_t startMonotonicNs);
  ~ExecTracer();
  ExecTracer(const ExecTracer&) = delete;
  ExecTracer& operator=(const ExecTracer&) = delete;

  // Readable when a notification or a process exit is waiting (an epoll fd
  // over the listener and the pidfds).
  int pollFd() const { return epollFd_.get(); }

  // Answers the waiting notifications and reports the exits that happened.
  // Never blocks. Throws std::system_error only when the listener itself
  // fails; a process that vanishes mid-way is simply not reported.
  void handle(RunObserver& observer);

  // After the job's tree is gone: reports every exit still outstanding (with
  // the status if the kernel kept it), then what was missed, if anything,
  // as one onTracingIncomplete; then stops following.
  void finish(RunObserver& observer);

  // The main process's first exec, as it announced it (child_report.h,
  // mainExec): its memory is pid 1's until then, which this process may
  // not read. The next notification from `hostPid` is recorded from
  // `record` (its pids still come from /proc), once.
  void expectMainExec(pid_t hostPid, ExecRecord record);

  // False once no process can raise a notification any more.
  bool listening() const { return listenerFd_.valid(); }
  // Processes followed whose exit was not reported yet.
  size_t following() const { return followed_.size(); }

 private:
  struct AnnouncedExec {
    pid_t hostPid = 0;
    ExecRecord record;
  };

  struct Followed {
    pid_t hostPid = 0;
    int32_t nsPid = 0;
    uint64_t exitNoticedNs = 0;  // 0 while running
    UniqueFd pidfd;              // the key of followed_, owned here
  };

  // Why something was not recorded; indexes the counters.
  enum Miss { descriptors, unreadable, watchLimit, kMissReasons };

  void receiveOne(RunObserver& observer);
  void record(RunObserver& observer, ExecRecord& record, pid_t hostPid, bool followedAlready);
  bool respond(uint64_t id, int error);
  UniqueFd openPidfd(pid_t hostPid, Miss& why);
  void reportShortfall(RunObserver& observer);
  int32_t nsParent(pid_t hostPpid, size_t depth) const;
  bool follow(pid_t hostPid, int32_t nsPid, UniqueFd pidfd);
  void noticeExit(int pidfd, uint64_t whenNs);
  void reportReapedExits(RunObserver& observer, bool final);
  void closeListener();
  void release() noexcept;
  uint64_t elapsedNs() const;

  UniqueFd listenerFd_;
  UniqueFd epollFd_;
  uint64_t startNs_ = 0;
  ::seccomp_notif* request_ = nullptr;
  ::seccomp_notif_resp* response_ = nullptr;
  size_t requestSize_ = 0;
  size_t responseSize_ = 0;
  std::unordered_map<int, Followed> followed_;  // by its pidfd's number
  std::unordered_map<pid_t, int> alive_;        // host pid -> pidfd, until the exit is noticed
  std::optional<AnnouncedExec> announced_;  // expectMainExec, until its notification
  size_t pidfdBudget_ = 0;  // pidfds that fit below RLIMIT_NOFILE with headroom
  uint64_t missedExecs_[kMissReasons] = {};
  uint64_t missedExits_[kMissReasons] = {};
};

}  // namespace jobtape::sandbox
