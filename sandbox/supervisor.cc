#include "sandbox/supervisor.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <system_error>
#include <vector>

#include "sandbox/exec_plan.h"
#include "sandbox/exec_tracer.h"
#include "sandbox/input_relay.h"
#include "sandbox/job_terminal.h"
#include "sandbox/linux_syscalls.h"
#include "sandbox/pseudo_terminal.h"

namespace jobtape::sandbox {

namespace {

constexpr uint64_t kMsNs = 1'000'000;
constexpr size_t kChunk = 64 * 1024;

class Loop {
 public:
  Loop(SupervisedChild& child, const SupervisorConfig& config, RunObserver& observer)
      : child_(child), config_(config), observer_(observer), buffer_(new char[kChunk]) {
    if (config.timeoutMs > 0) timeoutAt_ = config.startNs + config.timeoutMs * kMsNs;
  }

  SupervisionReport run() {
    while (!finished()) {
      buildPollSet();
      int rc = ::poll(fds_.data(), fds_.size(), pollTimeoutMs());
      if (rc < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "poll");
      if (rc > 0) dispatch();
      if (!child_.pidfd && !ended()) reap();
      checkDeadlines();
    }
    if (tracer_) tracer_->finish(observer_);
    report_.endNs = monotonicNowNs();
    return std::move(report_);
  }

 private:
  enum Source { channel, pidfd, mainPidfd, out, err, cancel, tracer, ptyOut, ptyIn, winch, input, inputSpace,
                callerWinch };

  bool finished() const {
    bool streamsDone = !child_.channel && !child_.stdoutRead && !child_.stderrRead && !child_.ptyMaster;
    return ended() && (streamsDone || drainExpired());
  }
  // pid 1 has reported the tree's end and closed its files: its exit (the
  // namespace teardown) need not be waited for.
  bool ended() const { return report_.reaped || (treeReported_ && !child_.channel); }
  bool drainExpired() const { return drainUntil_ != 0 && monotonicNowNs() >= drainUntil_; }

  void add(int fd, Source source, short events = POLLIN) {
    if (fd < 0) return;
    fds_.push_back({fd, events, 0});
    sources_.push_back(source);
  }

  void buildPollSet() {
    fds_.clear();
    sources_.clear();
    add(child_.channel.get(), channel);
    if (!ended()) add(child_.pidfd.get(), pidfd);
    if (!ended() && !mainEnded_) add(mainFd_.get(), mainPidfd);
    add(child_.stdoutRead.get(), out);
    add(child_.stderrRead.get(), err);
    if (config_.cancellation != nullptr && !cancelSeen_ && !ended()) add(config_.cancellation->fd(), cancel);
    if (tracer_ && tracerOpen_) add(tracer_->pollFd(), tracer);
    add(child_.ptyMaster.get(), ptyOut);
    if (config_.terminal != nullptr && child_.ptyMaster) {
      add(config_.terminal->inputFd(), ptyIn);
      add(config_.terminal->winchFd(), winch);
    }
    if (config_.input != nullptr && !ended()) {
      add(config_.input->readableFd(), input);
      add(config_.input->writableFd(), inputSpace, POLLOUT);
    }
    if (config_.callerTerminal != nullptr) add(config_.callerTerminal->winchFd(), callerWinch);
  }

  int pollTimeoutMs() const {
    uint64_t next = 0;
    for (uint64_t at : {timeoutAt_, killAt_, drainUntil_}) {
      if (at != 0 && (next == 0 || at < next)) next = at;
    }
    // Without a pidfd (kernels before 5.3) the child's end is found by asking.
    if (!child_.pidfd && !ended()) return 20;
    if (next == 0) return -1;
    uint64_t now = monotonicNowNs();
    return next <= now ? 0 : static_cast<int>((next - now + kMsNs - 1) / kMsNs);
  }

  void dispatch() {
    for (size_t i = 0; i < fds_.size(); ++i) {
      if (fds_[i].revents == 0) continue;
      switch (sources_[i]) {
        case channel: readChannel(); break;
        case pidfd: reap(); break;
        case mainPidfd: onMainEnded(); break;
        case out: readOutput(child_.stdoutRead, Stream::stdout_); break;
        case err: readOutput(child_.stderrRead, Stream::stderr_); break;
        case cancel:
          cancelSeen_ = true;
          stopTree(config_.cancellation->signal(), false);
          break;
        case tracer: runTracer(fds_[i].revents); break;
        case ptyOut: readOutput(child_.ptyMaster, Stream::stdout_); break;
        case ptyIn: config_.terminal->forwardInput(); break;
        case winch: config_.terminal->forwardWindowSize(); break;
        case input: config_.input->onReadable(); break;
        case inputSpace: config_.input->onWritable(); break;
        case callerWinch:
          config_.callerTerminal->forwardWindowSize(child_.stdoutRead.get(), child_.stderrRead.get());
          break;
      }
    }
  }

