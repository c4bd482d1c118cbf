#include "sandbox/run_outcome.h"

#include <seccomp.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstring>

#include <fmt/format.h>

#include "sandbox/seccomp_policy.h"
#include "sandbox/setup_error.h"

namespace jobtape::sandbox {

namespace {

uint64_t timevalNs(const struct timeval& tv) {
  return static_cast<uint64_t>(tv.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(tv.tv_usec) * 1000u;
}

void describeExecFailure(RunResult& r, const ChildMessage& m, const Recipe& recipe) {
  int e = m.error;
  if (e == ENOENT || e == ENOTDIR) {
    r.outcome = Outcome::commandNotFound;
    r.exitCode = kExitNotFound;
    r.message = (m.flags & kExecFileFound) != 0
                    ? fmt::format("{}: its interpreter or dynamic loader is missing inside the sandbox", recipe.command)
                    : fmt::format("{}: command not found", recipe.command);
    return;
  }
  if (e == EACCES || e == ENOEXEC || e == EISDIR || e == EPERM || e == ELOOP || e == ETXTBSY || e == ENAMETOOLONG) {
    r.outcome = Outcome::notExecutable;
    r.exitCode = kExitNotExecutable;
    r.message = fmt::format("{}: cannot execute: {}", recipe.command, std::strerror(e));
    return;
  }
  r.outcome = Outcome::setupFailed;
  r.exitCode = kExitSetupFailed;
  r.setupStep = setupStepName(SetupStep::exec);
  r.setupErrno = e;
  r.message = fmt::format("{}: execve failed: {}", recipe.command, std::strerror(e));
}

// How the main process ended: the record from pid 1, or (unsandboxed, or pid
// 1 itself killed) the outer child's wait status.
void mainStatus(const SupervisionReport& report, bool& signaled, int& value) {
  if (report.mainExited) {
    signaled = report.mainExited->waitCode != CLD_EXITED;
    value = report.mainExited->waitStatus;
  } else if (WIFSIGNALED(report.waitStatus)) {
    signaled = true;
    value = WTERMSIG(report.waitStatus);
  } else {
    signaled = false;
    value = WEXITSTATUS(report.waitStatus);
  }
}

// What /proc/PID/syscall said the killed process called (-1: nothing). On
// x86_64 an x32 call is the native number with bit 30 set: never native,
// always the foreign-architecture rule.
std::string violatingSyscallName(int64_t nr) {
  if (nr < 0) return kForeignArchitectureViolation;
#if defined(__x86_64__)
  constexpr int64_t kX32Bit = 0x40000000;
  if ((nr & kX32Bit) != 0) {
    return fmt::format("{} (x32 {})", kForeignArchitectureViolation,
                       syscallName(SCMP_ARCH_X32, static_cast<int>(nr)));
  }
#endif
  return syscallName(seccomp_arch_native(), static_cast<int>(nr));
}

void describeEnd(RunResult& r, const SupervisionReport& report, const OutcomeContext& context) {
  if (!report.mainExited && report.statusLost) {
    r.outcome = Outcome::exited;
    r.exitCode = 255;
    r.message = "exit status lost: the process was reaped outside jobtape (is SIGCHLD ignored?)";
    return;
  }
  bool signaled = false;
  int value = 0;
  mainStatus(report, signaled, value);
  if (!signaled) {
    r.outcome = Outcome::exited;
    r.exitCode = value;
    r.message = fmt::format("exited with status {}", value);
    return;
  }
  r.signal = value;
  r.exitCode = 128 + value;
  if (value == SIGSYS && context.sandboxed) {
    r.outcome = Outcome::seccompViolation;
    int64_t nr = report.mainExited ? report.mainExited->syscallNr : -1;
    r.violatingSyscall = violatingSyscallName(nr);
    r.message = fmt::format("killed by the seccomp policy: {}", r.violatingSyscall);
    return;
  }
  r.outcome = Outcome::signaled;
  r.message = value == SIGKILL && context.oomKilled ? std::string("killed by the out-of-memory killer (memory limit)")
                                                    : fmt::format("killed by signal {} ({})", value, sigabbrev_np(value) ? sigabbrev_np(value) : "?");
}

}  // namespace

ResourceUsage resourceUsageFrom(const struct rusage& u) {
  ResourceUsage r;
  r.userCpu = std::chrono::nanoseconds(timevalNs(u.ru_utime));
  r.systemCpu = std::chrono::nanoseconds(timevalNs(u.ru_stime));
  r.maxRssBytes = static_cast<uint64_t>(u.ru_maxrss) * 1024u;
  r.minorFaults = static_cast<uint64_t>(u.ru_minflt);
  r.majorFaults = static_cast<uint64_t>(u.ru_majflt);
  r.inBlocks = static_cast<uint64_t>(u.ru_inblock);
  r.outBlocks = static_cast<uint64_t>(u.ru_oublock);
  r.voluntarySwitches = static_cast<uint64_t>(u.ru_nvcsw);
  r.involuntarySwitches = static_cast<uint64_t>(u.ru_nivcsw);
  return r;
}

RunResult setupFailure(SetupStep step, int error, const std::string& detail) {
  RunResult r;
  r.outcome = Outcome::setupFailed;
  r.exitCode = kExitSetupFailed;
  r.setupStep = setupStepName(step);
  r.setupErrno = error;
  r.message = fmt::format("sandbox setup failed at {}: {}{}", r.setupStep, std::strerror(error), detail);
  return r;
}

RunResult describeOutcome(const SupervisionReport& report, const OutcomeContext& context) {
  const Recipe& recipe = *context.recipe;
  RunResult r;
  if (report.setupError) {
    const ChildMessage& m = *report.setupError;
    r = setupFailure(m.step, m.error, setupErrorDetail(recipe, m.step, m.error, m.index));
  } else if (report.execFailed) {
    describeExecFailure(r, *report.execFailed, recipe);
  } else {
    describeEnd(r, report, context);
    if (report.cancelSignal != 0) {
      r.outcome = Outcome::cancelled;
      r.signal = report.cancelSignal;
      r.exitCode = 128 + report.cancelSignal;
      r.message = fmt::format("cancelled with signal {}", report.cancelSignal);
    } else if (report.timedOut) {
      r.outcome = Outcome::timedOut;
      r.exitCode = kExitTimedOut;
      r.message = fmt::format("timed out after {} ms", recipe.limits.timeoutMs);
    }
  }
  r.rusage = resourceUsageFrom(report.usage);
  r.wallNs = report.endNs > context.startNs ? report.endNs - context.startNs : 0;
  return r;
}

}  // namespace jobtape::sandbox
