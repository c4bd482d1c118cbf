#include "sandbox/exec_tracer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <seccomp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <system_error>
#include <vector>

#include "sandbox/clock.h"
#include "sandbox/linux_syscalls.h"
#include "sandbox/process_inspect.h"
#include "sandbox/rlimits.h"

namespace jobtape::sandbox {
namespace {

// Limits for one exec's argv: beyond them the list is cut short (the kernel's
// own limit is far higher, but a record is for reading, not for replaying).
constexpr size_t kMaxArgs = 4096;
constexpr size_t kMaxArgBytes = 256 * 1024;
constexpr size_t kMaxPathBytes = 4096;
// Notifications answered per handle() call before output gets its turn.
constexpr int kNotificationsPerCall = 64;
// Descriptors kept free of pidfds: reading a stopped process takes a few at
// a time, and the rest of the supervisor (output, the events file) has its own.
constexpr size_t kFdHeadroom = 64;

[[noreturn]] void fail(int error, const char* what) {
  throw std::system_error(error, std::generic_category(), what);
}

// The exit status of the process behind `pidfd`, if it was reaped and the
// kernel keeps it; fills `record`. Returns false when not (yet) known.
bool exitStatus(int pidfd, ProcessExitRecord& record) {
  int status = 0;
  if (!sys::pidfdExitStatus(pidfd, &status)) return false;
  record.statusKnown = true;
  if (WIFEXITED(status)) {
    record.exitCode = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    record.signal = WTERMSIG(status);
  }
  return true;
}

// Whether a kernel without PIDFD_INFO_EXIT will never tell the status.
bool exitInfoUnsupported(int pidfd) {
  int status = 0;
  return !sys::pidfdExitStatus(pidfd, &status) && (errno == ENOTTY || errno == EINVAL);
}

// The exec call's arguments, by system call.
struct ExecCall {
  int dirFd = AT_FDCWD;
  uint64_t path = 0;
  uint64_t argv = 0;
  bool emptyPath = false;  // execveat(fd, "", ..., AT_EMPTY_PATH): fexecve
};

ExecCall decode(const seccomp_data& data) {
  ExecCall call;
  if (data.nr == SYS_execveat) {
    call.dirFd = static_cast<int>(data.args[0]);
    call.path = data.args[1];
    call.argv = data.args[2];
    call.emptyPath = (data.args[4] & AT_EMPTY_PATH) != 0;
  } else {
    call.path = data.args[0];
    call.argv = data.args[1];
  }
  return call;
}

struct Gathered {
  ExecRecord record;
  pid_t hostPid = 0;
  pid_t hostPpid = 0;
  size_t depth = 0;  // pid namespaces the process is in
  int failsWith = 0;  // the errno the exec certainly fails with: answered, not continued
  bool unreadable = false;  // runs, but the process could not be read
  bool outOfFds = false;    // ... because we had no descriptor to read it with
};

bool fdShortage(int error) { return error == EMFILE || error == ENFILE; }

// What the process execs, as it passed it; fd-relative execveat gets the
// fd's path (as the process sees it) in front.
std::string executableOf(pid_t pid, const ExecCall& call, std::string path) {
  if (path.empty() && call.emptyPath) {
    return readFdPath(pid, call.dirFd).value_or("/dev/fd/" + std::to_string(call.dirFd));
  }
  if (call.dirFd == AT_FDCWD || path.starts_with('/')) return path;
  std::optional<std::string> dir = readFdPath(pid, call.dirFd);
  return dir ? *dir + (dir->ends_with('/') ? "" : "/") + path : path;
}

// Everything about the stopped process. Reads /proc by host pid; the caller
// checks afterwards that the notification (and so the pid) is still valid.
Gathered gather(pid_t pid, const ExecCall& call) {
  Gathered g;
  int error = 0;
  std::optional<std::string> path = readRemoteString(pid, call.path, kMaxPathBytes, &error);
  if (!path && (error == EFAULT || error == ENAMETOOLONG)) {
    g.failsWith = error;  // what the kernel answers for such a path
    return g;
  }
  if (!path) {
    g.unreadable = true;
    return g;
  }
  if (path->empty() && !call.emptyPath) {
    g.failsWith = ENOENT;
    return g;
  }
  // An absolute path ignores the fd; a relative one is judged by the kernel.
  if (!(path->empty() && call.emptyPath)) g.failsWith = certainExecError(pid, *path);
  if (g.failsWith != 0) return g;

  std::optional<ProcStatus> status = readProcStatus(pid);
  if (status && status->tgid != pid) status = readProcStatus(status->tgid);  // a thread execs
  if (!status) {
    g.outOfFds = fdShortage(errno);
    g.unreadable = true;
    return g;
  }
  g.hostPid = status->tgid;
  g.record.executable = executableOf(pid, call, std::move(*path));
  if (call.argv != 0) {
    g.record.argv = readRemoteStringArray(pid, call.argv, kMaxArgs, kMaxArgBytes).items;
  }
  g.record.pid = status->nsPids.back();
  g.hostPpid = status->hostPpid;
  g.depth = status->nsPids.size();
  g.record.cwd = readCwd(pid).value_or("");
  return g;
}

// The announced exec of `announced.hostPid`, if the stopped process `pid`
// is that process: its pids from /proc (readable whatever its memory).
std::optional<Gathered> gatherAnnounced(pid_t pid, const ExecRecord& record, pid_t announcedPid) {
  std::optional<ProcStatus> status = readProcStatus(pid);
  if (!status || status->tgid != announcedPid || status->tgid != pid) return std::nullopt;
  Gathered g;
  g.record = record;
  g.hostPid = status->tgid;
  g.record.pid = status->nsPids.back();
  g.hostPpid = status->hostPpid;
  g.depth = status->nsPids.size();
  return g;
}

// Descriptors open in this process now.
size_t openFdCount() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  size_t count = 0;
  while (const dirent* entry = ::readdir(dir)) count += entry->d_name[0] != '.';
  ::closedir(dir);
  return count;
}

}  // namespace

