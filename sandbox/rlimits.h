// Resource limits of the job's processes (setrlimit in the main process, so
// the whole tree inherits them). Values are clamped to the caller's hard limits
// (an unprivileged process cannot raise those, and a namespace root has no
// CAP_SYS_RESOURCE over the host): asking for more than the caller may use is
// not an error, the job simply gets what the caller has.
#pragma once

#include <sys/resource.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "sandbox/child_report.h"
#include "sandbox/recipe.h"

namespace jobtape::sandbox {

class RlimitPlan {
 public:
  friend class InitPlanCodec;  // init_plan.cc: across the exec of pid 1

  // `addressSpaceBytes`: RLIMIT_AS when the memory limit falls back to it
  // (0 = none). RLIMIT_NOFILE is always set: to the recipe's value or back to
  // the caller's soft limit, since the sandbox's init raises its own.
  static RlimitPlan build(const Limits& limits, uint64_t addressSpaceBytes);

  // Child side, async-signal-safe.
  StageError apply() const noexcept;

  struct Entry {
    int resource = 0;
    struct rlimit value{};
  };
  const Entry* begin() const { return entries_.data(); }
  const Entry* end() const { return entries_.data() + count_; }

 private:
  std::array<Entry, 8> entries_{};
  size_t count_ = 0;
};

// Child side: the init holds one fd per mount while it builds the root.
void raiseOpenFileLimit() noexcept;

// Supervisor side: the exec tracer holds one pidfd per live process of the
// job. Raises this process's soft limit to the hard limit, once; the
// caller's own limit stays what RlimitPlan gives jobs, here and in every
// later run of this process. Thread-safe.
void raiseSupervisorOpenFileLimit() noexcept;

}  // namespace jobtape::sandbox