  void readOutput(UniqueFd& fd, Stream stream) {
    ssize_t n = ::read(fd.get(), buffer_.get(), kChunk);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {  // EOF; EIO on a pty master once every slave is closed
      if (&fd == &child_.stdoutRead && config_.input != nullptr) config_.input->setTerminalTarget(-1);
      fd.reset();
      return;
    }
    uint64_t now = monotonicNowNs();
    if (config_.terminal != nullptr && &fd == &child_.ptyMaster) config_.terminal->writeOutput(buffer_.get(), n);
    observer_.onOutput(stream, now - config_.startNs, std::span<const char>(buffer_.get(), static_cast<size_t>(n)));
  }

  void readChannel() {
    std::optional<ReceivedMessage> received = receiveChildMessage(child_.channel.get());
    if (!received) {
      child_.channel.reset();
      if (treeReported_ && !report_.reaped) settle();
      return;
    }
    const ChildMessage& m = received->message;
    const pid_t from = received->senderPid;
    const bool fromInit = from == child_.pid;  // unsandboxed: the main process itself
    const bool fromMain = child_.sandboxed ? mainPid_ != 0 && from == mainPid_ : fromInit;
    switch (m.kind) {
      case ChildMessage::setupError:
        if ((fromInit || fromMain) && !report_.setupError) report_.setupError = m;
        break;
      case ChildMessage::execFailed:
        if (fromMain) report_.execFailed = m;
        break;
      case ChildMessage::mainStarted:
        if (child_.sandboxed && mainPid_ == 0 && from > 0 && !fromInit) onMainStarted(from, std::move(received->fd));
        break;
      case ChildMessage::mainExec:
        if (fromMain && child_.sandboxed && !mainExecSeen_) onMainExec(m.index, std::move(received->text));
        break;
      case ChildMessage::mainExited:
        if (child_.sandboxed && fromInit && !treeReported_ && mainHasEnded()) onTreeReported(m);
        break;
      case ChildMessage::execListener:
        if (fromInit && received->fd && !tracer_) {
          tracer_ = std::make_unique<ExecTracer>(received->fd.release(), config_.startNs);
          tracerOpen_ = true;
        }
        break;
      case ChildMessage::terminalMaster:
        if (child_.sandboxed && fromInit && received->fd) takeTerminalMaster(m.index, std::move(received->fd));
        break;
      default: break;
    }
  }

  // A master of the job's terminals (job_terminal.h), read like a pipe.
  void takeTerminalMaster(int index, UniqueFd master) {
    if (index != 0 && index != 1) return;
    UniqueFd& slot = index == 0 ? child_.stdoutRead : child_.stderrRead;
    if (slot) return;
    slot = std::move(master);
    if (index == 0 && config_.input != nullptr) config_.input->setTerminalTarget(slot.get());
  }

  // The main process sends a pidfd of itself (child_report.h). One that
  // sent none waits for the answer, so its pid is still its own when it is
  // opened here; without pidfds (Linux < 5.3) pid 1's word is all there is.
  void onMainStarted(pid_t pid, UniqueFd pidfd) {
    mainPid_ = pid;
    if (pidfd) {
      mainFd_ = std::move(pidfd);
    } else {
      mainFd_.reset(sys::pidfdOpen(pid));
      (void)sendMainAck(child_.channel.get());
    }
    if (config_.mainStarted) config_.mainStarted();
  }

  // The exec the main process is about to make, which the tracer may not
  // read from its memory (child_report.h): the plan's candidate it named.
  void onMainExec(int index, std::string cwd) {
    mainExecSeen_ = true;
    const ExecPlan* plan = config_.exec;
    if (!tracer_ || plan == nullptr || index < 0 || static_cast<size_t>(index) >= plan->candidates().size()) return;
    ExecRecord record;
    record.executable = plan->candidates()[static_cast<size_t>(index)];
    record.argv = plan->argv();
    record.cwd = std::move(cwd);
    tracer_->expectMainExec(mainPid_, std::move(record));
  }

  bool mainHasEnded() {
    if (mainEnded_) return true;
    if (mainPid_ == 0) return false;
    if (mainFd_) {
      struct pollfd p{mainFd_.get(), POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) return false;
    }
    onMainEnded();
    return true;
  }

  // The job ends with its main process: no more timeout or cancellation,
  // and pid 1 has the grace period to kill and reap the rest and report.
  void onMainEnded() {
    if (mainEnded_) return;
    mainEnded_ = true;
    timeoutAt_ = 0;
    killAt_ = monotonicNowNs() + config_.graceMs * kMsNs;
  }

  // pid 1 has reaped the whole tree. It is killed all the same, through its
  // pidfd: whatever it would still do, its death ends the namespace. (Read
  // after pid 1 was reaped, the report only adds how main ended.)
  void onTreeReported(const ChildMessage& m) {
    report_.mainExited = m;
    report_.mainExited->syscallNr = -1;
    if (!mainStatusFromKernel() || isSigsys(*report_.mainExited)) report_.mainExited->syscallNr = m.syscallNr;
    if (report_.reaped) return;
    report_.usage = m.treeUsage;
    treeReported_ = true;
    signalTree(SIGKILL);
  }