ExecTracer::ExecTracer(int listenerFd, uint64_t startMonotonicNs)
    : listenerFd_(listenerFd), startNs_(startMonotonicNs) {
  try {
    if (!listenerFd_) fail(EBADF, "ExecTracer: no listener fd");
    epollFd_.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!epollFd_) fail(errno, "epoll_create1");
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = listenerFd_.get();
    if (::epoll_ctl(epollFd_.get(), EPOLL_CTL_ADD, listenerFd_.get(), &event) != 0) fail(errno, "epoll_ctl");
    // Sized for the running kernel, not for the headers we were built with.
    if (int rc = seccomp_notify_alloc(&request_, &response_); rc < 0) fail(-rc, "seccomp_notify_alloc");
    seccomp_notif_sizes sizes{};
    if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) fail(errno, "SECCOMP_GET_NOTIF_SIZES");
    requestSize_ = sizes.seccomp_notif;
    responseSize_ = sizes.seccomp_notif_resp;
    // One pidfd a live process: as many as the hard limit allows.
    raiseSupervisorOpenFileLimit();
    struct rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    size_t used = openFdCount() + kFdHeadroom;
    pidfdBudget_ = files.rlim_cur > used ? static_cast<size_t>(files.rlim_cur - used) : 0;
  } catch (...) {
    release();
    throw;
  }
}

ExecTracer::~ExecTracer() { release(); }

void ExecTracer::release() noexcept {
  followed_.clear();
  alive_.clear();
  closeListener();
  epollFd_.reset();
  seccomp_notify_free(request_, response_);
  request_ = nullptr;
  response_ = nullptr;
}

void ExecTracer::expectMainExec(pid_t hostPid, ExecRecord record) {
  announced_ = AnnouncedExec{hostPid, std::move(record)};
}

uint64_t ExecTracer::elapsedNs() const {
  uint64_t now = monotonicNowNs();
  return now > startNs_ ? now - startNs_ : 0;
}

void ExecTracer::closeListener() {
  if (!listenerFd_) return;
  if (epollFd_) ::epoll_ctl(epollFd_.get(), EPOLL_CTL_DEL, listenerFd_.get(), nullptr);
  listenerFd_.reset();
}

