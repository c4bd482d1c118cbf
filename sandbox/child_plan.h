// What the sandbox's pid 1 reads: everything the supervisor planned before
// the clone (runner.cc), consumed by the init program (sandbox_init.h) after
// it crossed the exec in an InitPlan message (init_plan.h).
#pragma once

#include <cstdint>
#include <string>

#include "sandbox/exec_plan.h"
#include "sandbox/job_terminal.h"
#include "sandbox/mount_tree.h"
#include "sandbox/rlimits.h"
#include "sandbox/seccomp_policy.h"

namespace jobtape::sandbox {

struct ChildPlan {
  bool sandboxed = true;  // false: record only, pid 1 is the only isolation
  bool network = false;
  int controllingTerminal = -1;  // the main process's fd to make its terminal
  bool sandboxTerminals = false;  // pid 1 opens the job's terminals (job_terminal.h)
  JobTerminalPlan terminalPlan;
  bool traceExecs = false;
  int channel = -1;
  uint64_t unshareFlags = 0;    // namespaces pid 1 creates itself
  int stdio[3] = {-1, -1, -1};  // become 0, 1, 2; -1 keeps the caller's
  const char* hostname = "jobtape";
  const MountPlan* mounts = nullptr;
  const RlimitPlan* rlimits = nullptr;
  const ExecPlan* exec = nullptr;
  const SeccompProgram* seccomp = nullptr;  // nullptr when record only
};

// A ChildPlan with the parts it points to, as the init program decodes it.
struct OwnedChildPlan {
  OwnedChildPlan() = default;
  OwnedChildPlan(const OwnedChildPlan&) = delete;
  OwnedChildPlan& operator=(const OwnedChildPlan&) = delete;

  std::string hostname;
  MountPlan mounts;
  RlimitPlan rlimits;
  ExecPlan exec;
  SeccompProgram seccomp;
  ChildPlan plan;  // points into the members above
};

}  // namespace jobtape::sandbox
