#include "sandbox/rlimits.h"

#include <cerrno>
#include <mutex>

namespace jobtape::sandbox {
namespace {

std::mutex callerFilesMutex;
bool raised = false;
struct rlimit callerFiles{};  // before raiseSupervisorOpenFileLimit, once raised

// RLIMIT_NOFILE as the caller set it.
struct rlimit callerOpenFileLimit() {
  std::lock_guard lock(callerFilesMutex);
  struct rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  if (raised && callerFiles.rlim_cur < files.rlim_cur) files.rlim_cur = callerFiles.rlim_cur;
  return files;
}

}  // namespace

RlimitPlan RlimitPlan::build(const Limits& limits, uint64_t addressSpaceBytes) {
  RlimitPlan plan;
  auto add = [&plan](int resource, uint64_t wanted) {
    struct rlimit current{};
    ::getrlimit(resource, &current);
    rlim_t value = wanted;
    if (current.rlim_max != RLIM_INFINITY && value > current.rlim_max) value = current.rlim_max;
    plan.entries_[plan.count_++] = Entry{resource, {value, value}};
  };
  struct rlimit files = callerOpenFileLimit();
  if (limits.maxOpenFiles != 0) {
    add(RLIMIT_NOFILE, limits.maxOpenFiles);
  } else {
    plan.entries_[plan.count_++] = Entry{RLIMIT_NOFILE, files};
  }
  if (limits.maxProcesses != 0) add(RLIMIT_NPROC, limits.maxProcesses);
  if (limits.cpuSeconds != 0) add(RLIMIT_CPU, limits.cpuSeconds);
  if (limits.maxFileBytes != 0) add(RLIMIT_FSIZE, limits.maxFileBytes);
  if (addressSpaceBytes != 0) add(RLIMIT_AS, addressSpaceBytes);
  return plan;
}

StageError RlimitPlan::apply() const noexcept {
  for (const Entry& e : *this) {
    if (::setrlimit(e.resource, &e.value) < 0) return {SetupStep::rlimits, errno, e.resource};
  }
  return {};
}

void raiseOpenFileLimit() noexcept {
  struct rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
}

void raiseSupervisorOpenFileLimit() noexcept {
  std::lock_guard lock(callerFilesMutex);
  struct rlimit files{};
  if (raised || ::getrlimit(RLIMIT_NOFILE, &files) != 0) return;
  callerFiles = files;
  raised = true;
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
}

}  // namespace jobtape::sandbox