void ExecTracer::handle(RunObserver& observer) {
  epoll_event events[64];
  int count = ::epoll_wait(epollFd_.get(), events, 64, 0);
  if (count < 0 && errno != EINTR) fail(errno, "epoll_wait");
  bool notified = false;
  bool hungUp = false;
  // Exits seen in one wait share a time: epoll does not say which came first.
  const uint64_t now = elapsedNs();
  for (int i = 0; i < count; ++i) {
    int fd = events[i].data.fd;
    if (fd == listenerFd_.get()) {
      notified = (events[i].events & EPOLLIN) != 0;
      hungUp = (events[i].events & (EPOLLHUP | EPOLLERR)) != 0;
    } else {
      noticeExit(fd, now);
    }
  }
  // Exits first: a pid seen exiting here may be the very pid that execs next.
  reportReapedExits(observer, false);
  for (int n = 0; notified && n < kNotificationsPerCall && listenerFd_; ++n) {
    receiveOne(observer);
    notified = readableNow(listenerFd_.get()) && !hungUp;
  }
  // Every process under the filter is gone: nothing can be notified again.
  if (hungUp) closeListener();
}

void ExecTracer::receiveOne(RunObserver& observer) {
  std::memset(request_, 0, requestSize_);
  if (seccomp_notify_receive(listenerFd_.get(), request_) < 0) {
    // libseccomp folds the ioctl's error into ECANCELED; errno has it.
    if (errno == ENOENT || errno == EINTR) return;  // the caller died or was interrupted
    fail(errno, "seccomp_notify_receive");
  }
  const uint64_t id = request_->id;
  const pid_t pid = static_cast<pid_t>(request_->pid);
  Gathered gathered;
  bool fromAnnouncement = false;
  try {
    std::optional<Gathered> announced;
    if (announced_) announced = gatherAnnounced(pid, announced_->record, announced_->hostPid);
    fromAnnouncement = announced.has_value();
    gathered = announced ? std::move(*announced) : gather(pid, decode(request_->data));
    if (gathered.hostPid != 0) gathered.record.ppid = nsParent(gathered.hostPpid, gathered.depth);
  } catch (...) {
    gathered = Gathered{};  // never leave the process stopped
    gathered.unreadable = true;
  }
  // A process that execs again (sh -c 'exec ls') is followed once. Decided,
  // and its pidfd opened, while it is still stopped: once it runs on, it may
  // exit at once and make its pidfd look like that of an earlier owner of
  // its pid.
  bool followedAlready = false;
  UniqueFd pidfd;
  Miss pidfdMiss = kMissReasons;
  if (gathered.hostPid != 0) {
    if (auto it = alive_.find(gathered.hostPid); it != alive_.end()) {
      followedAlready = !readableNow(it->second);
      if (!followedAlready) noticeExit(it->second, elapsedNs());  // an earlier owner of the pid
    }
    if (!followedAlready) pidfd = openPidfd(gathered.hostPid, pidfdMiss);
  }
  // Invalid: the process died or a signal interrupted the call (it restarts
  // with a new notification); this exec does not happen.
  bool valid = seccomp_notify_id_valid(listenerFd_.get(), id) == 0;

  bool continued = respond(id, gathered.failsWith) && gathered.failsWith == 0;
  if (!valid || !continued) return;
  if (fromAnnouncement) announced_.reset();  // an interrupted exec restarts: kept until one went on
  if (gathered.unreadable) {
    ++missedExecs_[gathered.outOfFds ? descriptors : unreadable];
    return;
  }
  gathered.record.elapsedNs = elapsedNs();
  observer.onExec(gathered.record);
  if (followedAlready) return;
  if (!pidfd) {
    ++missedExits_[pidfdMiss];
  } else if (!follow(gathered.hostPid, gathered.record.pid, std::move(pidfd))) {
    ++missedExits_[watchLimit];
  }
}

// Lets the call run, or answers it with -`error`. False when the answer
// came too late (ENOENT): a signal interrupted the call, which restarts with
// a new notification, or the process died. Either way nothing ran here.
bool ExecTracer::respond(uint64_t id, int error) {
  std::memset(response_, 0, responseSize_);
  response_->id = id;
  if (error != 0) {
    response_->error = -error;
  } else {
    response_->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  }
  return seccomp_notify_respond(listenerFd_.get(), response_) == 0;
}

