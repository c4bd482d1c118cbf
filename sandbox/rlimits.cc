#include "sandbox/rlimits.h"

#include <cerrno>

namespace jobtape::sandbox {

RlimitPlan RlimitPlan::build(const Limits& limits, uint64_t addressSpaceBytes) {
  RlimitPlan plan;
  auto add = [&plan](int resource, uint64_t wanted) {
    struct rlimit current{};
    ::getrlimit(resource, &current);
    rlim_t value = wanted;
    if (current.rlim_max != RLIM_INFINITY && value > current.rlim_max) value = current.rlim_max;
    plan.entries_[plan.count_++] = Entry{resource, {value, value}};
  };
  struct rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
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

}  // namespace jobtape::sandbox