  static bool isSigsys(const ChildMessage& m) { return m.waitCode != CLD_EXITED && m.waitStatus == SIGSYS; }

  // The kernel's own account of the main process's end (Linux 6.15+, once
  // pid 1 or the namespace's end reaped it) over any report.
  bool mainStatusFromKernel() {
    int status = 0;
    if (!mainFd_ || !sys::pidfdExitStatus(mainFd_.get(), &status)) return false;
    if (!report_.mainExited) {
      report_.mainExited = ChildMessage{};
      report_.mainExited->kind = ChildMessage::mainExited;
    }
    ChildMessage& m = *report_.mainExited;
    m.waitCode = WIFEXITED(status) ? CLD_EXITED : WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED;
    m.waitStatus = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
    return true;
  }

  void runTracer(short revents) {
    // A mainExec record is queued before the exec it announces can stop in
    // a notification: read what the channel holds first.
    while (child_.channel && mainPid_ != 0 && !mainExecSeen_ && readableNow(child_.channel.get())) readChannel();
    tracer_->handle(observer_);
    if ((revents & (POLLHUP | POLLERR | POLLNVAL)) != 0 && !tracer_->listening() && tracer_->following() == 0) {
      tracerOpen_ = false;
    }
  }

  void reap() {
    int status = 0;
    pid_t got = ::wait4(child_.pid, &status, WNOHANG, &report_.usage);
    if (got < 0 && errno == ECHILD) {
      // Somebody else reaped it (an embedding program that ignores SIGCHLD or
      // waits for any child): the status is gone, the end is not.
      report_.statusLost = true;
    } else if (got != child_.pid) {
      return;
    }
    report_.waitStatus = status;
    report_.reaped = true;
    // pid 1 died before its report (killed after the grace period): the
    // namespace went with it, and the kernel may still tell how main ended.
    if (child_.sandboxed && !treeReported_) (void)mainStatusFromKernel();
    if (!child_.sandboxed) {
      // Whatever is left of the group goes with its leader.
      ::kill(-child_.pid, SIGKILL);
    }
    settle();
  }

  // The tree is over: no more deadlines, only the pipes' last bytes.
  void settle() {
    killAt_ = 0;
    timeoutAt_ = 0;
    drainUntil_ = monotonicNowNs() + config_.graceMs * kMsNs;
  }

  void signalTree(int sig) {
    if (child_.sandboxed) {
      // pid 1 forwards to the namespace, then SIGCONT. Through its pidfd: a
      // pid 1 already reaped cannot have its pid reused under us.
      if (!child_.pidfd || sys::pidfdSendSignal(child_.pidfd.get(), sig) < 0) {
        if (!child_.pidfd || errno == ENOSYS) ::kill(child_.pid, sig);
      }
      return;
    }
    ::kill(-child_.pid, sig);
    ::kill(child_.pid, sig);  // in case it has not called setsid() yet
    if (sig != SIGKILL && sig != SIGCONT) ::kill(-child_.pid, SIGCONT);
  }

  void stopTree(int sig, bool timeout) {
    if (ended() || mainEnded_ || killAt_ != 0) return;
    if (timeout) {
      report_.timedOut = true;
    } else {
      report_.cancelSignal = sig;
    }
    signalTree(sig);
    killAt_ = monotonicNowNs() + config_.graceMs * kMsNs;
  }

  void checkDeadlines() {
    uint64_t now = monotonicNowNs();
    if (timeoutAt_ != 0 && now >= timeoutAt_) {
      timeoutAt_ = 0;
      stopTree(SIGTERM, true);
    }
    if (killAt_ != 0 && now >= killAt_ && !ended()) {
      killAt_ = 0;
      signalTree(SIGKILL);
    }
  }

  SupervisedChild& child_;
  const SupervisorConfig& config_;
  RunObserver& observer_;
  // Not zeroed: read(2) fills what is used; zeroing cost every job a 64 KiB
  // memset.
  std::unique_ptr<char[]> buffer_;
  std::vector<struct pollfd> fds_;
  std::vector<Source> sources_;
  SupervisionReport report_;
  std::unique_ptr<ExecTracer> tracer_;
  bool tracerOpen_ = false;
  bool cancelSeen_ = false;
  bool treeReported_ = false;  // pid 1's mainExited, with the tree's usage
  pid_t mainPid_ = 0;          // from mainStarted, as the kernel stamped it
  bool mainExecSeen_ = false;  // its mainExec record was read
  UniqueFd mainFd_;            // its pidfd
  bool mainEnded_ = false;     // mainFd_ said so (or pid 1 did, without pidfds)
  uint64_t timeoutAt_ = 0;
  uint64_t killAt_ = 0;
  uint64_t drainUntil_ = 0;
};

}  // namespace

SupervisionReport supervise(SupervisedChild& child, const SupervisorConfig& config, RunObserver& observer) {
  return Loop(child, config, observer).run();
}

}  // namespace jobtape::sandbox