// A pidfd for the process, within the budget; none and `why` if not.
UniqueFd ExecTracer::openPidfd(pid_t hostPid, Miss& why) {
  if (followed_.size() >= pidfdBudget_) {
    why = descriptors;
    return UniqueFd();
  }
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, hostPid, 0)));
  if (!pidfd) why = fdShortage(errno) ? descriptors : unreadable;
  return pidfd;
}

// PPid is in our pid namespace; the job wants the parent's pid in its own.
// A parent that execs was recorded already (a shell, make); else its NSpid
// says it, unless it lives outside the job's namespace (then 0, as getppid
// inside would say).
int32_t ExecTracer::nsParent(pid_t hostPpid, size_t depth) const {
  if (auto it = alive_.find(hostPpid); it != alive_.end()) return followed_.at(it->second).nsPid;
  std::optional<ProcStatus> parent = readProcStatus(hostPpid);
  return parent && parent->nsPids.size() == depth ? parent->nsPids.back() : 0;
}

bool ExecTracer::follow(pid_t hostPid, int32_t nsPid, UniqueFd pidfd) {
  int key = pidfd.get();
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = key;
  if (::epoll_ctl(epollFd_.get(), EPOLL_CTL_ADD, key, &event) != 0) return false;  // max_user_watches
  followed_[key] = Followed{hostPid, nsPid, 0, std::move(pidfd)};
  alive_[hostPid] = key;
  return true;
}

void ExecTracer::noticeExit(int pidfd, uint64_t whenNs) {
  auto it = followed_.find(pidfd);
  if (it == followed_.end() || it->second.exitNoticedNs != 0) return;
  ::epoll_ctl(epollFd_.get(), EPOLL_CTL_DEL, pidfd, nullptr);
  it->second.exitNoticedNs = std::max<uint64_t>(whenNs, 1);
  if (auto alive = alive_.find(it->second.hostPid); alive != alive_.end() && alive->second == pidfd) {
    alive_.erase(alive);
  }
}

// The status is kept by the kernel only once the process is reaped (by the
// job's init, normally at once); until then its exit waits here. `final`:
// the tree is gone, report what is known.
void ExecTracer::reportReapedExits(RunObserver& observer, bool final) {
  std::vector<ProcessExitRecord> ready;
  for (auto it = followed_.begin(); it != followed_.end();) {
    const Followed& followed = it->second;
    if (followed.exitNoticedNs == 0) {
      ++it;
      continue;
    }
    ProcessExitRecord record;
    record.elapsedNs = followed.exitNoticedNs;
    record.pid = followed.nsPid;
    if (exitStatus(it->first, record) || final || exitInfoUnsupported(it->first)) {
      ready.push_back(record);
      it = followed_.erase(it);  // closes the pidfd
    } else {
      ++it;
    }
  }
  std::stable_sort(ready.begin(), ready.end(),
            [](const ProcessExitRecord& a, const ProcessExitRecord& b) { return a.elapsedNs < b.elapsedNs; });
  for (const ProcessExitRecord& record : ready) observer.onProcessExit(record);
}

void ExecTracer::finish(RunObserver& observer) {
  handle(observer);
  const uint64_t now = elapsedNs();
  for (auto& [pidfd, followed] : followed_) {
    if (followed.exitNoticedNs == 0) noticeExit(pidfd, now);
  }
  reportReapedExits(observer, true);
  closeListener();
  reportShortfall(observer);
}

void ExecTracer::reportShortfall(RunObserver& observer) {
  static constexpr const char* kReasons[kMissReasons] = {
      "out of descriptors", "process could not be read", "epoll watch limit reached"};
  TracingShortfall shortfall;
  for (int reason = 0; reason < kMissReasons; ++reason) {
    shortfall.missedExecs += missedExecs_[reason];
    shortfall.missedExits += missedExits_[reason];
    if (missedExecs_[reason] + missedExits_[reason] == 0) continue;
    if (!shortfall.reason.empty()) shortfall.reason += ", ";
    shortfall.reason += kReasons[reason];
  }
  if (shortfall.reason.empty()) return;
  shortfall.elapsedNs = elapsedNs();
  observer.onTracingIncomplete(shortfall);
  std::fill(std::begin(missedExecs_), std::end(missedExecs_), 0);
  std::fill(std::begin(missedExits_), std::end(missedExits_), 0);
}

}  // namespace jobtape::sandbox
